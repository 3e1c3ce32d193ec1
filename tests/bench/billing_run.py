"""A month's billing run for a site of N units through billing's own service, in process, against the rate of a
bulk insert of the same rows in the same database.

The site has N units (areas from 40 to 200 m², one in ten empty) with one paying owner each, three fee items (the
management fee by area, waste removal per household, a lift fee by area) and metered water at a tiered tariff: a
water meter per unit read for the period, and a building meter per building whose remainder is shared (公摊) by
area. The clock runs from the clerk's
POST /billing-periods use case to its commit: the fee items and rates read, every unit's lines computed, the
charges and bills inserted, every unit's ledger settled for the balance brought forward and its status, one
billing.bill.issued.v1 and one status event per unit validated into the outbox, and the overdue timer.

The reference is what the database alone takes for the rows the run wrote: the same charges, bills, statuses and
outbox rows inserted again, as the run does (``bulk_insert``: COPY on PostgreSQL), in one transaction into the tables
emptied with TRUNCATE (as empty as the run found them: rows deleted but not vacuumed away would make every unique key
check visit its dead twin, and the reference half as fast again), timed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, insert, select, text

from billing.account.models import AccountStatus, Charge
from billing.bill.models import Bill
from billing.database import Base, platform_tables
from billing.directory.models import Party, Unit
from billing.fee.models import FeeItemCreate, Tier
from billing.fee.service import create_item, set_management_rate
from billing.main import subscriptions
from billing.meter.models import Meter, MeterReading
from billing.period.models import PeriodIssue, SiteBilling
from billing.period.service import issue_period, period_of, shift_period
from pm_platform import migrations
from pm_platform.auth import Principal
from pm_platform.db import bulk_insert
from pm_platform.envelope import utcnow
from pm_platform.runtime import Runtime
from pm_platform.settings import Settings
from pm_platform.sitetime import DEFAULT_TIMEZONE, local_date

SITE = "harbour"
BUILDINGS = 50
FEE_ITEMS = 3
WATER_TIERS = [Tier(up_to=Decimal(15), rate=Decimal("3.50")), Tier(up_to=None, rate=Decimal("5.25"))]


@dataclass
class BillingRunResult:
    units: int
    bills: int
    charges: int
    total_cents: int
    seconds: float  # the run, from the use case's start to its commit
    rows: int  # rows the run wrote: charges, bills, statuses, outbox
    insert_seconds: float  # the same rows inserted again in one transaction

    @property
    def bills_per_s(self) -> float:
        return self.bills / self.seconds if self.seconds else 0.0

    @property
    def insert_rows_per_s(self) -> float:
        return self.rows / self.insert_seconds if self.insert_seconds else 0.0

    @property
    def run_rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


async def _seed(runtime: Runtime, units: int) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    unit_rows: list[dict[str, Any]] = []
    party_rows: list[dict[str, Any]] = []
    for n in range(units):
        building = f"B{n % BUILDINGS:02d}"
        unit_id = f"{SITE}-{building}-{n:06d}"
        unit_rows.append(
            {
                "id": unit_id,
                "site": SITE,
                "building": building,
                "number": f"{n:06d}",
                "floor": 1 + n % 30,
                "area_m2": Decimal(40 + n % 161) + Decimal(n % 100) / 100,
                "use": "residential",
                "occupied": n % 10 != 0,
                "paying_party_id": f"{unit_id}-owner",
                "updated_at": now,
            }
        )
        party_rows.append(
            {
                "id": f"{unit_id}-owner",
                "site": SITE,
                "unit_id": unit_id,
                "role": "owner",
                "name": f"Owner {n}",
                "phone": f"139{n:08d}",
                "email": None,
                "language": "zh-CN",
                "extra_care": "",
                "active": True,
                "pays": True,
                "updated_at": now,
            }
        )
    manager = Principal(subject="bench.manager", roles=frozenset({"manager"}), sites=frozenset({SITE}))
    async with runtime.uow() as uow:
        for start in range(0, units, 5000):
            await uow.session.execute(insert(Unit), unit_rows[start : start + 5000])
            await uow.session.execute(insert(Party), party_rows[start : start + 5000])
        uow.session.add(
            SiteBilling(
                site=SITE,
                currency="CNY",
                fee_rate_per_m2=Decimal("2.80"),
                fee_due_day=15,
                fee_grace_days=15,
                repair_due_days=15,
                target_current_pct=80,
                target_last_pct=90,
                target_before_pct=100,
                updated_at=now,
            )
        )
        await set_management_rate(uow.session, SITE, Decimal("2.80"), "bench")
        await uow.commit()
    for item in (
        FeeItemCreate(code="waste", name="Waste removal", formula="per_household", rate=Decimal("30")),
        FeeItemCreate(code="lift", name="Lift operation", formula="area", rate=Decimal("0.35")),
        FeeItemCreate(
            code="water", name="Water", formula="metered", meter_kind="water", rate=Decimal("3.50"), tiers=WATER_TIERS
        ),
    ):
        async with runtime.uow() as uow:
            await create_item(uow, manager, SITE, item)


async def _seed_water(runtime: Runtime, units: int, period: str) -> None:
    """A water meter per unit and one per building, each read for the period (as a handheld import would leave
    them): the building meters measured a little more than their units' together, which is shared by area."""
    now = datetime.now(UTC)
    meters: list[dict[str, Any]] = []
    readings: list[dict[str, Any]] = []
    per_building: dict[str, Decimal] = {}

    def meter(meter_id: str, scope: str, unit_id: str | None, building: str | None, used: Decimal) -> None:
        meters.append(
            {
                "id": meter_id,
                "site": SITE,
                "kind": "water",
                "serial": meter_id,
                "scope": scope,
                "unit_id": unit_id,
                "building": building,
                "apportion_by": "area" if scope == "building" else None,
                "opening_reading": Decimal(0),
                "rollover_at": None,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
        )
        readings.append(
            {
                "id": f"r-{meter_id}",
                "site": SITE,
                "meter_id": meter_id,
                "period": period,
                "value": used,
                "previous_value": Decimal(0),
                "consumption": used,
                "status": "ok",
                "source": "import",
                "read_by": "bench",
                "recorded_at": now,
                "confirmed_by": None,
                "confirmed_at": None,
                "note": None,
            }
        )

    for n in range(units):
        building = f"B{n % BUILDINGS:02d}"
        used = Decimal(3 + n % 25) + Decimal(n % 7) / 10
        meter(f"WM-{n:06d}", "unit", f"{SITE}-{building}-{n:06d}", None, used)
        per_building[building] = per_building.get(building, Decimal(0)) + used
    for building, used in sorted(per_building.items()):
        meter(f"WM-{building}", "building", None, building, used + 40)
    async with runtime.sessionmaker() as session:
        for start in range(0, len(meters), 5000):
            await session.execute(insert(Meter), meters[start : start + 5000])
            await session.execute(insert(MeterReading), readings[start : start + 5000])
        await session.commit()


async def _rows_written(runtime: Runtime) -> dict[Table, list[dict[str, Any]]]:
    tables = [Charge.__table__, Bill.__table__, AccountStatus.__table__, runtime.tables.outbox]
    written: dict[Table, list[dict[str, Any]]] = {}
    async with runtime.sessionmaker() as session:
        for table in tables:
            assert isinstance(table, Table)
            written[table] = [dict(row._mapping) for row in (await session.execute(select(table))).all()]
    return written


async def _insert_again(runtime: Runtime, written: dict[Table, list[dict[str, Any]]]) -> float:
    """Empty the run's tables, then time inserting its rows again in one transaction, table by table as the run does
    (``bulk_insert``: COPY on PostgreSQL)."""
    async with runtime.sessionmaker() as session:
        postgres = session.bind.dialect.name == "postgresql"
        for table in written:
            # Empty, as the run found them (SQLite's unqualified DELETE is its truncate).
            await session.execute(text(f"TRUNCATE {table.name}") if postgres else delete(table))
        await session.commit()
    started = time.perf_counter()
    async with runtime.sessionmaker() as session:
        for table, rows in written.items():
            await bulk_insert(session, table, rows)
        await session.commit()
    return time.perf_counter() - started


async def billing_run(database_url: str, work: Path, units: int) -> BillingRunResult:
    settings = Settings(service="billing", var_dir=work, database_url=database_url)
    await asyncio.to_thread(migrations.upgrade, "billing", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    try:
        await _seed(runtime, units)
        clerk = Principal(subject="bench.clerk", roles=frozenset({"billing_clerk"}), sites=frozenset({SITE}))
        # Next month's run, issued today (the site's calendar): as a clerk issues it before the month starts.
        period = shift_period(period_of(local_date(utcnow(), DEFAULT_TIMEZONE)), 1)
        await _seed_water(runtime, units, period)
        started = time.perf_counter()
        async with runtime.uow() as uow:
            issued = await issue_period(uow, clerk, PeriodIssue(site=SITE, period=period))
        seconds = time.perf_counter() - started
        written = await _rows_written(runtime)
        rows = sum(len(r) for r in written.values())
        charges = len(written[Charge.__table__])  # type: ignore[index]
        insert_seconds = await _insert_again(runtime, written)
        return BillingRunResult(
            units=units,
            bills=issued.charged_now,
            charges=charges,
            total_cents=issued.total_cents,
            seconds=seconds,
            rows=rows,
            insert_seconds=insert_seconds,
        )
    finally:
        await runtime.engine.dispose()


async def _main(units: int, postgres_url: str) -> None:
    import tempfile

    from tests.bench.common import Postgres

    postgres = Postgres(postgres_url)
    name = postgres.name("billing_run")
    await postgres.create(name)
    try:
        with tempfile.TemporaryDirectory() as work:
            result = await billing_run(postgres.async_url(name), Path(work), units)
    finally:
        await postgres.drop_all()
    print(result, f"{result.bills_per_s:,.0f} bills/s; bulk insert {result.insert_rows_per_s:,.0f} rows/s")


if __name__ == "__main__":
    import sys

    from tests.bench.common import DEFAULT_POSTGRES_URL

    asyncio.run(_main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000, DEFAULT_POSTGRES_URL))
