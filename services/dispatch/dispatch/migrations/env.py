import dispatch.main  # noqa: F401  (imports every model onto the metadata)
from dispatch.database import Base
from pm_platform.migrations import run_env

run_env(Base.metadata)
