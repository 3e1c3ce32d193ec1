"""Payments: a clerk records what a unit paid (idempotent by the payment's reference at the site), each with the
site's next receipt number; a wrong one is voided with a reason. Either changes the unit's status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.models import Charge, charge_kind
from billing.account.service import refresh_status, settlement_order, site_currency
from billing.cash.models import CashCollection
from billing.deposit.models import DepositReceiptCounter
from billing.directory.models import PHONE_ROLES, Unit, payer_read, unit_read
from billing.directory.service import payers, site_timezone, site_today
from billing.income.models import IncomeReceiptCounter
from billing.monthend import service as monthend
from billing.payment.models import (
    MethodTotal,
    Payment,
    PaymentCreate,
    PaymentRead,
    PaymentsSummary,
    PaymentVoid,
    ReceiptCounter,
    ReceiptItem,
    ReceiptRead,
)
from billing.refund import service as refunds
from billing.refund.models import Refund, RefundStatus
from billing.settlement import service as settlements
from pm_events.billing import PaymentRecorded
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import as_utc, new_id, utcnow
from pm_platform.errors import Conflict, Invalid, NotFound
from pm_platform.sitetime import local_date, month_bounds, month_of_instant
from pm_platform.uow import UnitOfWork


async def next_receipt(
    session: AsyncSession,
    site: str,
    counter: type[ReceiptCounter | DepositReceiptCounter | IncomeReceiptCounter] = ReceiptCounter,
) -> int:
    """The site's next receipt number (of payments, or of another series: deposits, income). The counter row is updated
    inside the payment's transaction (a row lock on PostgreSQL), so concurrent payments queue and a rolled-back
    one gives its number back."""
    bumped = await session.execute(
        update(counter).where(counter.site == site).values(last_seq=counter.last_seq + 1).returning(counter.last_seq)
    )
    seq = bumped.scalar_one_or_none()
    if seq is None:
        session.add(counter(site=site, last_seq=1))
        await session.flush()  # a concurrent first payment of the site fails on the primary key, not a gap
        seq = 1
    return int(seq)


def receipt_no(site: str, seq: int) -> str:
    return f"{site.upper()}-{seq:06d}"


async def record_payment(uow: UnitOfWork, principal: Principal, request: PaymentCreate) -> tuple[Payment, bool]:
    """Record a payment; (payment, created). The same reference again is the same payment (created False);
    the reference reused for a different unit or amount is a conflict."""
    principal.check_site(request.site)
    existing = (
        await uow.session.scalars(
            select(Payment).where(Payment.site == request.site, Payment.reference == request.reference)
        )
    ).first()
    if existing is not None:
        if (existing.unit_id, existing.amount_cents, existing.currency) != (
            request.unit_id,
            request.amount_cents,
            request.currency,
        ):
            raise Conflict(
                f"reference {request.reference} was already used for receipt {existing.receipt_no} "
                f"({existing.unit_id}, {existing.amount_cents} {existing.currency})",
                field="reference",
            )
        return existing, False
    unit = await uow.session.get(Unit, request.unit_id)
    known = unit is not None and unit.site == request.site
    if not known and not await uow.session.scalar(
        select(func.count()).select_from(Charge).where(Charge.site == request.site, Charge.unit_id == request.unit_id)
    ):
        raise NotFound(f"unit {request.unit_id} is not known at site {request.site}", field="unit_id")
    currency = await site_currency(uow.session, request.site)
    if request.currency != currency:
        raise Invalid(f"site {request.site} takes payments in {currency}", field="currency")
    now = utcnow()
    received_at = (
        request.received_at.replace(tzinfo=UTC)
        if request.received_at and request.received_at.tzinfo is None
        else request.received_at
    ) or now
    if received_at > now:
        raise Invalid("a payment cannot be received in the future", field="received_at")
    await monthend.check_open(
        uow.session, request.site, month_of_instant(received_at, await site_timezone(uow.session, request.site))
    )
    try:
        payment = await insert_payment(uow, principal, request, received_at.astimezone(UTC), now)
        await uow.commit()
    except IntegrityError:
        raise Conflict(
            f"a payment with reference {request.reference} or the site's next receipt was recorded "
            "concurrently; send it again",
            field="reference",
        ) from None
    return payment, True


async def insert_payment(
    uow: UnitOfWork,
    principal: Principal,
    request: PaymentCreate,
    received_at: datetime,
    now: datetime,
    *,
    charge_id: str | None = None,
) -> Payment:
    """A new payment with the site's next receipt number, and what follows from it (the unit's status, a settlement
    waiting on it), in the caller's unit of work: the caller commits. ``charge_id``: taken for that charge, which it
    settles first."""
    seq = await next_receipt(uow.session, request.site)
    payment = Payment(
        id=new_id(),
        site=request.site,
        unit_id=request.unit_id,
        amount_cents=request.amount_cents,
        currency=request.currency,
        method=request.method,
        reference=request.reference,
        receipt_seq=seq,
        receipt_no=receipt_no(request.site, seq),
        note=request.note,
        charge_id=charge_id,
        received_at=received_at,
        recorded_by=principal.subject,
        recorded_at=now,
    )
    uow.session.add(payment)
    uow.emit(
        PaymentRecorded(
            payment_id=payment.id,
            site=payment.site,
            unit_id=payment.unit_id,
            receipt_no=payment.receipt_no,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            method=request.method,
            received_at=as_utc(payment.received_at).isoformat(),
        ),
        subject=payment.id,
        site=payment.site,
        correlation_id=payment.id,
    )
    await refresh_status(uow, payment.site, payment.unit_id, reason="payment", correlation_id=payment.id)
    # A settlement billing answered "owed" is answered again once this payment clears it.
    await settlements.recheck(uow, payment.site, payment.unit_id, correlation_id=payment.id)
    return payment


async def void_payment(uow: UnitOfWork, principal: Principal, payment_id: str, request: PaymentVoid) -> Payment:
    """Void a payment with a reason: it stays on record with its receipt number and stops counting. Only on the
    site's day it was taken (the day's cash and takings still balance); later, money goes back by a refund."""
    payment = await get_in_scope(uow.session, Payment, payment_id, principal, what="payment")
    if payment.voided_at is not None:
        raise Conflict(f"payment {payment_id} (receipt {payment.receipt_no}) is already void", field="payment_id")
    timezone = await site_timezone(uow.session, payment.site)
    taken_on = local_date(as_utc(payment.recorded_at), timezone)
    if taken_on != await site_today(uow.session, payment.site):
        raise Conflict(
            f"payment {payment.receipt_no} was taken on {taken_on.isoformat()}: a payment is voided only on the day "
            "it was taken; ask for a refund instead",
            field="payment_id",
        )
    handed_over = await uow.session.scalar(
        select(CashCollection.handover_id).where(CashCollection.payment_id == payment.id).with_for_update()
    )  # locked (PostgreSQL): a handover of it under way decides first
    if handed_over is not None:
        # The cash is with the clerks now and the handover balanced with it: money goes back by a refund.
        raise Conflict(
            f"payment {payment.receipt_no} was taken on site and its cash handed over: ask for a refund instead",
            field="payment_id",
        )
    if await refunds.standing_against(uow.session, payment.id):
        # Voiding it would take back money already (or about to be) paid back: the refunds are decided first.
        raise Conflict(
            f"payment {payment.receipt_no} has refunds asked for or approved: it cannot be voided", field="payment_id"
        )
    payment.voided_at = utcnow()
    payment.voided_by = principal.subject
    payment.void_reason = request.reason
    await refresh_status(uow, payment.site, payment.unit_id, reason="payment", correlation_id=payment.id)
    await uow.commit()
    return payment


async def month_summary(session: AsyncSession, principal: Principal, site: str, month: str) -> PaymentsSummary:
    """Payments received in a month of the site's calendar (a payment at 04:00 on the 1st in Shanghai is the new
    month's), voids apart, and the refunds approved in it, for the month-end reconciliation with finance."""
    principal.check_site(site)
    start, end = month_bounds(month, await site_timezone(session, site))
    rows = (
        await session.scalars(
            select(Payment)
            .where(Payment.site == site, Payment.received_at >= start, Payment.received_at < end)
            .order_by(Payment.receipt_seq)
        )
    ).all()
    live = [p for p in rows if p.voided_at is None]
    voided = [p for p in rows if p.voided_at is not None]
    methods: dict[str, MethodTotal] = {}
    for p in live:
        total = methods.setdefault(p.method, MethodTotal(method=p.method, payments=0, amount_cents=0))
        total.payments += 1
        total.amount_cents += p.amount_cents
    refunded = (
        await session.scalars(
            select(Refund.amount_cents).where(
                Refund.site == site,
                Refund.status == RefundStatus.approved.value,
                Refund.decided_at >= start,
                Refund.decided_at < end,
            )
        )
    ).all()
    return PaymentsSummary(
        site=site,
        month=month,
        refunds=len(refunded),
        refunded_cents=sum(refunded),
        currency=await site_currency(session, site),
        payments=len(live),
        amount_cents=sum(p.amount_cents for p in live),
        by_method=sorted(methods.values(), key=lambda m: m.method),
        voided=len(voided),
        voided_cents=sum(p.amount_cents for p in voided),
        first_receipt=rows[0].receipt_no if rows else None,
        last_receipt=rows[-1].receipt_no if rows else None,
    )


