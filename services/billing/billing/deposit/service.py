"""Deposit use cases: ask for a decoration deposit (and charge the decoration fee) when intake approves a permit,
receive it at the counter with a deposit receipt, and return it less the deductions when intake settles the
permit. Each step publishes billing.deposit.held.v1 or billing.deposit.returned.v1.

Rules:
- One deposit per permit: a second approval event for the same permit changes nothing (no second deposit, no
  second fee).
- A deposit of 0 is paid as soon as it is asked for (nothing to collect), so the works are not held up.
- A settlement for a deposit not yet paid waits on the deposit and is applied the moment the clerk receives it
  (a deposit is returned only from money actually held). A second settlement changes nothing.
- Deductions come out of the deposit; what they exceed it by is charged on the unit's account
  (kind deposit_deduction), which is the only way a deposit touches the account.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.models import DECORATION_FEE, DEPOSIT_DEDUCTION, Charge
from billing.account.service import check_owner, post_charge, repair_due_days, site_currency, unit_ledger
from billing.deposit.models import (
    DECORATION,
    KEY_CARD,
    NOT_RETURNED,
    TENANCY,
    UNPAID_BALANCE,
    Deposit,
    DepositReceiptCounter,
    DepositReceive,
    DepositStatus,
    UnitDepositCreate,
    move,
    split,
)
from billing.directory.models import Unit
from billing.directory.service import site_today
from billing.occupancy.models import Occupancy
from billing.payment.models import DEPOSIT_OFFSET, Method, PaymentCreate
from billing.payment.service import insert_payment, next_receipt
from pm_events.billing import DepositHeld, DepositReturned, DepositReturnedDeduction
from pm_events.intake import DecorationApproved, DecorationSettled, OccupancyMovedOut
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import Envelope, as_utc, new_id, parse_utc, utcnow
from pm_platform.errors import Conflict, Forbidden, Invalid
from pm_platform.uow import UnitOfWork


class DepositNotYetKnown(Exception):
    """A settlement overtook its permit's approval: transient, the consumer retries it with a growing delay."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"no deposit yet for {reference}")


def deposit_receipt_no(site: str, seq: int) -> str:
    return f"{site.upper()}-YJ-{seq:06d}"  # 押金: a series apart from payment receipts


def _iso(at: datetime) -> str:
    return as_utc(at).isoformat()


def _emit_held(uow: UnitOfWork, deposit: Deposit, caused_by: Envelope | None) -> None:
    uow.emit(
        DepositHeld(
            deposit_id=deposit.id,
            site=deposit.site,
            unit_id=deposit.unit_id,
            purpose=deposit.purpose,
            reference=deposit.reference,
            amount_cents=deposit.amount_cents,
            currency=deposit.currency,
            status="paid" if deposit.status == DepositStatus.paid else "requested",
            updated_at=_iso(deposit.updated_at),
        ),
        subject=deposit.id,
        site=deposit.site,
        caused_by=caused_by,
        correlation_id=None if caused_by else deposit.correlation_id,
    )


async def find(session: AsyncSession, site: str, purpose: str, reference: str) -> Deposit | None:
    query = select(Deposit).where(Deposit.site == site, Deposit.purpose == purpose, Deposit.reference == reference)
    return (await session.scalars(query.with_for_update())).first()


async def request_decoration_deposit(uow: UnitOfWork, data: DecorationApproved, approved: Envelope) -> Deposit:
    """An approved permit: its deposit is asked for (held money) and its decoration fee charged (income)."""
    existing = await find(uow.session, data.site, DECORATION, data.permit_id)
    if existing is not None:
        return existing
    now = utcnow()
    deposit = Deposit(
        id=new_id(),
        site=data.site,
        unit_id=data.unit_id,
        purpose=DECORATION,
        reference=data.permit_id,
        payer_party_id=data.applicant_party_id,
        amount_cents=data.deposit_cents,
        currency=data.currency,
        status=DepositStatus.requested,
        requested_at=now,
        correlation_id=approved.correlationid,
        updated_at=now,
    )
    if data.deposit_cents == 0:
        deposit.status, deposit.paid_at = DepositStatus.paid, now
    uow.session.add(deposit)
    if data.fee_cents > 0:
        item = f"Decoration management fee, permit {data.permit_id}"
        fee = await _one_off(uow, deposit, DECORATION_FEE, item, data.fee_cents, source_event_id=approved.id)
        deposit.fee_charge_id = fee.id
        await post_charge(uow, fee, approved)
    _emit_held(uow, deposit, approved)
    return deposit


