"""An owner's bill in the portal: the same printable statement the billing staff see. Billing shows an owner only
their own unit's bills (a neighbour's is its 403, shown in its words); the list is on 我的账单 (/portal/account)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from console.billing.bills import statement
from console.portal.views import OwnerPage

router = APIRouter(prefix="/portal/bills")


@router.get("/{bill_id}")
async def my_bill(page: OwnerPage, bill_id: Annotated[str, Path(max_length=64)]) -> Response:
    return await statement(page, bill_id, "billing/portal_bill.html")
