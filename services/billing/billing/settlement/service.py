"""Settlement use cases: answer intake's request from the unit's account (``billing.settlement.confirmed.v1``:
cleared when nothing is owed, else the amount owed), and answer again when a later payment clears it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.service import site_currency, unit_ledger
from billing.occupancy.models import AccountClosure
from billing.settlement.models import Settlement
from pm_events.billing import SettlementConfirmed
from pm_events.intake import OccupancySettlementRequested
from pm_platform.auth import Principal
from pm_platform.db import fetch_page
from pm_platform.envelope import Envelope, utcnow
from pm_platform.uow import UnitOfWork


@dataclass
class Final:
    """What a move-out's settlement did before its first answer: its final charges and the reasons of what it could not
    charge."""

    charges_cents: int = 0
    notes: list[str] = field(default_factory=list)


# Posts a move-out's final bill and settles its deposits (billing/settlement/moveout.py), before the answer.
Finalize = Callable[[UnitOfWork, OccupancySettlementRequested, Envelope], Awaitable[Final]]


async def requested(
    uow: UnitOfWork, data: OccupancySettlementRequested, envelope: Envelope, *, finalize: Finalize | None = None
) -> Settlement:
    """Record intake's request and answer it now from the unit's account. A move-out is first finalized, once (its
    final bill, its deposits): before the request is recorded, so a deposit paying the arrears answers nothing
    early."""
    settlement = await uow.session.get(Settlement, data.settlement_id, with_for_update=True)
    final: Final | None = None
    if (
        finalize is not None
        and data.procedure == "move_out"
        and (settlement is None or settlement.finalized_at is None)
    ):
        final = await finalize(uow, data, envelope)
    if settlement is None:
        # Answered below, in this transaction: the answer's columns are filled before the commit.
        settlement = Settlement(id=data.settlement_id, cleared=False, balance_cents=0, owed_cents=0, currency="")
        uow.session.add(settlement)
    settlement.procedure, settlement.site, settlement.unit_id = data.procedure, data.site, data.unit_id
    settlement.party_id, settlement.move_out_date = data.party_id, date.fromisoformat(data.move_out_date)
    settlement.final_readings = [r.model_dump(mode="json") for r in data.final_readings or []]
    settlement.requested_at = settlement.answered_at = utcnow()
    if final is not None:
        settlement.finalized_at = utcnow()
        settlement.final_charges_cents, settlement.final_notes = final.charges_cents, final.notes
    await answer(uow, settlement, caused_by=envelope)
    return settlement


async def answer(
    uow: UnitOfWork, settlement: Settlement, *, caused_by: Envelope | None = None, correlation_id: str | None = None
) -> None:
    """Work the unit's balance out today and publish the answer: cleared when nothing is owed (a credit is not
    owed)."""
    now = utcnow()
    ledger = await unit_ledger(uow.session, settlement.site, settlement.unit_id)
    owed = max(ledger.balance_cents, 0)
    settlement.balance_cents, settlement.owed_cents, settlement.cleared = ledger.balance_cents, owed, owed == 0
    settlement.currency = await site_currency(uow.session, settlement.site)
    settlement.answered_at = now
    if settlement.cleared:
        settlement.cleared_at = now
        if settlement.procedure == "move_out":
            await close_account(uow, settlement)
    uow.emit(
        SettlementConfirmed(
            settlement_id=settlement.id,
            procedure=settlement.procedure,  # move_out | transfer, as intake asked
            site=settlement.site,
            unit_id=settlement.unit_id,
            party_id=settlement.party_id,
            balance_cents=settlement.balance_cents,
            owed_cents=owed,
            cleared=settlement.cleared,
            currency=settlement.currency,
            final_charges_cents=settlement.final_charges_cents,
            confirmed_at=now.isoformat(),
        ),
        subject=settlement.id,
        site=settlement.site,
        caused_by=caused_by,
        correlation_id=None if caused_by is not None else (correlation_id or settlement.id),
    )


async def close_account(uow: UnitOfWork, settlement: Settlement) -> None:
    """A settled move-out closes the unit's account (a later move-in opens it again)."""
    closure = await uow.session.get(AccountClosure, settlement.unit_id, with_for_update=True)
    if closure is not None and closure.settlement_id == settlement.id and closure.reopened_at is not None:
        return  # the same move-out answered again after someone moved in: the account stays open
    if closure is None:
        closure = AccountClosure(unit_id=settlement.unit_id)
        uow.session.add(closure)
    closure.site, closure.settlement_id, closure.party_id = settlement.site, settlement.id, settlement.party_id
    closure.move_out_date, closure.closed_at = settlement.move_out_date, utcnow()
    closure.reopened_at = closure.reopened_by_move_in = None


async def recheck(uow: UnitOfWork, site: str, unit_id: str, *, correlation_id: str) -> None:
    """A payment on the unit: answer again each settlement it clears."""
    await uow.session.flush()
    waiting = (
        await uow.session.scalars(
            select(Settlement).where(
                Settlement.site == site, Settlement.unit_id == unit_id, Settlement.cleared.is_(False)
            )
        )
    ).all()
    if not waiting:
        return
    ledger = await unit_ledger(uow.session, site, unit_id)
    if ledger.balance_cents > 0:
        return
    for settlement in waiting:
        await answer(uow, settlement, correlation_id=correlation_id)


async def list_settlements(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str | None,
    unit_id: str | None,
    cleared: bool | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Settlement], int]:
    query: Select[tuple[Settlement]] = select(Settlement).where(principal.site_filter(Settlement.site, site))
    if unit_id is not None:
        query = query.where(Settlement.unit_id == unit_id)
    if cleared is not None:
        query = query.where(Settlement.cleared.is_(cleared))
    return await fetch_page(session, query, Settlement.requested_at.desc(), Settlement.id, limit=limit, offset=offset)
