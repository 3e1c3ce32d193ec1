import billing.main  # noqa: F401  (imports every model onto the metadata)
from billing.database import Base
from pm_platform.migrations import run_env

run_env(Base.metadata)
