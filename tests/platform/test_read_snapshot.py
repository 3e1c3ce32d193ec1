"""A GET reads one snapshot (pm_platform.app.get_session): a request and its timeline as of one moment, even when a
step commits between the two reads. Seen on PostgreSQL before: a request's timeline showed "reopened" while the
row read a moment earlier still said "not escalated"."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request

from pm_platform.app import get_session
from pm_platform.db import create_engine, sessionmaker


def route_request(method: str, runtime: SimpleNamespace) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(runtime=runtime))
    return Request({"type": "http", "method": method, "path": "/", "headers": [], "app": app})


route_session = asynccontextmanager(get_session)  # the session a route's SessionDep gets


async def test_a_get_sees_the_row_and_its_history_as_of_one_moment(database_urls: dict[str, str]) -> None:
    engine = create_engine(database_urls["probe"])
    runtime = SimpleNamespace(engine=engine, sessionmaker=sessionmaker(engine))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, status TEXT)"))
            await connection.execute(text("CREATE TABLE history (item_id INTEGER, entry TEXT)"))
            await connection.execute(text("INSERT INTO item VALUES (1, 'open')"))

        async with route_session(route_request("GET", runtime)) as session:
            assert (await session.execute(text("SELECT status FROM item WHERE id = 1"))).scalar() == "open"
            # A step commits between the two reads (a writer is not held up by the reading GET on SQLite either).
            async with asyncio.timeout(5), engine.begin() as step:
                await step.execute(text("UPDATE item SET status = 'reopened' WHERE id = 1"))
                await step.execute(text("INSERT INTO history VALUES (1, 'reopened')"))
            history = (await session.execute(text("SELECT count(*) FROM history"))).scalar()
            assert history == 0, "the GET saw a step its first read did not"

        async with route_session(route_request("GET", runtime)) as session:  # the next GET sees the step whole
            assert (await session.execute(text("SELECT status FROM item WHERE id = 1"))).scalar() == "reopened"
            assert (await session.execute(text("SELECT count(*) FROM history"))).scalar() == 1
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database_urls", ["postgres"], indirect=True)
async def test_a_get_may_not_write_on_postgresql(database_urls: dict[str, str]) -> None:
    """A GET route that writes is a mistake the database itself refuses on PostgreSQL (read-only transaction)."""
    engine = create_engine(database_urls["probe"])
    runtime = SimpleNamespace(engine=engine, sessionmaker=sessionmaker(engine))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY)"))
        async with route_session(route_request("GET", runtime)) as session:
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await session.execute(text("INSERT INTO item VALUES (1)"))
        async with route_session(route_request("PUT", runtime)) as session:
            # a PUT's session writes (reference data without events)
            await session.execute(text("INSERT INTO item VALUES (2)"))
            await session.commit()
    finally:
        await engine.dispose()
