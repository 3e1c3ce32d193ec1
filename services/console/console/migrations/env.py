import console.main  # noqa: F401  (imports every model onto the metadata)
from console.account import models  # noqa: F401
from console.database import Base
from console.portal import models as portal_models  # noqa: F401
from pm_platform.migrations import run_env

run_env(Base.metadata)
