from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from billing.payment import service
from billing.payment.models import Payment, PaymentCreate, PaymentRead, PaymentsSummary, PaymentVoid, ReceiptRead
from billing.permissions import READ_PAYMENTS, RECORD_PAYMENTS, VOID_PAYMENTS
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require
from pm_platform.db import get_in_scope
from pm_platform.envelope import MONTH_PATTERN

router = APIRouter(tags=["payments"])
RecordPayments = Annotated[Principal, Depends(require(RECORD_PAYMENTS))]
VoidPayments = Annotated[Principal, Depends(require(VOID_PAYMENTS))]
ReadPayments = Annotated[Principal, Depends(require(READ_PAYMENTS))]


async def payment_in_scope(payment_id: str, session: SessionDep, principal: ReadPayments) -> Payment:
    return await get_in_scope(session, Payment, payment_id, principal, what="payment")


PaymentInScope = Annotated[Payment, Depends(payment_in_scope)]


def read(payment: Payment) -> PaymentRead:
    return PaymentRead.model_validate(payment, from_attributes=True)


@router.post(
    "/payments",
    response_model=PaymentRead,
    status_code=201,
    responses={200: {"description": "A payment with this reference was already recorded"}},
)
async def record_payment(body: PaymentCreate, uow: UowDep, principal: RecordPayments, response: Response) -> Any:
    payment, created = await service.record_payment(uow, principal, body)
    if not created:
        response.status_code = 200
    return read(payment)


@router.get("/payments", response_model=Page[PaymentRead])
async def list_payments(
    session: SessionDep,
    principal: ReadPayments,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    unit_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_payments(
        session, principal, site=site, unit_id=unit_id, limit=limit, offset=offset
    )
    return page([read(r) for r in rows], total, limit, offset)


@router.get("/payments/summary", response_model=PaymentsSummary)
async def payments_summary(
    session: SessionDep,
    principal: ReadPayments,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    month: Annotated[str, Query(pattern=MONTH_PATTERN)],
) -> Any:
    return await service.month_summary(session, principal, site, month)


@router.get("/payments/{payment_id}", response_model=PaymentRead)
async def get_payment(payment: PaymentInScope) -> Any:
    return read(payment)


@router.get("/payments/{payment_id}/receipt", response_model=ReceiptRead)
async def get_receipt(payment: PaymentInScope, session: SessionDep, principal: ReadPayments) -> Any:
    """What the payment's printed receipt carries: the unit, its payer and the charges the payment settled."""
    return await service.receipt(session, principal, payment)


@router.post("/payments/{payment_id}/void", response_model=PaymentRead)
async def void_payment(payment_id: str, body: PaymentVoid, uow: UowDep, principal: VoidPayments) -> Any:
    return read(await service.void_payment(uow, principal, payment_id, body))
