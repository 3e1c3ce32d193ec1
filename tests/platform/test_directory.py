"""The slim copy of intake's units and parties (pm_platform.directory): the staleness rule as a pure function,
the upsert on SQLite and PostgreSQL, and each consuming service's migrations giving its tables the shape the
component declares."""

from __future__ import annotations

import asyncio
import importlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import BaseModel
from sqlalchemy import String, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import Mapped, mapped_column

from pm_platform import directory, migrations
from pm_platform.db import ServiceBase, create_engine, service_metadata
from pm_platform.directory import PartyCopy, UnitCopy, supersedes
from pm_platform.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "examples"
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


# --- the staleness rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("incoming", "held", "applies"),
    [
        (NOON, None, True),  # nothing held yet
        (NOON + timedelta(microseconds=1), NOON, True),  # strictly newer
        (NOON, NOON, False),  # equal: the same change again, or two stamped alike
        (NOON - timedelta(hours=1), NOON, False),  # older, arriving late
        (datetime(2026, 11, 23, 20, 0, tzinfo=SHANGHAI), NOON, False),  # the same instant in another offset
        (datetime(2026, 11, 23, 20, 1, tzinfo=SHANGHAI), NOON, True),
        (datetime(2026, 11, 23, 12, 0), NOON, False),  # naive counts as UTC (as SQLite reads it back)
    ],
)
def test_only_a_strictly_newer_update_supersedes_the_copy(
    incoming: datetime, held: datetime | None, applies: bool
) -> None:
    assert supersedes(incoming, held) is applies


def test_whatever_the_arrival_order_the_newest_update_is_kept() -> None:
    stamps = [NOON + timedelta(minutes=m) for m in (3, 1, 3, 0, 2)]
    held: datetime | None = None
    for stamp in stamps:
        if supersedes(stamp, held):
            held = stamp
    assert held == max(stamps)


def test_the_event_payloads_become_column_values() -> None:
    unit = directory.unit_values(_example("intake.unit.upserted.v1"))
    party = directory.party_values(_example("intake.party.upserted.v1"))
    assert (unit["area_m2"], unit["floor"], unit["updated_at"]) == (
        Decimal("89.50"),
        1,
        datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
    )
    assert (party["extra_care"], party["pays"], party["language"]) == ("elderly", True, "zh-CN")
    assert directory.party_values({**_example("intake.party.upserted.v1"), "extra_care": []})["extra_care"] == ""


class TypedUnit(BaseModel):
    """Stands in for a typed event model: its dump holds datetimes and Decimals, not JSON strings."""

    unit_id: str
    site: str
    building: str
    number: str
    floor: int
    area_m2: Decimal
    use: str
    occupied: bool
    paying_party_id: str | None = None
    updated_at: datetime


def test_a_typed_event_model_gives_the_same_values_as_its_json_payload() -> None:
    data = _example("intake.unit.upserted.v1")
    assert directory.unit_values(TypedUnit.model_validate(data)) == directory.unit_values(data)


# --- the upsert on a real database --------------------------------------------------------------------


class ProbeBase(ServiceBase):
    __abstract__ = True
    metadata = service_metadata()


class ProbeUnit(UnitCopy, ProbeBase):
    __tablename__ = "units"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)


class ProbeParty(PartyCopy, ProbeBase):
    # Notification names its key after the event's field: the component works with either.
    __tablename__ = "parties"
    party_id: Mapped[str] = mapped_column(String(64), primary_key=True)


async def test_the_upsert_keeps_the_newest_copy_and_ignores_older_or_equal_ones(
    database_urls: dict[str, str],
) -> None:
    engine = create_engine(database_urls["probe"])
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    unit = _example("intake.unit.upserted.v1")
    owner = _example("intake.party.upserted.v1")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(ProbeBase.metadata.create_all)
        outcomes = []
        for changes in (
            {"area_m2": "90.00", "updated_at": "2026-11-23T09:00:00+00:00"},  # first: inserted
            {"area_m2": "10.00", "updated_at": "2026-11-23T07:00:00+00:00"},  # older: ignored
            {"area_m2": "11.00", "updated_at": "2026-11-23T17:00:00+08:00"},  # the same instant: ignored
            {"area_m2": "95.50", "occupied": False, "updated_at": "2026-11-23T10:00:00+00:00"},  # newer
            {"area_m2": "12.00", "updated_at": "2026-11-23T09:30:00+00:00"},  # older than the last: ignored
        ):
            async with sessions() as session:
                outcomes.append(await directory.upsert_unit(session, ProbeUnit, {**unit, **changes}) is not None)
                await session.commit()
        async with sessions() as session:
            tenant = {**owner, "party_id": "harbour-A-0101-tenant", "role": "tenant", "pays": None}
            other = {**owner, "party_id": "harbour-A-0102-owner", "unit_id": "harbour-A-0102"}
            for data in (owner, tenant, other):
                assert await directory.upsert_party(session, ProbeParty, data) is not None
            moved_out = {**owner, "active": False, "updated_at": "2026-11-23T11:00:00+00:00"}
            assert await directory.upsert_party(session, ProbeParty, moved_out) is not None
            assert await directory.upsert_party(session, ProbeParty, {**owner, "name": "Stale"}) is None
            await session.commit()
        async with sessions() as session:
            held = await session.get(ProbeUnit, unit["unit_id"])
            everyone = await directory.parties_of_units(session, ProbeParty, ["harbour-A-0101", "harbour-A-0102"])
            active = await directory.parties_of_units(session, ProbeParty, ["harbour-A-0101"], active_only=True)
            nobody = await directory.parties_of_units(session, ProbeParty, [])
    finally:
        await engine.dispose()
    assert outcomes == [True, False, False, True, False]
    assert held is not None
    assert (held.area_m2, held.occupied, held.updated_at) == (
        Decimal("95.50"),
        False,
        datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    )
    assert {unit_id: [p.party_id for p in parties] for unit_id, parties in everyone.items()} == {
        "harbour-A-0101": ["harbour-A-0101-owner", "harbour-A-0101-tenant"],
        "harbour-A-0102": ["harbour-A-0102-owner"],
    }
    first = everyone["harbour-A-0101"][0]
    assert (first.name, first.active, first.extra_care) == ("Li Wei", False, "elderly")
    assert [p.party_id for p in active["harbour-A-0101"]] == ["harbour-A-0101-tenant"]
    assert nobody == {}


