from intake.main import build_runtime
from intake.seed import seed
from pm_platform.service_cli import make_cli

make_cli("intake", build_runtime, "intake.main:create", seed)()
