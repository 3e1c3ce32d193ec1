"""Database plumbing: async engine per service and the platform tables every service carries.

The platform tables are Core tables added to each service's own metadata, so every service owns its
outbox, inbox, dead letters and timers in its own database.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import Select
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet

from pm_platform import sqlite_inline
from pm_platform.auth import Principal
from pm_platform.envelope import as_utc
from pm_platform.errors import NotFound

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """An instant, stored and read as timezone-aware UTC on every backend.

    SQLite keeps no offset: a ``+08:00`` appointment would be stored as its wall time and read back as
    UTC, eight hours off. So values are converted to UTC before they are stored (naive ones count as
    UTC) and marked UTC when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def where_set(column: str) -> dict[str, Any]:
    """``Index(..., **where_set("late_fee_of"))``: a partial index of the rows where the column is set, on
    PostgreSQL and SQLite alike. For a column most rows leave empty, whose inserts then skip the index."""
    condition = text(f"{column} IS NOT NULL")
    return {"postgresql_where": condition, "sqlite_where": condition}


def service_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class ServiceBase(DeclarativeBase):
    """Subclass once per service (``class Base(ServiceBase): metadata = service_metadata()``)."""

    __abstract__ = True


@dataclass(frozen=True)
class PlatformTables:
    outbox: Table
    inbox: Table
    dead_letters: Table
    timers: Table
    request_traces: Table


def define_platform_tables(metadata: MetaData) -> PlatformTables:
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("subject", String(255), nullable=False),
        Column("type", String(128), nullable=False),
        Column("payload", Text, nullable=False),
        Column("traceparent", String(64)),
        # The rest of the W3C trace context of the writing transaction (tracestate: up to 32 vendor
        # entries; baggage: up to 8 KiB), published with the row.
        Column("tracestate", Text),
        Column("baggage", Text),
        # pending -> published; attempts and last_error tell an operator why a row is stuck.
        Column("status", String(16), nullable=False, default="pending"),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("next_attempt_at", UtcDateTime(), nullable=False),
        Column("published_at", UtcDateTime()),
        Index("ix_outbox_status_id", "status", "id"),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(128), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(128), nullable=False),
        Column("received_at", UtcDateTime(), nullable=False),
    )
    dead_letters = Table(
        "dead_letters",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("consumer", String(128), nullable=False),
        Column("stream", String(64)),
        Column("stream_sequence", BigInteger),
        Column("subject", String(255), nullable=False),
        Column("event_id", String(64)),
        Column("event_type", String(128)),
        Column("payload", Text, nullable=False),
        Column("headers", Text),
        # contract (not retried) or transient (retries exhausted)
        Column("kind", String(16), nullable=False),
        Column("reason", Text, nullable=False),
        Column("deliveries", Integer, nullable=False, default=1),
        # open -> replayed | discarded
        Column("status", String(16), nullable=False, default="open"),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("resolved_at", UtcDateTime()),
        Index("ix_dead_letters_status", "status", "id"),
    )
    timers = Table(
        "timers",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("kind", String(64), nullable=False),
        Column("key", String(128), nullable=False),
        Column("due_at", UtcDateTime(), nullable=False),
        Column("payload", Text, nullable=False, default="{}"),
        # pending -> fired | cancelled
        Column("status", String(16), nullable=False, default="pending"),
        Column("fired_at", UtcDateTime()),
        # The W3C trace context that scheduled the timer: it fires inside it (the request's trace).
        Column("traceparent", String(64)),
        Column("tracestate", Text),
        Column("baggage", Text),
        Index("ix_timers_status_due", "status", "due_at"),
        Index("uq_timers_kind_key", "kind", "key", unique=True),
    )
    # The trace each correlation (an owner's request) lives in, as this service first saw it: an HTTP
    # step on the request's aggregate links to it and its events continue it (``UnitOfWork.join_request``).
    request_traces = Table(
        "request_traces",
        metadata,
        Column("correlation_id", String(128), primary_key=True),
        Column("traceparent", String(64), nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Index("ix_request_traces_created_at", "created_at"),
    )
    return PlatformTables(
        outbox=outbox, inbox=inbox, dead_letters=dead_letters, timers=timers, request_traces=request_traces
    )


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            # A file: its statements run on the loop's thread (pm_platform.sqlite_inline), a quarter less CPU per
            # request than aiosqlite's thread hand-overs in the front-door bench.
            engine = create_async_engine(url, async_creator=sqlite_inline.creator(path, 30), **kwargs)
        else:
            engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        writer = WriteLock(timeout=30)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers run beside the single writer; NORMAL is durable across process crashes.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            # Take the write lock at BEGIN: a deferred transaction that reads and then writes fails with
            # "database is locked" when another writer committed in between.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin_immediate(connection: Any) -> None:
            # A read-only transaction (READ_ONLY options) must not hold the write lock against the writers.
            read_only = connection.get_execution_options().get("pm_read_only", False)
            if not read_only:
                writer.acquire(connection.connection.info)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        @event.listens_for(engine.sync_engine.pool, "checkin")
        def _sqlite_writer_done(_dbapi_connection: Any, record: Any) -> None:
            writer.release(record.info)

        @event.listens_for(engine.sync_engine.pool, "detach")
        def _sqlite_writer_gone(_dbapi_connection: Any, record: Any) -> None:
            writer.release(record.info)

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, **kwargs)


