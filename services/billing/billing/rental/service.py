"""Rental contracts: the cycles a contract's rent falls in (pure), the contracts, the lines the monthly run charges
units, and an outside renter's rent taken at the counter (an income row with its receipt)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.directory.models import Unit
from billing.directory.service import site_today
from billing.income.models import IncomeReceipt
from billing.income.service import commit_income, record_income
from billing.rental.models import (
    RENT_ITEMS,
    RENT_NAMES,
    ContractCreate,
    ContractRead,
    ContractUpdate,
    RentalContract,
    RentReceive,
)
from pm_platform.auth import Principal
from pm_platform.db import fetch_page
from pm_platform.envelope import new_id, utcnow
from pm_platform.errors import Conflict, Invalid
from pm_platform.uow import UnitOfWork

# --- the rules: pure --------------------------------------------------------------------------------


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_from(start: str, period: str) -> int:
    return (int(period[:4]) - int(start[:4])) * 12 + int(period[5:7]) - int(start[5:7])


def opens_cycle(starts_on: date, ends_on: date, cycle_months: int, period: str) -> bool:
    """Whether a contract's rent falls in a period: one of its months that opens a cycle counted from its first
    month (a cycle's rent is due whole, even when the contract ends within it)."""
    first, last = period_of(starts_on), period_of(ends_on)
    return first <= period <= last and months_from(first, period) % cycle_months == 0


def cycle_periods(starts_on: date, ends_on: date, cycle_months: int, until: str) -> list[str]:
    """The periods that open the contract's cycles, up to ``until``."""
    periods: list[str] = []
    year, month = starts_on.year, starts_on.month
    last = min(period_of(ends_on), until)
    while (period := f"{year:04d}-{month:02d}") <= last:
        periods.append(period)
        month += cycle_months
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return periods


def contract_lines(contracts: Sequence[RentalContract], period: str) -> list[tuple[str, str, str, int]]:
    """The period's rent of units' contracts as (unit, fee item, what, fen)."""
    return [
        (
            c.unit_id,
            RENT_ITEMS[c.kind],
            c.subject + (f" x {c.cycle_months} months" if c.cycle_months > 1 else ""),
            c.rent_cents,
        )
        for c in sorted(contracts, key=lambda c: (c.starts_on, c.id))
        if c.unit_id is not None and c.rent_cents > 0 and opens_cycle(c.starts_on, c.ends_on, c.cycle_months, period)
    ]


async def monthly_lines(session: AsyncSession, site: str, period: str) -> list[tuple[str, str, str, int]]:
    """The whole site's rent on units for a period, in one statement."""
    contracts = (
        await session.scalars(
            select(RentalContract).where(RentalContract.site == site, RentalContract.unit_id.is_not(None))
        )
    ).all()
    return contract_lines(contracts, period)


# --- contracts ---------------------------------------------------------------------------------------


async def create_contract(uow: UnitOfWork, principal: Principal, site: str, body: ContractCreate) -> RentalContract:
    if (body.unit_id is None) == (body.renter_name is None):
        raise Invalid(
            "the renter is a unit of the site (unit_id) or an outside renter (renter_name)", field="renter_name"
        )
    if body.ends_on < body.starts_on:
        raise Invalid("a contract ends on or after its first day", field="ends_on")
    if body.unit_id is not None:
        unit = await uow.session.get(Unit, body.unit_id)
        if unit is None or unit.site != site:
            raise Invalid(f"unit {body.unit_id} is not a unit of site {site}", field="unit_id")
    now = utcnow()
    contract = RentalContract(
        id=new_id(), site=site, **body.model_dump(), created_by=principal.subject, created_at=now, updated_at=now
    )
    uow.session.add(contract)
    await uow.commit()
    return contract


async def update_contract(uow: UnitOfWork, contract: RentalContract, body: ContractUpdate) -> RentalContract:
    if body.ends_on is not None:
        if body.ends_on < contract.starts_on:
            raise Invalid("a contract ends on or after its first day", field="ends_on")
        contract.ends_on = body.ends_on
    if "note" in body.model_fields_set:
        contract.note = body.note
    contract.updated_at = utcnow()
    await uow.commit()
    return contract


async def receive_rent(
    uow: UnitOfWork, principal: Principal, contract: RentalContract, body: RentReceive
) -> IncomeReceipt:
    """An outside renter pays a cycle's rent at the counter: an income row under the contract's fee item with its
    receipt, once per cycle while it counts."""
    if contract.unit_id is not None:
        raise Conflict(
            f"contract {contract.id} is billed on unit {contract.unit_id}'s bills: take the payment on its account",
            field="contract_id",
        )
    if not opens_cycle(contract.starts_on, contract.ends_on, contract.cycle_months, body.period):
        raise Invalid(
            f"{body.period} does not open a rent cycle of the contract ({contract.starts_on} to {contract.ends_on}, "
            f"every {contract.cycle_months} months)",
            field="period",
        )
    receipt = await record_income(
        uow,
        principal,
        site=contract.site,
        fee_item=RENT_ITEMS[contract.kind],
        source="rental_contract",
        source_id=contract.id,
        settles=f"rent:{contract.id}@{body.period}",
        payer=contract.renter_name or "",
        item=f"{RENT_NAMES[contract.kind]} {body.period}: {contract.subject}",
        amount_cents=contract.rent_cents,
        method=body.method,
        reference=body.reference,
        period=body.period,
    )
    await commit_income(uow)
    return receipt


async def list_contracts(
    session: AsyncSession,
    site: str,
    *,
    kind: str | None,
    unit_id: str | None,
    current_on: date | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[RentalContract], int]:
    query = select(RentalContract).where(RentalContract.site == site)
    if kind:
        query = query.where(RentalContract.kind == kind)
    if unit_id:
        query = query.where(RentalContract.unit_id == unit_id)
    if current_on:
        query = query.where(RentalContract.starts_on <= current_on, RentalContract.ends_on >= current_on)
    return await fetch_page(
        session, query, RentalContract.starts_on.desc(), RentalContract.id, limit=limit, offset=offset
    )


async def contract_reads(session: AsyncSession, contracts: Sequence[RentalContract]) -> list[ContractRead]:
    """The contracts with, for outside renters, the cycles paid and those due by this month and not paid."""
    outside = [c.id for c in contracts if c.unit_id is None]
    paid: dict[str, set[str]] = {c: set() for c in outside}
    if outside:
        rows = await session.execute(
            select(IncomeReceipt.source_id, IncomeReceipt.period).where(
                IncomeReceipt.source_id.in_(outside), IncomeReceipt.voided_at.is_(None)
            )
        )
        for source_id, period in rows.all():
            if period:
                paid[source_id].add(period)
    today: dict[str, str] = {}
    reads: list[ContractRead] = []
    for c in contracts:
        fields = {name: getattr(c, name) for name in ContractRead.model_fields if hasattr(RentalContract, name)}
        read = ContractRead.model_validate({**fields, "fee_item": RENT_ITEMS[c.kind]})
        if c.unit_id is None:
            if c.site not in today:
                today[c.site] = period_of(await site_today(session, c.site))
            due = cycle_periods(c.starts_on, c.ends_on, c.cycle_months, today[c.site])
            read.paid_periods = sorted(paid[c.id])
            read.unpaid_periods = [p for p in due if p not in paid[c.id]]
        reads.append(read)
    return reads
