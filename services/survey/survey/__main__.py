from pm_platform.service_cli import make_cli
from survey.main import build_runtime
from survey.seed import seed

make_cli("survey", build_runtime, "survey.main:create", seed)()