async def _one_off(
    uow: UnitOfWork, deposit: Deposit, kind: str, item: str, amount_cents: int, *, source_event_id: str | None = None
) -> Charge:
    """A one-off charge on the deposit's unit (due like a repair's), to be posted."""
    now = utcnow()
    return Charge(
        id=new_id(),
        site=deposit.site,
        unit_id=deposit.unit_id,
        kind=kind,
        item=item[:120],
        amount_cents=amount_cents,
        currency=deposit.currency,
        period=None,
        due_date=await site_today(uow.session, deposit.site)
        + timedelta(days=await repair_due_days(uow.session, deposit.site)),
        request_id=None,
        work_order_id=None,
        source_event_id=source_event_id,
        recorded_at=now,
    )


async def receive(uow: UnitOfWork, principal: Principal, deposit_id: str, body: DepositReceive) -> Deposit:
    """A clerk receives the deposit: it is held (paid), with a deposit receipt. A settlement already waiting
    is applied at once."""
    deposit = await get_in_scope(uow.session, Deposit, deposit_id, principal, what="deposit", for_update=True)
    deposit.status = move(deposit.id, DepositStatus(deposit.status), "receive")
    now = utcnow()
    seq = await next_receipt(uow.session, deposit.site, DepositReceiptCounter)
    deposit.method, deposit.payment_reference = body.method, body.reference
    deposit.receipt_seq, deposit.receipt_no = seq, deposit_receipt_no(deposit.site, seq)
    deposit.received_by, deposit.paid_at, deposit.updated_at = principal.subject, now, now
    _emit_held(uow, deposit, None)
    if deposit.settled_at is not None:
        await _return(uow, deposit, None)
    await uow.commit()
    return deposit


async def settle_decoration_deposit(uow: UnitOfWork, data: DecorationSettled, settled: Envelope) -> Deposit:
    """Intake settled the permit: return the deposit less the deductions (now if paid, else once it is)."""
    deposit = await find(uow.session, data.site, DECORATION, data.permit_id)
    if deposit is None:
        raise DepositNotYetKnown(data.permit_id)
    if deposit.settled_at is not None:
        return deposit  # settled already: a second settlement changes nothing
    deposit.deductions = [d.model_dump(mode="json", exclude_none=True) for d in data.deductions or []]
    deposit.settled_at = parse_utc(data.settled_at)
    deposit.updated_at = utcnow()
    if deposit.status == DepositStatus.paid:
        await _return(uow, deposit, settled)
    return deposit


async def _return(uow: UnitOfWork, deposit: Deposit, caused_by: Envelope | None) -> None:
    deposit.status = move(deposit.id, DepositStatus(deposit.status), "return")
    deductions = deposit.deductions or []
    parts = split(deposit.amount_cents, [int(d["amount_cents"]) for d in deductions])
    now = utcnow()
    deposit.deducted_cents, deposit.returned_cents = parts.deducted_cents, parts.returned_cents
    deposit.returned_at = deposit.updated_at = now
    if parts.shortfall_cents:
        item = f"Deductions beyond the {deposit.purpose} deposit {deposit.receipt_no or deposit.reference}"
        if deposit.purpose == DECORATION:
            item = f"Deductions beyond the decoration deposit, permit {deposit.reference}"
        shortfall = await _one_off(uow, deposit, DEPOSIT_DEDUCTION, item, parts.shortfall_cents)
        deposit.shortfall_charge_id = shortfall.id
        await post_charge(uow, shortfall, caused_by, correlation_id=deposit.correlation_id)
    uow.emit(
        DepositReturned(
            deposit_id=deposit.id,
            site=deposit.site,
            unit_id=deposit.unit_id,
            purpose=deposit.purpose,
            reference=deposit.reference,
            held_cents=deposit.amount_cents,
            deducted_cents=parts.deducted_cents,
            returned_cents=parts.returned_cents,
            currency=deposit.currency,
            deductions=[DepositReturnedDeduction.model_validate(d) for d in deductions],
            returned_at=_iso(now),
        ),
        subject=deposit.id,
        site=deposit.site,
        caused_by=caused_by,
        correlation_id=None if caused_by else deposit.correlation_id,
    )


