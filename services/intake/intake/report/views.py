from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from intake.organization.service import site_today
from intake.permissions import READ_REPORTS
from intake.report import service
from intake.report.models import ComplaintAnalysis, DailyReport
from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require
from pm_platform.envelope import MONTH_PATTERN, InputDate

router = APIRouter(prefix="/reports", tags=["reports"])
ReadReports = Annotated[Principal, Depends(require(READ_REPORTS))]


@router.get("/daily", response_model=DailyReport)
async def get_daily(site: str, session: SessionDep, _: ReadReports, day: InputDate | None = None) -> object:
    return await service.daily(session, site, day or await site_today(session, site))


@router.get("/complaints", response_model=ComplaintAnalysis)
async def get_complaints(
    session: SessionDep,
    principal: ReadReports,
    month: Annotated[str, Query(pattern=MONTH_PATTERN)],
    site: str | None = None,
) -> object:
    """The monthly complaint analysis (每月投诉汇总及分析) of one site, or of every site the caller sees."""
    return await service.complaint_analysis(session, principal, month, site)
