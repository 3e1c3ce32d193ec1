"""pm_platform.db.bulk_insert on real SQLite and PostgreSQL (executemany below COPY_FROM_ROWS and on SQLite, binary
COPY above it on PostgreSQL): the rows written are what ``insert()`` writes, in the session's transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Identity,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    func,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase

from pm_platform.db import COPY_FROM_ROWS, UtcDateTime, bulk_insert, create_engine, sessionmaker


class Shouted(TypeDecorator[str]):
    """A bind step the test can see: stored upper-cased."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else value.upper()


metadata = MetaData()
parents = Table("parents", metadata, Column("id", String(36), primary_key=True))
rows_table = Table(
    "bulk_rows",
    metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), Identity(), primary_key=True),
    Column("parent_id", String(36), ForeignKey("parents.id"), nullable=False),
    Column("name", Shouted(), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("note", String(40), nullable=True),
    Column("kind", String(10), nullable=False, server_default="plain"),
)


class Base(DeclarativeBase):
    metadata = metadata


class Parent(Base):
    __table__ = parents


SHANGHAI = timezone(timedelta(hours=8))
SIZES = (COPY_FROM_ROWS - 1, COPY_FROM_ROWS * 4)


@pytest.fixture
async def engine(database_urls: dict[str, str]) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_urls["probe"])
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


def some_rows(count: int) -> list[dict[str, Any]]:
    return [
        {
            "parent_id": "p1",
            "name": f"row {i}",
            "at": datetime(2026, 12, 1, 9, 30, tzinfo=SHANGHAI) + timedelta(minutes=i),
            "note": None if i % 2 else f"note {i}",
        }
        for i in range(count)
    ]


@pytest.mark.parametrize("count", SIZES)
async def test_rows_go_in_through_their_bind_step_and_take_the_server_defaults_left_out(
    engine: AsyncEngine, count: int
) -> None:
    sessions = sessionmaker(engine)
    async with sessions() as session:
        await session.execute(parents.insert(), [{"id": "p1"}])
        await bulk_insert(session, rows_table, some_rows(count))
        await session.commit()
    async with sessions() as session:
        stored = (await session.execute(select(rows_table).order_by(rows_table.c.seq))).mappings().all()
    assert len(stored) == count
    assert [row["seq"] for row in stored] == list(range(1, count + 1))  # the identity, filled by the server
    assert {row["kind"] for row in stored} == {"plain"}  # the server default of a column left out
    assert stored[0]["name"] == "ROW 0" and stored[-1]["name"] == f"ROW {count - 1}"  # the TypeDecorator's bind
    first = stored[0]["at"]
    # UtcDateTime's bind: 09:30 in Shanghai is 01:30 UTC, on SQLite (no offset kept) as on PostgreSQL.
    assert first.replace(tzinfo=first.tzinfo or UTC) == datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    assert stored[0]["note"] == "note 0" and stored[1]["note"] is None


@pytest.mark.parametrize("count", SIZES)
async def test_the_rows_belong_to_the_sessions_transaction(engine: AsyncEngine, count: int) -> None:
    """Rolled back with it, and written after what the session holds (a row it has not flushed yet is their parent)."""
    sessions = sessionmaker(engine)
    async with sessions() as session:
        session.add(Parent(id="p1"))  # pending in the session, not yet flushed
        await bulk_insert(session, rows_table, some_rows(count))
        assert await session.scalar(select(func.count()).select_from(rows_table)) == count
        await session.rollback()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(rows_table)) == 0
        assert await session.scalar(select(func.count()).select_from(parents)) == 0


async def test_no_rows_write_nothing(engine: AsyncEngine) -> None:
    sessions = sessionmaker(engine)
    async with sessions() as session:
        await bulk_insert(session, rows_table, [])
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(rows_table)) == 0


@pytest.mark.parametrize("count", SIZES)
async def test_rows_written_first_in_a_transaction_are_rolled_back_with_it(engine: AsyncEngine, count: int) -> None:
    """The driver opens its transaction at the first statement: a COPY that came first must not run before it."""
    sessions = sessionmaker(engine)
    async with sessions() as session:
        await session.execute(parents.insert(), [{"id": "p1"}])
        await session.commit()
    async with sessions() as session:
        await bulk_insert(session, rows_table, some_rows(count))
        await session.rollback()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(rows_table)) == 0
