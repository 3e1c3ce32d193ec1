from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from dispatch.permissions import READ_REPORTS
from dispatch.report import service
from dispatch.report.models import DepartmentReport
from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require
from pm_platform.envelope import InputDatetime

router = APIRouter(prefix="/reports", tags=["reports"])
ReadReports = Annotated[Principal, Depends(require(READ_REPORTS))]


@router.get("/departments", response_model=list[DepartmentReport])
async def get_department_report(
    session: SessionDep,
    principal: ReadReports,
    site: str | None = None,
    department: str | None = None,
    since: InputDatetime | None = None,
    until: InputDatetime | None = None,
) -> Any:
    """Per department: orders opened in [since, until) (default: the last 30 days), their on-time arrival and
    completion, completion time p50/p90, returns, transfers and nonconformance slips."""
    return await service.department_report(
        session, principal, site=site, department=department, since=since, until=until
    )
