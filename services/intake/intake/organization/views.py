from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from intake.organization import service
from intake.organization.models import PartyRead, SiteRead, UnitRead
from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require
from pm_platform.problems import NotFound

router = APIRouter(tags=["organization"])
Staff = Annotated[Principal, Depends(require("agent", "supervisor", "manager", "head_office", "operator"))]


@router.get("/sites", response_model=list[SiteRead])
async def get_sites(session: SessionDep, principal: Staff) -> object:
    return await service.list_sites(session, None if principal.all_sites else set(principal.sites))


@router.get("/sites/{site}/units", response_model=list[UnitRead])
async def get_units(site: str, session: SessionDep, _: Staff) -> object:
    return await service.list_units(session, site)


@router.get("/units/{unit_id}/parties", response_model=list[PartyRead])
async def get_unit_parties(unit_id: str, session: SessionDep, principal: Staff) -> object:
    unit = await service.get_unit(session, unit_id)
    if unit is None:
        raise NotFound("unit", unit_id)
    principal.check_site(unit.site)
    return await service.parties_of_unit(session, unit_id)
