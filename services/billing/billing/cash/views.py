from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from billing.cash import service
from billing.cash.models import (
    CashDue,
    CashHandoverCreate,
    CashHandoverRead,
    CashReceiptCreate,
    CashReceiptRead,
    PendingCash,
)
from billing.payment.models import ReceiptRead
from billing.permissions import HAND_OVER_CASH, READ_CASH, READ_CASH_HANDOVERS, TAKE_CASH
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require

router = APIRouter(tags=["cash on site"])
TakeCash = Annotated[Principal, Depends(require(TAKE_CASH))]
ReadCash = Annotated[Principal, Depends(require(READ_CASH))]
HandOver = Annotated[Principal, Depends(require(HAND_OVER_CASH))]
ReadHandovers = Annotated[Principal, Depends(require(READ_CASH_HANDOVERS))]
Site = Annotated[str, Query(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.post(
    "/charges/{charge_id}/cash-receipts",
    response_model=CashReceiptRead,
    status_code=201,
    responses={200: {"description": "Cash with this client_key was already taken: the same receipt"}},
)
async def take_cash(
    charge_id: str, body: CashReceiptCreate, uow: UowDep, principal: TakeCash, response: Response
) -> Any:
    """The worker who did a paid repair takes its cash on site: a payment of method cash for the charge with the
    site's next receipt number. At most what is outstanding of the charge (422 naming amount_cents)."""
    receipt, created = await service.take_cash(uow, principal, charge_id, body)
    if not created:
        response.status_code = 200
    return receipt


@router.get("/cash-due", response_model=list[CashDue])
async def cash_due(
    session: SessionDep,
    principal: TakeCash,
    site: Site,
    work_order_id: Annotated[str | None, Query(max_length=64)] = None,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 100,
) -> Any:
    """The site's repair charges with something outstanding whose cash the caller may take, newest first."""
    return await service.cash_due(session, principal, site, work_order_id=work_order_id, unit_id=unit_id, limit=limit)


@router.get("/cash-receipts", response_model=Page[CashReceiptRead])
async def list_cash_receipts(
    session: SessionDep,
    principal: ReadCash,
    site: Site,
    worker: Annotated[str | None, Query(max_length=128)] = None,
    day: date | None = None,
    pending: Annotated[bool | None, Query(description="true: not handed over yet (voided aside)")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Cash taken on site, newest first: a worker's own only."""
    rows, total = await service.list_receipts(
        session, principal, site=site, worker=worker, day=day, pending=pending, limit=limit, offset=offset
    )
    return page(rows, total, limit, offset)


@router.get("/cash-receipts/{receipt_id}", response_model=CashReceiptRead)
async def get_cash_receipt(receipt_id: str, session: SessionDep, principal: ReadCash) -> Any:
    """A receipt taken on site, by its payment's id."""
    return await service.get_receipt(session, principal, receipt_id)


@router.get("/cash-receipts/{receipt_id}/receipt", response_model=ReceiptRead)
async def get_printable_receipt(receipt_id: str, session: SessionDep, principal: ReadCash) -> Any:
    """What the printed receipt carries (as a payment's at the counter): the unit, its payer, the charge it paid."""
    return await service.printable_receipt(session, principal, receipt_id)


@router.get("/cash-handovers/pending", response_model=list[PendingCash])
async def pending_cash(
    session: SessionDep,
    principal: ReadHandovers,
    site: Site,
    worker: Annotated[str | None, Query(max_length=128)] = None,
    day: date | None = None,
) -> Any:
    """Each worker's cash of each day (the site's) not handed over yet: its receipts and what they add up to."""
    return await service.pending_cash(session, principal, site, worker=worker, day=day)


@router.post("/cash-handovers", response_model=CashHandoverRead, status_code=201)
async def hand_over(body: CashHandoverCreate, uow: UowDep, principal: HandOver) -> Any:
    """Record a worker's cash of a day as counted by the clerk. It must balance: counted_cents other than what the
    receipts add up to is refused (409 naming counted_cents, with expected_cents and difference_cents) and nothing
    is recorded; a receipt handed over, or voided, is never in another handover."""
    return await service.hand_over(uow, principal, body)


@router.get("/cash-handovers", response_model=Page[CashHandoverRead])
async def list_handovers(
    session: SessionDep,
    principal: ReadHandovers,
    site: Site,
    worker: Annotated[str | None, Query(max_length=128)] = None,
    day: date | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_handovers(
        session, principal, site=site, worker=worker, day=day, limit=limit, offset=offset
    )
    return page(rows, total, limit, offset)


@router.get("/cash-handovers/{handover_id}", response_model=CashHandoverRead)
async def get_handover(handover_id: str, session: SessionDep, principal: ReadHandovers) -> Any:
    return await service.get_handover(session, principal, handover_id)