# --- each service's migrations give its copy the component's shape -----------------------------------


@pytest.mark.parametrize("service", ["billing", "survey", "notification"])
async def test_the_migrations_give_each_service_the_components_tables(
    service: str, database_urls: dict[str, str], tmp_path: Path
) -> None:
    settings = Settings(service=service, database_url=database_urls[service], var_dir=tmp_path)
    await asyncio.to_thread(migrations.upgrade, service, settings)  # Alembic runs its own event loop
    importlib.import_module(f"{service}.main")  # every model onto the metadata
    metadata = importlib.import_module(f"{service}.database").Base.metadata
    engine = create_async_engine(settings.resolved_database_url())
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(lambda sync: _copy_differences(sync, metadata))
    finally:
        await engine.dispose()
    assert differences == []


# What each service's copy looked like before the component (its previous head), and one row of each.
LEGACY: dict[str, tuple[str, str, str]] = {
    "billing": (
        "0004_outbox_trace_context",
        "INSERT INTO units (id, site, building, number, floor, area_m2, use, occupied, paying_party_id, updated_at)"
        " VALUES ('harbour-A-0101', 'harbour', 'A', 'A-0101', 1, 89.5, 'residential', :yes, NULL, :at)",
        "INSERT INTO parties (id, site, unit_id, role, name, phone, email, active, pays, updated_at)"
        " VALUES ('harbour-A-0101-owner', 'harbour', 'harbour-A-0101', 'owner', 'Li Wei', NULL, NULL, :yes, :yes, :at)",
    ),
    "survey": (
        "0003_outbox_trace_context",
        "INSERT INTO units (id, site, building, number, floor, occupied, updated_at)"
        " VALUES ('harbour-A-0101', 'harbour', 'A', 'A-0101', NULL, :yes, :at)",
        "INSERT INTO parties (id, site, unit_id, role, name, phone, language, active, updated_at)"
        " VALUES ('harbour-A-0101-owner', 'harbour', 'harbour-A-0101', 'owner', 'Li Wei', NULL, NULL, :yes, :at)",
    ),
    "notification": (
        "0004_sites",
        "INSERT INTO units (unit_id, site, building, occupied, updated_at)"
        " VALUES ('harbour-A-0101', 'harbour', 'A', :yes, :at)",
        "INSERT INTO parties (party_id, site, unit_id, role, name, phone, email, language, extra_care, active,"
        " updated_at) VALUES ('harbour-A-0101-owner', 'harbour', 'harbour-A-0101', 'owner', 'Li Wei', NULL, NULL,"
        " 'zh-CN', '', :yes, :at)",
    ),
}


@pytest.mark.parametrize("service", sorted(LEGACY))
async def test_rows_copied_before_the_migration_survive_it_until_intake_updates_them(
    service: str, database_urls: dict[str, str], tmp_path: Path
) -> None:
    previous, unit_row, party_row = LEGACY[service]
    settings = Settings(service=service, database_url=database_urls[service], var_dir=tmp_path)
    await asyncio.to_thread(migrations.upgrade, service, settings, previous)
    engine = create_async_engine(settings.resolved_database_url())
    try:
        async with engine.begin() as connection:
            for row in (unit_row, party_row):
                await connection.execute(text(row), {"yes": True, "at": datetime(2026, 11, 1, tzinfo=UTC)})
        await asyncio.to_thread(migrations.upgrade, service, settings)
        models = importlib.import_module(MODELS[service])
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session:
            unit = await session.get(models.Unit, "harbour-A-0101")
            party = await session.get(models.Party, "harbour-A-0101-owner")
            assert unit is not None and party is not None
            assert (unit.building, unit.occupied, party.name, party.active) == ("A", True, "Li Wei", True)
            assert (party.language, party.extra_care) == ("zh-CN", "")
            # Intake's next event replaces the row, placeholders and all.
            assert await directory.upsert_unit(session, models.Unit, _example("intake.unit.upserted.v1"))
            assert await directory.upsert_party(session, models.Party, _example("intake.party.upserted.v1"))
            await session.commit()
        async with sessions() as session:
            unit = await session.get(models.Unit, "harbour-A-0101")
            party = await session.get(models.Party, "harbour-A-0101-owner")
    finally:
        await engine.dispose()
    assert unit is not None and party is not None
    assert (unit.number, unit.floor, unit.area_m2, unit.use) == ("A-0101", 1, Decimal("89.50"), "residential")
    assert (party.phone, party.email, party.extra_care, party.pays) == (
        "13800000001",
        "li.wei@example.com",
        "elderly",
        True,
    )


MODELS = {
    "billing": "billing.directory.models",
    "survey": "survey.contacts.models",
    "notification": "notification.contact.models",
}


def _in_copy(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    table = name if kind == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in {"units", "parties"}


def _copy_differences(connection: Any, metadata: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": _in_copy})
    return list(compare_metadata(context, metadata))


def _example(event_type: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_text())
    return data
