from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from dispatch.department import service
from dispatch.department.models import DepartmentRead
from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require

router = APIRouter(tags=["departments"])
Staff = Annotated[
    Principal, Depends(require("agent", "supervisor", "manager", "head_office", "operator", "worker"))
]


@router.get("/departments", response_model=list[DepartmentRead])
async def get_departments(session: SessionDep, principal: Staff, site: str | None = None) -> object:
    return await service.list_departments(session, principal, site)
