from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billing.income import service
from billing.income.models import IncomeRead, IncomeReceipt
from billing.payment.models import PaymentVoid
from billing.permissions import READ_INCOME, VOID_PAYMENTS
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require
from pm_platform.db import get_in_scope
from pm_platform.envelope import MONTH_PATTERN

router = APIRouter(tags=["income"])
ReadIncome = Annotated[Principal, Depends(require(READ_INCOME))]
VoidIncome = Annotated[Principal, Depends(require(VOID_PAYMENTS))]


async def income_in_scope(income_id: str, uow: UowDep, principal: ReadIncome) -> IncomeReceipt:
    return await get_in_scope(uow.session, IncomeReceipt, income_id, principal, what="income receipt")


IncomeInScope = Annotated[IncomeReceipt, Depends(income_in_scope)]


@router.get("/income-receipts", response_model=Page[IncomeRead])
async def list_income(
    session: SessionDep,
    principal: ReadIncome,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    fee_item: Annotated[str | None, Query(max_length=32)] = None,
    source_id: Annotated[str | None, Query(max_length=64, description="A parking session or rental contract")] = None,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN, description="Received in this month of the site")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Money taken that is not on a unit's account (temporary parking, outside renters' rent), newest receipt
    first."""
    rows, total = await service.list_income(
        session, principal, site=site, fee_item=fee_item, source_id=source_id, month=month, limit=limit, offset=offset
    )
    return page([IncomeRead.of(r) for r in rows], total, limit, offset)


@router.get("/income-receipts/{income_id}", response_model=IncomeRead)
async def get_income(row: IncomeInScope) -> Any:
    """The receipt (收据) as printed: its number, what it paid, the amount and how."""
    return IncomeRead.of(row)


@router.post("/income-receipts/{income_id}/void", response_model=IncomeRead)
async def void_income(row: IncomeInScope, body: PaymentVoid, uow: UowDep, principal: VoidIncome) -> Any:
    """Void a receipt with a reason on the site's day it was taken (409 on a later day); it keeps its number."""
    return IncomeRead.of(await service.void_income(uow, principal, row, body))
