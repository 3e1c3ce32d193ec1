"""Cash on site: a worker takes the cash of a paid repair and issues its receipt (a payment of method cash for that
charge, the site's next receipt number), once per key of the phone; a clerk takes each worker's cash of a day and
records the handover only when the count is what the receipts add up to (a voided receipt is not in it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.models import REPAIR, AccountStatus, Charge
from billing.account.service import site_ledgers, unit_ledger
from billing.cash.models import (
    DEFAULT_DEPARTMENT,
    CashCollection,
    CashDue,
    CashHandover,
    CashHandoverCreate,
    CashHandoverRead,
    CashReceiptCreate,
    CashReceiptRead,
    PendingCash,
)
from billing.directory.service import site_timezone
from billing.payment.models import Payment, PaymentCreate, PaymentRead, ReceiptRead
from billing.payment.service import insert_payment
from billing.payment.service import receipt as payment_receipt
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import new_id, utcnow
from pm_platform.errors import Conflict, Forbidden, Invalid, NotFound
from pm_platform.money import yuan
from pm_platform.sitetime import local_date
from pm_platform.uow import UnitOfWork


def worker_only(principal: Principal) -> bool:
    """A department worker sees only the cash they took themselves."""
    return "worker" in principal.roles and not (principal.roles - {"worker"})


def check_collector(principal: Principal, charge: Charge) -> bool:
    """May this worker take the charge's cash? The worker who did the repair when billing knows them (True), else
    any worker of the department that did it (engineering when not known either: False, and who took it is kept)."""
    if charge.worker:
        if principal.subject != charge.worker:
            raise Forbidden(
                f"the cash of this repair is taken by the worker who did it ({charge.worker})", field="charge_id"
            )
        return True
    department = charge.department or DEFAULT_DEPARTMENT
    if principal.department != department:
        raise Forbidden(f"the cash of this repair is taken by a worker of {department}", field="charge_id")
    return False


def collectable_by(principal: Principal) -> ColumnElement[bool]:
    """The repair charges whose cash this person may take (as ``check_collector``)."""
    theirs = Charge.worker == principal.subject
    if not principal.department:
        return theirs
    department = func.coalesce(Charge.department, DEFAULT_DEPARTMENT) == principal.department
    return or_(theirs, and_(Charge.worker.is_(None), department))


def read(collection: CashCollection, payment: Payment, outstanding: int | None = None) -> CashReceiptRead:
    return CashReceiptRead(
        payment=PaymentRead.model_validate(payment, from_attributes=True),
        charge_id=collection.charge_id,
        work_order_id=collection.work_order_id,
        unit_id=collection.unit_id,
        collected_by=collection.collected_by,
        department=collection.department,
        by_assignee=collection.by_assignee,
        collected_on=collection.collected_on,
        handover_id=collection.handover_id,
        outstanding_cents=outstanding,
    )


# --- taking cash on site -------------------------------------------------------------------------------


async def take_cash(
    uow: UnitOfWork, principal: Principal, charge_id: str, body: CashReceiptCreate
) -> tuple[CashReceiptRead, bool]:
    """The receipt for cash a worker took for a repair charge; (receipt, created). The same client key again is
    the same receipt (created False); the key reused for another charge or amount is a conflict."""
    charge = await get_in_scope(uow.session, Charge, charge_id, principal, what="charge")
    if charge.kind != REPAIR:
        raise Invalid("only a repair's charge is paid to the worker on site", field="charge_id")
    by_assignee = check_collector(principal, charge)
    existing = (
        await uow.session.scalars(
            select(CashCollection).where(
                CashCollection.site == charge.site, CashCollection.client_key == body.client_key
            )
        )
    ).first()
    if existing is not None:
        return await _repeat(uow.session, principal, charge, body, existing), False
    # The unit's status row is locked first (PostgreSQL): two takings for the same charge queue here, so the second
    # sees what the first left outstanding.
    await uow.session.get(AccountStatus, charge.unit_id, with_for_update=True)
    outstanding = (await unit_ledger(uow.session, charge.site, charge.unit_id)).outstanding.get(charge.id, 0)
    if outstanding <= 0:
        raise Conflict(f"nothing is outstanding of charge {charge.item}: it is paid", field="charge_id")
    if body.amount_cents > outstanding:
        raise Invalid(
            f"{yuan(body.amount_cents)} is more than the {yuan(outstanding)} outstanding of {charge.item}",
            field="amount_cents",
            outstanding_cents=outstanding,
        )
    now = utcnow()
    request = PaymentCreate(
        site=charge.site,
        unit_id=charge.unit_id,
        amount_cents=body.amount_cents,
        currency=charge.currency,
        method="cash",
        reference=f"ONSITE-{body.client_key}",
        note=body.note,
    )
    payment = await insert_payment(uow, principal, request, now, now, charge_id=charge.id)
    collection = CashCollection(
        payment_id=payment.id,
        site=charge.site,
        client_key=body.client_key,
        charge_id=charge.id,
        work_order_id=charge.work_order_id,
        unit_id=charge.unit_id,
        amount_cents=body.amount_cents,
        currency=charge.currency,
        collected_by=principal.subject,
        department=principal.department,
        by_assignee=by_assignee,
        collected_at=now,
        collected_on=local_date(now, await site_timezone(uow.session, charge.site)),
    )
    uow.session.add(collection)
    try:
        await uow.commit()
    except IntegrityError:
        raise Conflict(
            f"cash with key {body.client_key} (or the site's next receipt) was recorded concurrently; send it again",
            field="client_key",
        ) from None
    return read(collection, payment, outstanding - body.amount_cents), True


async def _repeat(
    session: AsyncSession, principal: Principal, charge: Charge, body: CashReceiptCreate, existing: CashCollection
) -> CashReceiptRead:
    if (existing.charge_id, existing.amount_cents, existing.collected_by) != (
        charge.id,
        body.amount_cents,
        principal.subject,
    ):
        raise Conflict(
            f"key {body.client_key} was already used for another taking of cash: make a new key for a new one",
            field="client_key",
        )
    payment = await session.get(Payment, existing.payment_id)
    if payment is None:  # a collection is written with its payment, in one transaction
        raise NotFound("payment", existing.payment_id)
    return read(existing, payment)


async def cash_due(
    session: AsyncSession,
    principal: Principal,
    site: str,
    *,
    work_order_id: str | None = None,
    unit_id: str | None = None,
    limit: int = 100,
) -> list[CashDue]:
    """The repair charges of a site with something outstanding whose cash this worker may take, newest first."""
    principal.check_site(site)
    query = select(Charge).where(Charge.site == site, Charge.kind == REPAIR, collectable_by(principal))
    if work_order_id:
        query = query.where(Charge.work_order_id == work_order_id)
    if unit_id:
        query = query.where(Charge.unit_id == unit_id)
    charges = (await session.scalars(query.order_by(Charge.recorded_at.desc(), Charge.id))).all()
    ledgers = await site_ledgers(session, site, unit_ids=sorted({c.unit_id for c in charges}))
    due: list[CashDue] = []
    for charge in charges:
        outstanding = ledgers[charge.unit_id].outstanding.get(charge.id, 0)
        if outstanding > 0:
            due.append(
                CashDue(
                    charge_id=charge.id,
                    site=charge.site,
                    unit_id=charge.unit_id,
                    item=charge.item,
                    work_order_id=charge.work_order_id,
                    request_id=charge.request_id,
                    amount_cents=charge.amount_cents,
                    outstanding_cents=outstanding,
                    currency=charge.currency,
                    worker=charge.worker,
                    recorded_at=charge.recorded_at,
                )
            )
    return due[:limit]


# --- reading receipts ----------------------------------------------------------------------------------


async def list_receipts(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str,
    worker: str | None,
    day: date | None,
    pending: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[CashReceiptRead], int]:
    """The cash taken on site at a site, newest first; a worker's own only. ``pending``: not handed over (and not
    voided), or handed over."""
    if worker_only(principal):
        if worker and worker != principal.subject:
            raise Forbidden("a worker sees the cash they took themselves", field="worker")
        worker = principal.subject
    query = select(CashCollection).where(principal.site_filter(CashCollection.site, site))
    if worker:
        query = query.where(CashCollection.collected_by == worker)
    if day:
        query = query.where(CashCollection.collected_on == day)
    if pending is not None:
        live = select(Payment.id).where(Payment.voided_at.is_(None))
        query = (
            query.where(CashCollection.handover_id.is_(None), CashCollection.payment_id.in_(live))
            if pending
            else query.where(CashCollection.handover_id.is_not(None))
        )
    rows, total = await fetch_page(
        session, query, CashCollection.collected_at.desc(), CashCollection.payment_id, limit=limit, offset=offset
    )
    payments = await _payments(session, [r.payment_id for r in rows])
    return [read(r, payments[r.payment_id]) for r in rows], total


async def _payments(session: AsyncSession, ids: Sequence[str]) -> dict[str, Payment]:
    if not ids:
        return {}
    return {p.id: p for p in (await session.scalars(select(Payment).where(Payment.id.in_(list(ids))))).all()}


async def collection_in_scope(session: AsyncSession, principal: Principal, payment_id: str) -> CashCollection:
    """A receipt taken on site: in the caller's sites, and a worker's own (another's is not found)."""
    collection = await get_in_scope(session, CashCollection, payment_id, principal, what="cash receipt")
    if worker_only(principal) and collection.collected_by != principal.subject:
        raise NotFound("cash receipt", payment_id)
    return collection


async def get_receipt(session: AsyncSession, principal: Principal, payment_id: str) -> CashReceiptRead:
    collection = await collection_in_scope(session, principal, payment_id)
    return read(collection, (await _payments(session, [payment_id]))[payment_id])


async def printable_receipt(session: AsyncSession, principal: Principal, payment_id: str) -> ReceiptRead:
    """What the printed receipt carries, as for a payment at the counter."""
    await collection_in_scope(session, principal, payment_id)
    payment = (await _payments(session, [payment_id]))[payment_id]
    return await payment_receipt(session, principal, payment)


# --- the daily handover --------------------------------------------------------------------------------


def _pending_query(site: str) -> list[ColumnElement[bool]]:
    return [
        CashCollection.site == site,
        CashCollection.handover_id.is_(None),
        Payment.id == CashCollection.payment_id,
        Payment.voided_at.is_(None),
    ]


async def pending_cash(
    session: AsyncSession, principal: Principal, site: str, *, worker: str | None = None, day: date | None = None
) -> list[PendingCash]:
    """Each worker's cash of each day not handed over yet (voided receipts aside), oldest day first."""
    principal.check_site(site)
    query = select(CashCollection, Payment).where(*_pending_query(site))
    if worker:
        query = query.where(CashCollection.collected_by == worker)
    if day:
        query = query.where(CashCollection.collected_on == day)
    rows = (await session.execute(query.order_by(CashCollection.collected_at, CashCollection.payment_id))).all()
    groups: dict[tuple[date, str], PendingCash] = {}
    for collection, payment in rows:
        key = (collection.collected_on, collection.collected_by)
        group = groups.setdefault(
            key,
            PendingCash(
                site=site,
                worker=collection.collected_by,
                day=collection.collected_on,
                currency=collection.currency,
                receipts=[],
                expected_cents=0,
            ),
        )
        group.receipts.append(read(collection, payment))
        group.expected_cents += collection.amount_cents
    return [groups[key] for key in sorted(groups)]


async def hand_over(uow: UnitOfWork, principal: Principal, body: CashHandoverCreate) -> CashHandoverRead:
    """Record a worker's cash of a day as handed to the clerk, only when the count balances: counted == what the
    live receipts not yet handed over add up to; otherwise 409 naming ``counted_cents`` with the difference, and
    nothing is recorded (count again, or find the missing receipt: a discrepancy is never booked)."""
    principal.check_site(body.site)
    rows = (
        await uow.session.execute(
            select(CashCollection)
            .where(
                *_pending_query(body.site),
                CashCollection.collected_by == body.worker,
                CashCollection.collected_on == body.day,
            )
            .order_by(CashCollection.collected_at, CashCollection.payment_id)
            .with_for_update()  # PostgreSQL: a void or another handover of the same receipts waits for this one
        )
    ).scalars()
    pending = list(rows)
    if body.payment_ids is not None:
        wanted = set(body.payment_ids)
        not_pending = sorted(wanted - {c.payment_id for c in pending})
        if not_pending:
            raise Conflict(
                f"{len(not_pending)} of the receipts are not pending with {body.worker} on {body.day.isoformat()} "
                "(handed over already, voided, or not theirs)",
                field="payment_ids",
                not_pending=not_pending,
            )
        pending = [c for c in pending if c.payment_id in wanted]
    if not pending:
        raise Conflict(
            f"{body.worker} has no cash of {body.day.isoformat()} to hand over at {body.site}", field="worker"
        )
    expected = sum(c.amount_cents for c in pending)
    difference = body.counted_cents - expected
    if difference:
        raise Conflict(
            f"counted {yuan(body.counted_cents)}, but the receipts ({len(pending)}) add up to {yuan(expected)}: "
            f"{yuan(abs(difference))} {'over' if difference > 0 else 'short'}. Nothing was recorded; count again",
            field="counted_cents",
            expected_cents=expected,
            difference_cents=difference,
        )
    handover = CashHandover(
        id=new_id(),
        site=body.site,
        worker=body.worker,
        day=body.day,
        receipts=len(pending),
        amount_cents=expected,
        currency=pending[0].currency,
        received_by=principal.subject,
        received_at=utcnow(),
        note=body.note,
    )
    uow.session.add(handover)
    await uow.session.flush()
    ids = [c.payment_id for c in pending]
    marked = await uow.session.execute(
        update(CashCollection)
        .where(CashCollection.payment_id.in_(ids), CashCollection.handover_id.is_(None))
        .values(handover_id=handover.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(marked, "rowcount", len(ids)) != len(ids):
        raise Conflict("some of these receipts were handed over meanwhile: look again", field="payment_ids")
    await uow.commit()
    return handover_read(handover, ids)


def handover_read(handover: CashHandover, payment_ids: list[str]) -> CashHandoverRead:
    return CashHandoverRead(
        id=handover.id,
        site=handover.site,
        worker=handover.worker,
        day=handover.day,
        receipts=handover.receipts,
        amount_cents=handover.amount_cents,
        currency=handover.currency,
        received_by=handover.received_by,
        received_at=handover.received_at,
        note=handover.note,
        payment_ids=payment_ids,
    )


async def list_handovers(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str,
    worker: str | None,
    day: date | None,
    limit: int,
    offset: int,
) -> tuple[list[CashHandoverRead], int]:
    query = select(CashHandover).where(principal.site_filter(CashHandover.site, site))
    if worker:
        query = query.where(CashHandover.worker == worker)
    if day:
        query = query.where(CashHandover.day == day)
    rows, total = await fetch_page(
        session, query, CashHandover.received_at.desc(), CashHandover.id, limit=limit, offset=offset
    )
    return [handover_read(r, await _handed_over(session, r.id)) for r in rows], total


async def _handed_over(session: AsyncSession, handover_id: str) -> list[str]:
    return list(
        (
            await session.scalars(
                select(CashCollection.payment_id)
                .where(CashCollection.handover_id == handover_id)
                .order_by(CashCollection.collected_at, CashCollection.payment_id)
            )
        ).all()
    )


async def get_handover(session: AsyncSession, principal: Principal, handover_id: str) -> CashHandoverRead:
    handover = await get_in_scope(session, CashHandover, handover_id, principal, what="cash handover")
    return handover_read(handover, await _handed_over(session, handover.id))