async def list_payments(
    session: AsyncSession, principal: Principal, *, site: str, unit_id: str | None, limit: int, offset: int
) -> tuple[Sequence[Payment], int]:
    query = select(Payment).where(principal.site_filter(Payment.site, site))
    if unit_id:
        query = query.where(Payment.unit_id == unit_id)
    return await fetch_page(session, query, Payment.receipt_seq.desc(), limit=limit, offset=offset)


def receipt_items(payment: Payment, others: Sequence[Payment], charges: Sequence[Charge]) -> list[ReceiptItem]:
    """The parts of the charges ``payment`` settled, as the ledger settles them: a payment taken for a charge settles
    it first (up to what is left of it), and the rest of every payment goes to the oldest due charges, in the order
    the payments were received."""

    def position(p: Payment) -> tuple[datetime, int]:
        return as_utc(p.received_at), p.receipt_seq

    by_id = {c.id: c for c in charges}
    paid_for: dict[str, int] = {}  # per charge, what the payments taken for it settle of it
    own: dict[str, int] = {}  # this payment's parts, per charge
    pooled: dict[str, int] = {}  # per payment, what of it goes to the oldest due charges
    for p in sorted([*others, payment], key=position):
        target = by_id.get(p.charge_id) if p.charge_id else None
        part = min(p.amount_cents, target.amount_cents - paid_for.get(target.id, 0)) if target else 0
        if target and part > 0:
            paid_for[target.id] = paid_for.get(target.id, 0) + part
            if p is payment:
                own[target.id] = part
        pooled[p.id] = p.amount_cents - part
    start = sum(pooled[p.id] for p in others if position(p) < position(payment))
    end = start + pooled[payment.id]
    settled_before = 0  # the charges ahead of this one in settlement order
    for charge in sorted(charges, key=settlement_order):
        open_part = charge.amount_cents - paid_for.get(charge.id, 0)
        part = min(end, settled_before + open_part) - max(start, settled_before)
        settled_before += open_part
        if part > 0:
            own[charge.id] = own.get(charge.id, 0) + part
    return [
        ReceiptItem(
            charge_id=charge.id,
            kind=charge_kind(charge.kind),
            item=charge.item,
            period=charge.period,
            amount_cents=own[charge.id],
        )
        for charge in sorted(charges, key=settlement_order)
        if own.get(charge.id)
    ]


