from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from billing.permissions import RECORD_PAYMENTS
from billing.statement import service
from billing.statement.models import StatementResult
from pm_platform.app import UowDep
from pm_platform.auth import Principal, require
from pm_platform.uploads import CSV_REQUEST_BODY, csv_upload

router = APIRouter(tags=["bank statements"])
RecordPayments = Annotated[Principal, Depends(require(RECORD_PAYMENTS))]


@router.post("/sites/{site}/bank-statements", response_model=StatementResult, openapi_extra=CSV_REQUEST_BODY)
async def import_statement(
    site: str, request: Request, uow: UowDep, principal: RecordPayments, commit: bool = False
) -> Any:
    """A bank statement (CSV: date, amount in yuan, reference, memo, payer), each transfer matched to a unit by a
    bill number or the unit's number in its memo. ``commit=false`` previews; ``commit=true`` records the matched
    transfers as payments with receipts (a transfer recorded before is reported, not recorded twice). A bad row
    rejects the file: 422 listing every bad row with its line."""
    return await service.import_statement(uow, principal, site, await csv_upload(request), commit=commit)
