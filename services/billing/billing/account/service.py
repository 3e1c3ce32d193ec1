"""Account use cases: record the charge of a paid in-unit repair, and read a unit's account and the charges."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.models import AccountRead, Charge, ChargeRead
from pm_platform.auth import Principal
from pm_platform.envelope import Envelope, new_id, utcnow
from pm_platform.uow import UnitOfWork


async def record_repair_charge(uow: UnitOfWork, completed: Envelope) -> Charge | None:
    """A completed in-unit work order with a charge puts that charge on the unit's account; nothing else does."""
    data = completed.data
    charge_data = data.get("charge")
    if not charge_data or not data.get("in_unit") or not data.get("unit_id"):
        return None
    charge = Charge(
        id=new_id(), site=data["site"], unit_id=data["unit_id"], item=charge_data["item"],
        amount_cents=int(charge_data["amount_cents"]), currency=charge_data["currency"],
        request_id=data.get("request_id"), work_order_id=data.get("work_order_id"),
        source_event_id=completed.id, recorded_at=utcnow(),
    )
    uow.session.add(charge)
    uow.emit(
        "billing.charge.recorded.v1",
        subject=charge.id,
        site=charge.site,
        caused_by=completed,
        data={
            "charge_id": charge.id, "site": charge.site, "unit_id": charge.unit_id, "item": charge.item,
            "amount_cents": charge.amount_cents, "currency": charge.currency, "request_id": charge.request_id,
            "work_order_id": charge.work_order_id, "recorded_at": charge.recorded_at.isoformat(),
        },
    )
    return charge


async def account(session: AsyncSession, site: str, unit_id: str) -> AccountRead:
    """A unit's account at a site (the caller's scope on ``site`` is checked by the route); empty is balance 0."""
    query = select(Charge).where(Charge.site == site, Charge.unit_id == unit_id).order_by(Charge.recorded_at,
                                                                                          Charge.id)
    charges = (await session.scalars(query)).all()
    balances: dict[str, int] = {}
    for charge in charges:
        balances[charge.currency] = balances.get(charge.currency, 0) + charge.amount_cents
    return AccountRead(unit_id=unit_id, site=site, balance_cents=sum(c.amount_cents for c in charges),
                       balances=balances, charges=[ChargeRead.model_validate(c) for c in charges])


async def list_charges(session: AsyncSession, principal: Principal, *, site: str | None, unit_id: str | None,
                       limit: int, offset: int) -> tuple[Sequence[Charge], int]:
    query = select(Charge)
    if site:
        principal.check_site(site)
        query = query.where(Charge.site == site)
    elif not principal.all_sites:
        query = query.where(Charge.site.in_(principal.sites))
    if unit_id:
        query = query.where(Charge.unit_id == unit_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(Charge.recorded_at.desc(), Charge.id).limit(limit).offset(offset)
    return (await session.scalars(ordered)).all(), total