async def receipt(session: AsyncSession, principal: Principal, payment: Payment) -> ReceiptRead:
    """A payment's receipt: the unit, its payer and the charges the payment settled. The unit's payments settle
    its charges oldest due first (one taken for a charge, that charge first), in the order they were received; a void
    payment shows what it settled while it counted."""
    charges = (
        await session.scalars(select(Charge).where(Charge.site == payment.site, Charge.unit_id == payment.unit_id))
    ).all()
    others = (
        await session.scalars(
            select(Payment).where(
                Payment.site == payment.site,
                Payment.unit_id == payment.unit_id,
                Payment.voided_at.is_(None),
                Payment.id != payment.id,
            )
        )
    ).all()
    items = receipt_items(payment, others, charges)
    unit = await session.get(Unit, payment.unit_id)
    unit = unit if unit is not None and unit.site == payment.site else None
    payer = (await payers(session, {payment.unit_id: unit} if unit else {}, [payment.unit_id])).get(payment.unit_id)
    return ReceiptRead(
        payment=PaymentRead.model_validate(payment, from_attributes=True),
        unit=unit_read(unit) if unit else None,
        payer=payer_read(payer, full_phone=principal.has_any(PHONE_ROLES)) if payer else None,
        items=items,
        credit_cents=payment.amount_cents - sum(i.amount_cents for i in items),
    )