# --- tenancy and key/card deposits: taken at a move-in, returned at the move-out ---------------------------


async def _occupant(session: AsyncSession, unit: Unit) -> str | None:
    """The party living in the unit (the latest move-in without a move-out), else the unit's payer."""
    living = (
        await session.scalars(
            select(Occupancy.party_id)
            .where(
                Occupancy.site == unit.site,
                Occupancy.unit_id == unit.id,
                Occupancy.move_in_date.is_not(None),
                Occupancy.move_out_date.is_(None),
            )
            .order_by(Occupancy.move_in_date.desc())
        )
    ).first()
    return living or unit.paying_party_id


async def record_unit_deposit(uow: UnitOfWork, principal: Principal, unit_id: str, body: UnitDepositCreate) -> Deposit:
    """A clerk takes a tenancy or key/card deposit at a move-in: held at once (paid), with a deposit receipt. One of
    each purpose per party: another is a conflict naming the one held."""
    session = uow.session
    unit = await get_in_scope(session, Unit, unit_id, principal, what="unit")
    if body.purpose == TENANCY:
        if body.items:
            raise Invalid("a tenancy deposit is an amount: keys and cards go in a key_card deposit", field="items")
        if body.amount_cents is None:
            raise Invalid("a tenancy deposit needs its amount", field="amount_cents")
        amount = body.amount_cents
    else:
        if not body.items:
            raise Invalid("a key/card deposit lists its keys and cards, each with its deposit", field="items")
        numbers = [i.number for i in body.items]
        if len(set(numbers)) != len(numbers):
            raise Invalid("each key or card is listed once", field="items")
        amount = sum(i.amount_cents for i in body.items)
        if body.amount_cents is not None and body.amount_cents != amount:
            raise Invalid(f"the items add up to {amount} fen", field="amount_cents")
    party_id = body.party_id or await _occupant(session, unit)
    if party_id is None:
        raise Invalid(f"nobody lives in or pays for unit {unit_id} yet: name the party", field="party_id")
    held = await find(session, unit.site, body.purpose, party_id)
    if held is not None:
        raise Conflict(
            f"party {party_id} has a {body.purpose} deposit already ({held.receipt_no or held.id})",
            field="party_id",
            deposit_id=held.id,
        )
    now = utcnow()
    seq = await next_receipt(session, unit.site, DepositReceiptCounter)
    deposit = Deposit(
        id=new_id(),
        site=unit.site,
        unit_id=unit.id,
        purpose=body.purpose,
        reference=party_id,
        items=[i.model_dump() for i in body.items] or None,
        payer_party_id=party_id,
        amount_cents=amount,
        currency=await site_currency(session, unit.site),
        status=DepositStatus.paid,
        requested_at=now,
        method=body.method,
        payment_reference=body.reference,
        receipt_seq=seq,
        receipt_no=deposit_receipt_no(unit.site, seq),
        received_by=principal.subject,
        paid_at=now,
        correlation_id=None,
        updated_at=now,
    )
    deposit.correlation_id = deposit.id
    session.add(deposit)
    _emit_held(uow, deposit, None)
    try:
        await uow.commit()
    except IntegrityError:
        raise Conflict(
            f"a {body.purpose} deposit of party {party_id} was recorded concurrently", field="party_id"
        ) from None
    return deposit


