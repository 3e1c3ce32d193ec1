"""Refund use cases: a clerk asks for a refund of (part of) a payment with a reason; a manager other than the clerk
approves it, and only then does it count on the account and go out as billing.refund.recorded.v1; or rejects it
with a note. A payment never gives back more than was paid on it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.service import refresh_status
from billing.payment.models import Method, Payment
from billing.refund.models import (
    PENDING_OR_APPROVED,
    Refund,
    RefundCreate,
    RefundRead,
    RefundStatus,
)
from pm_events.billing import RefundRecorded
from pm_platform.approval import ApprovalAction, Approve, Reject, decide
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import as_utc, new_id, utcnow
from pm_platform.errors import Conflict, Invalid
from pm_platform.uow import UnitOfWork


def refund_read(refund: Refund) -> RefundRead:
    return RefundRead.model_validate(refund, from_attributes=True)


async def standing_against(session: AsyncSession, payment_id: str) -> int:
    """What refunds asked for or approved already take out of a payment."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.payment_id == payment_id, Refund.status.in_(PENDING_OR_APPROVED)
        )
    )
    return int(total or 0)


async def request_refund(uow: UnitOfWork, principal: Principal, payment_id: str, body: RefundCreate) -> Refund:
    # Locked on PostgreSQL: two clerks asking at once cannot together refund more than the payment.
    payment = await get_in_scope(uow.session, Payment, payment_id, principal, what="payment", for_update=True)
    if payment.voided_at is not None:
        raise Conflict(f"payment {payment.receipt_no} is void: nothing was paid to refund", field="payment_id")
    refundable = payment.amount_cents - await standing_against(uow.session, payment.id)
    if body.amount_cents > refundable:
        raise Invalid(
            f"at most {refundable} of payment {payment.receipt_no} can still be refunded "
            f"({payment.amount_cents} paid, the rest already refunded or asked for)",
            field="amount_cents",
        )
    refund = Refund(
        id=new_id(),
        site=payment.site,
        unit_id=payment.unit_id,
        payment_id=payment.id,
        receipt_no=payment.receipt_no,
        amount_cents=body.amount_cents,
        currency=payment.currency,
        method=body.method or payment.method,
        reason=body.reason,
        status=RefundStatus.requested.value,
        requested_by=principal.subject,
        requested_at=utcnow(),
    )
    uow.session.add(refund)
    await uow.commit()
    return refund


async def _decide(uow: UnitOfWork, principal: Principal, refund_id: str, action: ApprovalAction) -> Refund:
    refund = await get_in_scope(uow.session, Refund, refund_id, principal, what="refund", for_update=True)
    decide(refund, action, principal, what=f"refund {refund.id}", at=utcnow())
    return refund


async def approve(uow: UnitOfWork, principal: Principal, refund_id: str, body: Approve) -> Refund:
    refund = await _decide(uow, principal, refund_id, ApprovalAction.approve)
    payment = await uow.session.get(Payment, refund.payment_id)
    if payment is None or payment.voided_at is not None:
        raise Conflict(f"payment {refund.receipt_no} was voided since the refund was asked for", field="payment_id")
    refund.decision_note = body.note
    assert refund.decided_at is not None
    uow.emit(
        RefundRecorded(
            refund_id=refund.id,
            site=refund.site,
            unit_id=refund.unit_id,
            payment_id=refund.payment_id,
            receipt_no=refund.receipt_no,
            amount_cents=refund.amount_cents,
            currency=refund.currency,
            method=cast(Method, refund.method),  # one of Method, checked when it was asked for
            reason=refund.reason,
            requested_by=refund.requested_by,
            approved_by=principal.subject,
            approved_at=as_utc(refund.decided_at).isoformat(),
        ),
        subject=refund.id,
        site=refund.site,
        correlation_id=refund.payment_id,
    )
    await refresh_status(uow, refund.site, refund.unit_id, reason="refund", correlation_id=refund.payment_id)
    await uow.commit()
    return refund


async def reject(uow: UnitOfWork, principal: Principal, refund_id: str, body: Reject) -> Refund:
    refund = await _decide(uow, principal, refund_id, ApprovalAction.reject)
    refund.decision_note = body.note
    await uow.commit()
    return refund


async def list_refunds(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str,
    status: RefundStatus | None,
    unit_id: str | None,
    payment_id: str | None = None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Refund], int]:
    query = select(Refund).where(principal.site_filter(Refund.site, site))
    if status is not None:
        query = query.where(Refund.status == status.value)
    if unit_id:
        query = query.where(Refund.unit_id == unit_id)
    if payment_id:
        query = query.where(Refund.payment_id == payment_id)
    return await fetch_page(session, query, Refund.requested_at.desc(), Refund.id, limit=limit, offset=offset)
