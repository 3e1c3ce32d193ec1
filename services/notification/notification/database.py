from pm_platform.db import ServiceBase, define_platform_tables, service_metadata


class Base(ServiceBase):
    __abstract__ = True
    metadata = service_metadata()


platform_tables = define_platform_tables(Base.metadata)