class WriteLock:
    """One writing transaction at a time per SQLite database in this process, handed over in arrival order.

    SQLite has one writer per file; without this, the process's connections (HTTP handlers, consumers, the
    relay, timers) each take BEGIN IMMEDIATE and the losers poll in SQLite's busy handler, sleeping up to
    100 ms between tries: long tails and wasted wake-ups. With it, a writer waits on an asyncio lock and
    starts the moment the previous one's connection goes back to the pool. Held from BEGIN IMMEDIATE until
    the connection is checked in (a session hands its connection back at commit or rollback)."""

    HELD = "pm_write_lock"

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def acquire(self, info: dict[str, Any]) -> None:
        if info.get(self.HELD) or not in_greenlet():
            return  # already this connection's (a second transaction before checkin); or a plain sync use
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:  # an engine may outlive a test's event loop
            self._lock, self._loop = asyncio.Lock(), loop
        try:
            await_only(asyncio.wait_for(self._lock.acquire(), self.timeout))
        except TimeoutError as exc:
            raise sqlite3.OperationalError(f"database is locked (no turn to write within {self.timeout:g} s)") from exc
        info[self.HELD] = self._lock

    def release(self, info: dict[str, Any]) -> None:
        lock = info.pop(self.HELD, None)
        if lock is not None and lock.locked():
            lock.release()


# Execution options for a session or connection that only reads (the outbox relay's and the timers' polls).
READ_ONLY = {"pm_read_only": True}


