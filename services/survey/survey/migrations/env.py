import survey.main  # noqa: F401  (imports every model onto the metadata)
from pm_platform.migrations import run_env
from survey.database import Base

run_env(Base.metadata)