async def _held(session: AsyncSession, site: str, unit_id: str, party_id: str, purpose: str) -> Sequence[Deposit]:
    query = select(Deposit).where(
        Deposit.site == site,
        Deposit.unit_id == unit_id,
        Deposit.purpose == purpose,
        Deposit.payer_party_id == party_id,
        Deposit.status == DepositStatus.paid.value,
    )
    return (await session.scalars(query.with_for_update())).all()


async def return_tenancy_deposits(
    uow: UnitOfWork, site: str, unit_id: str, party_id: str, caused_by: Envelope | None
) -> list[Deposit]:
    """At a move-out's settlement, after its final charges: the leaving party's tenancy deposit pays what the unit
    still owes (a payment of method ``deposit``, with its receipt: arrears collected, never the deposit as income)
    and the rest goes back, the deduction listed."""
    returned: list[Deposit] = []
    for deposit in await _held(uow.session, site, unit_id, party_id, TENANCY):
        owed = max((await unit_ledger(uow.session, site, unit_id)).balance_cents, 0)
        deducted = min(owed, deposit.amount_cents)
        deposit.deductions = []
        if deducted:
            deposit.deductions = [
                {"reason": "Unpaid balance at the move-out", "amount_cents": deducted, "kind": UNPAID_BALANCE}
            ]
            offset = PaymentCreate.model_construct(
                site=site,
                unit_id=unit_id,
                amount_cents=deducted,
                currency=deposit.currency,
                # Not a method a clerk picks (PaymentCreate refuses it): only a deposit's settlement pays by it.
                method=cast(Method, DEPOSIT_OFFSET),
                reference=f"DEPOSIT-{deposit.receipt_no or deposit.id}"[:64],
                received_at=None,
                note=f"From tenancy deposit {deposit.receipt_no} at the move-out",
            )
            system = Principal(subject="billing-settlement", roles=frozenset(), sites=frozenset({site}))
            await insert_payment(uow, system, offset, utcnow(), utcnow())
        deposit.settled_at = deposit.updated_at = utcnow()
        await _return(uow, deposit, caused_by)
        returned.append(deposit)
    return returned


async def return_key_card_deposits(uow: UnitOfWork, data: OccupancyMovedOut, moved_out: Envelope) -> list[Deposit]:
    """The party moved out with the keys and cards they gave back: each one's deposit is returned, each one missing
    kept (listed as not returned)."""
    back = {key.number for key in data.keys or []} | set(data.cards or [])
    returned: list[Deposit] = []
    for deposit in await _held(uow.session, data.site, data.unit_id, data.party_id, KEY_CARD):
        deposit.deductions = [
            {
                "reason": f"Key or card {item['number']} not returned",
                "amount_cents": item["amount_cents"],
                "kind": NOT_RETURNED,
            }
            for item in deposit.items or []
            if item["number"] not in back and item["amount_cents"] > 0
        ]
        deposit.settled_at = deposit.updated_at = utcnow()
        await _return(uow, deposit, moved_out)
        returned.append(deposit)
    return returned


# --- reads ---------------------------------------------------------------------------------------------


async def check_reader(session: AsyncSession, principal: Principal, deposit: Deposit) -> None:
    """Staff see their sites' deposits; an owner only their own unit's."""
    await check_owner(session, principal, deposit.unit_id)


async def list_deposits(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str | None,
    unit_id: str | None,
    status: str | None,
    purpose: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Deposit], int]:
    if not principal.roles - {"owner"}:
        if not unit_id:
            raise Forbidden("an owner lists the deposits of their own unit: give unit_id", field="unit_id")
        await check_owner(session, principal, unit_id)
    query = select(Deposit).where(principal.site_filter(Deposit.site, site))
    if unit_id:
        query = query.where(Deposit.unit_id == unit_id)
    if status:
        query = query.where(Deposit.status == status)
    if purpose:
        query = query.where(Deposit.purpose == purpose)
    return await fetch_page(session, query, Deposit.requested_at.desc(), Deposit.id, limit=limit, offset=offset)
