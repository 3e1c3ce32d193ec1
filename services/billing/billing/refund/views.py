from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billing.permissions import APPROVE_REFUNDS, READ_PAYMENTS, REQUEST_REFUNDS
from billing.refund import service
from billing.refund.models import Refund, RefundCreate, RefundRead, RefundStatus
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.approval import Approve, Reject
from pm_platform.auth import Principal, require
from pm_platform.db import get_in_scope

router = APIRouter(tags=["refunds"])
ReadRefunds = Annotated[Principal, Depends(require(READ_PAYMENTS))]
RequestRefunds = Annotated[Principal, Depends(require(REQUEST_REFUNDS))]
ApproveRefunds = Annotated[Principal, Depends(require(APPROVE_REFUNDS))]


async def refund_in_scope(refund_id: str, session: SessionDep, principal: ReadRefunds) -> Refund:
    return await get_in_scope(session, Refund, refund_id, principal, what="refund")


RefundInScope = Annotated[Refund, Depends(refund_in_scope)]


@router.post("/payments/{payment_id}/refunds", response_model=RefundRead, status_code=201)
async def request_refund(payment_id: str, body: RefundCreate, uow: UowDep, principal: RequestRefunds) -> Any:
    """Ask for (part of) a payment back, with the reason: it counts once a manager other than you approves it."""
    return service.refund_read(await service.request_refund(uow, principal, payment_id, body))


@router.get("/refunds", response_model=Page[RefundRead])
async def list_refunds(
    session: SessionDep,
    principal: ReadRefunds,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    status: RefundStatus | None = None,
    unit_id: str | None = None,
    payment_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """A site's refunds, newest first: ``status=requested`` is the manager's approval queue."""
    rows, total = await service.list_refunds(
        session, principal, site=site, status=status, unit_id=unit_id, payment_id=payment_id, limit=limit, offset=offset
    )
    return page([service.refund_read(r) for r in rows], total, limit, offset)


@router.get("/refunds/{refund_id}", response_model=RefundRead)
async def get_refund(refund: RefundInScope) -> Any:
    return service.refund_read(refund)


@router.post("/refunds/{refund_id}/approve", response_model=RefundRead)
async def approve_refund(refund_id: str, body: Approve, uow: UowDep, principal: ApproveRefunds) -> Any:
    """Approve a refund someone else asked for: it counts on the account and billing.refund.recorded.v1 goes out."""
    return service.refund_read(await service.approve(uow, principal, refund_id, body))


@router.post("/refunds/{refund_id}/reject", response_model=RefundRead)
async def reject_refund(refund_id: str, body: Reject, uow: UowDep, principal: ApproveRefunds) -> Any:
    return service.refund_read(await service.reject(uow, principal, refund_id, body))
