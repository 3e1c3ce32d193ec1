from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from billing.monthend import service
from billing.monthend.models import MonthCloseCreate, MonthReport
from billing.permissions import CLOSE_MONTHS, READ_MONTH_REPORTS
from pm_platform.app import SessionDep, UowDep
from pm_platform.auth import Principal, require
from pm_platform.envelope import MONTH_PATTERN

router = APIRouter(tags=["month-end"])
ReadReports = Annotated[Principal, Depends(require(READ_MONTH_REPORTS))]
CloseMonths = Annotated[Principal, Depends(require(CLOSE_MONTHS))]
Month = Annotated[str, Query(pattern=MONTH_PATTERN)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/sites/{site}/month-report", response_model=MonthReport)
async def get_report(site: str, month: Month, session: SessionDep, _: ReadReports) -> Any:
    """Billed, collected and outstanding per fee item in the site's month, with the takings per method (the frozen
    figures once the month is closed)."""
    return await service.month_report(session, site, month)


@router.get(
    "/sites/{site}/month-report/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}, "description": "The report as a file"}},
)
async def export_report(
    site: str, month: Month, session: SessionDep, _: ReadReports, format: Literal["csv", "xlsx"] = "csv"
) -> Response:
    """The same figures as a CSV or XLSX file for finance: one row per fee item, the total, then the takings."""
    report = await service.month_report(session, site, month)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{site}-{month}.{format}")  # a header carries Latin-1 only
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "xlsx":
        return Response(service.to_xlsx(report), media_type=XLSX, headers=headers)
    return Response(service.to_csv(report), media_type="text/csv; charset=utf-8", headers=headers)


@router.post("/sites/{site}/month-closes", response_model=MonthReport, status_code=201)
async def close_month(site: str, body: MonthCloseCreate, uow: UowDep, principal: CloseMonths) -> Any:
    """Close a month that has ended: its figures are frozen; money dated in it is refused from then on."""
    return await service.close_month(uow, principal, site, body)
