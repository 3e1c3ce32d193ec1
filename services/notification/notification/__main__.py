from notification.main import build_runtime
from notification.seed import seed
from pm_platform.service_cli import make_cli

make_cli("notification", build_runtime, "notification.main:create", seed)()