def snapshot_options(dialect: str) -> dict[str, Any]:
    """Execution options for a transaction that only reads and must see the data as of one moment: a GET that
    reads a request and then its timeline must not see the timeline of a step the row does not show yet.
    PostgreSQL's READ COMMITTED takes a new snapshot per statement, so it reads REPEATABLE READ (read-only
    transactions never fail to serialize there); SQLite's deferred BEGIN holds one snapshot from its first read."""
    if dialect == "postgresql":
        return {**READ_ONLY, "isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    return READ_ONLY


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


T = TypeVar("T")

# The largest row id (PostgreSQL bigint, SQLite INTEGER): a larger id in a path is a 422, not an overflow.
MAX_ID = 2**63 - 1
# The largest offset a listing accepts: far past any real listing, far inside PostgreSQL's bigint.
MAX_OFFSET = 1_000_000


async def fetch_page(
    session: AsyncSession, query: Select[tuple[T]], *order_by: Any, limit: int, offset: int
) -> tuple[Sequence[T], int]:
    """One page of a listing, in the given order, and the total count it is a page of."""
    if not (0 <= offset <= MAX_OFFSET and 0 < limit <= MAX_OFFSET):
        raise ValueError(f"paging out of bounds: limit {limit}, offset {offset}")  # views bound them first
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (await session.scalars(query.order_by(*order_by).limit(limit).offset(offset))).all()
    return rows, total


# COPY costs two round trips before the first row (the table's column types, the transaction): below this many rows,
# executemany is as fast.
COPY_FROM_ROWS = 50


async def bulk_insert(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows of one table in the session's transaction: PostgreSQL's binary COPY where the session is on
    asyncpg (a tenth of executemany's per-row cost: no statement per row, no parameter processing), else one
    executemany. Every row has the same keys; columns left out take their server defaults. Values go in as the
    column types bind them (a TypeDecorator's ``process_bind_param`` applies), so the rows are what ``insert()``
    would have written."""
    if not rows:
        return
    await session.flush()  # what the ORM holds goes first, as it would before an insert()
    columns = list(rows[0])
    connection = await session.connection()
    if len(rows) < COPY_FROM_ROWS or connection.dialect.name != "postgresql" or connection.dialect.driver != "asyncpg":
        await session.execute(insert(table), rows)
        return
    records = _records(table, columns, rows, connection.dialect)
    raw = await connection.get_raw_connection()
    # The adapter opens its transaction lazily, at the first statement: one cheap statement makes sure the COPY runs
    # inside the session's transaction, not before it in autocommit.
    await connection.exec_driver_sql("SELECT 1")
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(table.name, records=records, columns=columns, schema_name=table.schema)


# How many rows or events a bulk job builds between two turns of the event loop, in which a write it has pending on
# its session goes on (a few milliseconds of Python work).
YIELD_EVERY = 200


@asynccontextmanager
async def writing_meanwhile(write: Awaitable[None] | None) -> AsyncIterator[None]:
    """Run ``write`` (a bulk write on a session) while the block builds what comes next in Python (iterating with
    ``turns``, so that the write gets the event loop), and wait for it when the block ends, however it ends: the
    session is the write's until then, so the block must not use it."""
    pending = asyncio.ensure_future(write) if write is not None else None
    try:
        yield
    finally:
        if pending is not None:
            await pending


async def turns(items: Iterable[T], every: int | None = None) -> AsyncIterator[T]:
    """The items, handing the event loop a turn after every ``every`` of them (``YIELD_EVERY`` by default)."""
    every = every or YIELD_EVERY
    for count, item in enumerate(items, 1):
        yield item
        if count % every == 0:
            await asyncio.sleep(0)


def _records(table: Table, columns: list[str], rows: Sequence[dict[str, Any]], dialect: Dialect) -> list[Any]:
    """The rows as tuples in ``columns``' order, through the bind step of the columns that have one."""
    get = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    bound = [
        (index, column_type)
        for index, name in enumerate(columns)
        if isinstance(column_type := table.c[name].type, TypeDecorator)
    ]
    if not bound:
        return [get(row) for row in rows]
    records: list[Any] = []
    for row in rows:
        values = list(get(row))
        for index, column_type in bound:
            values[index] = column_type.process_bind_param(values[index], dialect)
        records.append(values)
    return records


class OfASite(Protocol):
    """A row that belongs to one site."""

    @property
    def site(self) -> str: ...


S = TypeVar("S", bound=OfASite)


async def get_in_scope(
    session: AsyncSession, model: type[S], key: Any, principal: Principal, *, what: str, for_update: bool = False
) -> S:
    """The row of ``model`` with primary key ``key``: NotFound (404) when there is none, Forbidden (403, naming
    the site) when it is of a site the caller may not act on."""
    row = await session.get(model, key, with_for_update=for_update)
    if row is None:
        raise NotFound(what, key)
    principal.check_site(row.site)
    return row
