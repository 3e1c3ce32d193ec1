"""Instants survive the round trip on both backends: SQLite keeps no offset, UtcDateTime makes up for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Column, Integer, Table, select

from pm_platform.db import UtcDateTime, create_engine, service_metadata

SHANGHAI = timezone(timedelta(hours=8))


async def test_an_instant_with_an_offset_reads_back_as_the_same_instant_in_utc(database_urls) -> None:
    metadata = service_metadata()
    slots = Table("slots", metadata, Column("id", Integer, primary_key=True), Column("starts_at", UtcDateTime()))
    engine = create_engine(database_urls["probe"])
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(
                slots.insert(),
                [
                    {"id": 1, "starts_at": datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)},
                    {"id": 2, "starts_at": datetime(2026, 11, 24, 3, 0)},  # naive counts as UTC
                ],
            )
        async with engine.connect() as connection:
            rows = dict((await connection.execute(select(slots.c.id, slots.c.starts_at))).all())
            # Comparisons bind through the same conversion: 09:30 Shanghai is 01:30 UTC, before both.
            later = (
                (
                    await connection.execute(
                        select(slots.c.id)
                        .where(slots.c.starts_at > datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI))
                        .order_by(slots.c.id)
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    assert rows[1] == datetime(2026, 11, 24, 2, 0, tzinfo=UTC) and rows[1].tzinfo is not None
    assert rows[2] == datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    assert later == [1, 2]
