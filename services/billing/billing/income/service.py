"""Income rows: recorded with the site's next income receipt, voided on the day they were taken, listed (month-end
adds them up per fee item and method itself: it is imported by payments, which this imports)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.service import site_currency
from billing.directory.service import site_timezone
from billing.income.models import IncomeReceipt, IncomeReceiptCounter
from billing.payment.models import PaymentVoid
from billing.payment.service import next_receipt
from pm_platform.auth import Principal
from pm_platform.db import fetch_page
from pm_platform.envelope import as_utc, new_id, utcnow
from pm_platform.errors import Conflict
from pm_platform.sitetime import local_date, month_bounds
from pm_platform.uow import UnitOfWork


def income_receipt_no(site: str, seq: int) -> str:
    return f"{site.upper()}-SR-{seq:06d}"  # 收入: a series apart from payment and deposit receipts


async def record_income(
    uow: UnitOfWork,
    principal: Principal,
    *,
    site: str,
    fee_item: str,
    source: str,
    source_id: str,
    settles: str,
    payer: str,
    item: str,
    amount_cents: int,
    method: str,
    reference: str | None,
    period: str | None = None,
) -> IncomeReceipt:
    """Money received now for ``settles`` (once while it counts), with the site's next income receipt; the caller
    commits (``commit_income`` turns a concurrent duplicate into a 409)."""
    taken = (await uow.session.scalars(select(IncomeReceipt).where(IncomeReceipt.settles == settles))).first()
    if taken is not None:
        raise Conflict(f"{item} is paid already: receipt {taken.receipt_no}", field="source_id")
    if reference is not None:
        reused = (
            await uow.session.scalars(
                select(IncomeReceipt).where(IncomeReceipt.site == site, IncomeReceipt.reference == reference)
            )
        ).first()
        if reused is not None:
            raise Conflict(f"reference {reference} was used for receipt {reused.receipt_no}", field="reference")
    seq = await next_receipt(uow.session, site, IncomeReceiptCounter)
    row = IncomeReceipt(
        id=new_id(),
        site=site,
        fee_item=fee_item,
        source=source,
        source_id=source_id,
        settles=settles,
        payer=payer[:120],
        item=item[:160],
        period=period,
        amount_cents=amount_cents,
        currency=await site_currency(uow.session, site),
        method=method,
        reference=reference,
        receipt_seq=seq,
        receipt_no=income_receipt_no(site, seq),
        received_at=utcnow(),
        recorded_by=principal.subject,
    )
    uow.session.add(row)
    return row


async def commit_income(uow: UnitOfWork) -> None:
    try:
        await uow.commit()
    except IntegrityError:
        raise Conflict(
            "it was paid, or the reference or the site's next receipt used, concurrently: look it up and send it again",
            field="source_id",
        ) from None


async def void_income(uow: UnitOfWork, principal: Principal, row: IncomeReceipt, body: PaymentVoid) -> IncomeReceipt:
    """Void a receipt with a reason, only on the site's day it was taken (the day's cash still balances): it stays
    with its number and stops counting; what it paid for is open to be paid again."""
    if row.voided_at is not None:
        raise Conflict(f"receipt {row.receipt_no} is already void", field="income_id")
    timezone = await site_timezone(uow.session, row.site)
    now = utcnow()
    if local_date(as_utc(row.received_at), timezone) != local_date(now, timezone):
        raise Conflict(f"receipt {row.receipt_no} was taken on another day: it cannot be voided", field="income_id")
    row.voided_at, row.voided_by, row.void_reason, row.settles = now, principal.subject, body.reason, None
    await uow.commit()
    return row


async def list_income(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str,
    fee_item: str | None,
    source_id: str | None,
    month: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[IncomeReceipt], int]:
    query = select(IncomeReceipt).where(principal.site_filter(IncomeReceipt.site, site))
    if fee_item:
        query = query.where(IncomeReceipt.fee_item == fee_item)
    if source_id:
        query = query.where(IncomeReceipt.source_id == source_id)
    if month:
        start, end = month_bounds(month, await site_timezone(session, site))
        query = query.where(IncomeReceipt.received_at >= start, IncomeReceipt.received_at < end)
    return await fetch_page(session, query, IncomeReceipt.receipt_seq.desc(), limit=limit, offset=offset)
