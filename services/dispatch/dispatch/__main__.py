from dispatch.main import build_runtime
from dispatch.seed import seed
from pm_platform.service_cli import make_cli

make_cli("dispatch", build_runtime, "dispatch.main:create", seed)()
