from billing.main import build_runtime
from billing.seed import seed
from pm_platform.service_cli import make_cli

make_cli("billing", build_runtime, "billing.main:create", seed)()
