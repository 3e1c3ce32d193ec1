from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from dispatch.department import service
from dispatch.department.models import (
    DepartmentRead,
    DepartmentUpdate,
    DepartmentWrite,
    LimitClass,
    RoutingRead,
    RoutingRuleUpdate,
    SiteSettingsUpdate,
    StaffRead,
    StaffUpsert,
    TimeLimitUpdate,
)
from dispatch.permissions import MANAGE_DEPARTMENTS, READ_DEPARTMENTS, RUN_DEPARTMENTS, SET_UP_DEPARTMENTS
from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require

router = APIRouter(tags=["departments"])
ReadDepartments = Annotated[Principal, Depends(require(READ_DEPARTMENTS))]
RunDepartments = Annotated[Principal, Depends(require(RUN_DEPARTMENTS))]
ManageDepartments = Annotated[Principal, Depends(require(MANAGE_DEPARTMENTS))]
SetUpDepartments = Annotated[Principal, Depends(require(SET_UP_DEPARTMENTS))]


@router.get("/departments", response_model=list[DepartmentRead])
async def get_departments(session: SessionDep, principal: ReadDepartments, site: str | None = None) -> object:
    return await service.list_departments(session, principal, site)


@router.put("/departments/{code}", response_model=DepartmentRead)
async def put_department(
    code: str, site: str, body: DepartmentWrite, session: SessionDep, principal: ManageDepartments
) -> Any:
    """Set up a department at a site dispatch knows (404 until intake.site.upserted.v1 has arrived)."""
    return await service.put_department(session, principal, site, code, body)


@router.patch("/departments/{code}", response_model=DepartmentRead)
async def patch_department(
    code: str, site: str, body: DepartmentUpdate, session: SessionDep, principal: RunDepartments
) -> Any:
    return await service.update_department(session, principal, site, code, body)


@router.get("/departments/{code}/staff", response_model=list[StaffRead])
async def get_staff(code: str, site: str, session: SessionDep, principal: ReadDepartments) -> Any:
    return await service.list_staff(session, principal, site, code)


@router.put("/departments/{code}/staff/{staff_id}", response_model=StaffRead)
async def put_staff(
    code: str, staff_id: str, site: str, body: StaffUpsert, session: SessionDep, principal: SetUpDepartments
) -> Any:
    return await service.upsert_staff(session, principal, site, code, staff_id, body)


@router.get("/routing", response_model=RoutingRead)
async def get_routing(site: str, session: SessionDep, principal: ReadDepartments) -> Any:
    return await service.read_routing(session, principal, site)


@router.put("/routing/rules/{category}", response_model=RoutingRead)
async def put_routing_rule(
    category: str, site: str, body: RoutingRuleUpdate, session: SessionDep, principal: SetUpDepartments
) -> Any:
    """Route ``category`` to a department (``*``: the site's default department)."""
    return await service.put_routing_rule(session, principal, site, category, body.department)


@router.put("/routing/time-limits/{limit_class}", response_model=RoutingRead)
async def put_time_limit(
    limit_class: LimitClass, site: str, body: TimeLimitUpdate, session: SessionDep, principal: ManageDepartments
) -> Any:
    return await service.put_time_limit(session, principal, site, limit_class, body)


@router.patch("/routing/settings", response_model=RoutingRead)
async def patch_site_settings(
    site: str, body: SiteSettingsUpdate, session: SessionDep, principal: ManageDepartments
) -> Any:
    return await service.put_site_settings(session, principal, site, body)
