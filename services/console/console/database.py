from pm_platform.db import ServiceBase, service_metadata


class Base(ServiceBase):
    """The console's tables: staff accounts and their sessions only (no domain data, no outbox)."""

    __abstract__ = True
    metadata = service_metadata()
