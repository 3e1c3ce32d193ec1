from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel

from intake.organization import service
from intake.organization.models import (
    BuildingRead,
    BuildingWrite,
    CategoryRead,
    CategoryWrite,
    MoveOut,
    Party,
    PartyRead,
    PartyWrite,
    SiteCreate,
    SiteRead,
    SiteSettingsUpdate,
    TimeLimitRuleWrite,
    UnitRead,
    UnitWrite,
)
from intake.permissions import (
    EDIT_PARTIES,
    EDIT_SITE_SETUP,
    ONBOARD_SITES,
    READ_ARCHIVE,
    READ_CATEGORIES,
    READ_TIME_LIMITS,
    READ_UNITS,
)
from pm_platform.app import SessionDep, UowDep
from pm_platform.auth import Principal, require
from pm_platform.problems import Problem

router = APIRouter(tags=["organization"])
ReadTimeLimits = Annotated[Principal, Depends(require(READ_TIME_LIMITS))]
ReadArchive = Annotated[Principal, Depends(require(READ_ARCHIVE))]
ReadCategories = Annotated[Principal, Depends(require(READ_CATEGORIES))]
ReadUnits = Annotated[Principal, Depends(require(READ_UNITS))]
EditParties = Annotated[Principal, Depends(require(EDIT_PARTIES))]
EditSiteSetup = Annotated[Principal, Depends(require(EDIT_SITE_SETUP))]
OnboardSites = Annotated[Principal, Depends(require(ONBOARD_SITES))]


def party_view(party: Party, principal: Principal) -> PartyRead:
    view = PartyRead.model_validate(party)
    if service.sees_contacts(principal):
        return view
    return view.model_copy(
        update={"phone": service.mask_phone(view.phone), "email": None, "tenancy_registration": None}
    )


class UnitDetail(UnitRead):
    parties: list[PartyRead]


@router.get("/sites", response_model=list[SiteRead])
async def get_sites(session: SessionDep, principal: ReadArchive) -> object:
    return await service.list_sites(session, principal)


@router.post("/sites", status_code=201, response_model=SiteRead)
async def post_site(body: SiteCreate, uow: UowDep, _: OnboardSites) -> object:
    """Onboard a site with its buildings and units; the other services learn it from intake.site.upserted.v1."""
    site = await service.create_site(uow, body)
    await uow.commit()
    return site


@router.get("/sites/{site}", response_model=SiteRead)
async def get_site(site: str, session: SessionDep, _: ReadArchive) -> object:
    return await service.get_site(session, site)


@router.patch("/sites/{site}/settings", response_model=SiteRead)
async def patch_site_settings(site: str, body: SiteSettingsUpdate, uow: UowDep, principal: EditSiteSetup) -> object:
    # The site's identity (its name and time zone) is the manager's or head office's; windows are the supervisor's too.
    if (body.name is not None or body.timezone is not None) and not principal.has_any({"manager", "head_office"}):
        raise Problem(403, "only a manager or head office renames a site or changes its time zone", field="name")
    return await service.update_site_settings(uow, site, body)


@router.get("/sites/{site}/buildings", response_model=list[BuildingRead])
async def get_buildings(site: str, session: SessionDep, _: ReadArchive) -> object:
    return await service.list_buildings(session, site)


@router.post("/sites/{site}/buildings", response_model=BuildingRead)
async def post_building(site: str, body: BuildingWrite, uow: UowDep, _: EditSiteSetup) -> object:
    building = await service.upsert_building(uow, site, body)
    await uow.commit()
    return building


@router.get("/sites/{site}/units", response_model=list[UnitRead])
async def get_units(site: str, session: SessionDep, _: ReadArchive, building: str | None = None) -> object:
    return await service.list_units(session, site, building)


@router.post("/sites/{site}/units", response_model=UnitRead)
async def post_unit(site: str, body: UnitWrite, uow: UowDep, _: EditSiteSetup) -> object:
    unit = await service.upsert_unit(uow, site, body)
    await uow.commit()
    return unit


@router.get("/units/{unit_id}", response_model=UnitDetail)
async def get_unit(unit_id: str, session: SessionDep, principal: ReadUnits) -> Any:
    unit = await service.unit_in_scope(session, principal, unit_id)
    parties = [party_view(p, principal) for p in await service.parties_of_unit(session, unit_id)]
    return UnitDetail(**UnitRead.model_validate(unit).model_dump(), parties=parties)


@router.get("/units/{unit_id}/parties", response_model=list[PartyRead])
async def get_unit_parties(unit_id: str, session: SessionDep, principal: ReadArchive) -> object:
    await service.unit_in_scope(session, principal, unit_id)
    return [party_view(p, principal) for p in await service.parties_of_unit(session, unit_id)]


@router.post("/units/{unit_id}/parties", status_code=201, response_model=PartyRead)
async def post_party(unit_id: str, body: PartyWrite, uow: UowDep, principal: EditParties) -> object:
    unit = await service.unit_in_scope(uow.session, principal, unit_id)
    party = await service.save_party(uow, unit, body)
    await uow.commit()
    return party


@router.get("/parties/{party_id}", response_model=PartyRead)
async def get_party(party_id: str, session: SessionDep, principal: ReadArchive) -> object:
    return party_view(await service.get_party(session, principal, party_id), principal)


@router.put("/parties/{party_id}", response_model=PartyRead)
async def put_party(party_id: str, body: PartyWrite, uow: UowDep, principal: EditParties) -> object:
    party = await service.get_party(uow.session, principal, party_id)
    unit = await service.unit_in_scope(uow.session, principal, party.unit_id or "")
    party = await service.save_party(uow, unit, body, party_id=party_id)
    await uow.commit()
    return party


@router.post("/parties/{party_id}/move-out", response_model=PartyRead)
async def post_move_out(party_id: str, body: MoveOut, uow: UowDep, principal: EditParties) -> object:
    party = await service.get_party(uow.session, principal, party_id)
    party = await service.move_out(uow, party, body.move_out)
    await uow.commit()
    return party


@router.get("/sites/{site}/categories", response_model=list[CategoryRead])
async def get_categories(site: str, session: SessionDep, _: ReadCategories) -> object:
    return await service.categories(session, site)


@router.put("/sites/{site}/categories", response_model=list[CategoryRead])
async def put_categories(
    site: str, uow: UowDep, _: EditSiteSetup, body: Annotated[list[CategoryWrite], Body(min_length=1)]
) -> object:
    return await service.replace_categories(uow, site, body)


class TimeLimits(BaseModel):
    rules: list[TimeLimitRuleWrite]


@router.get("/sites/{site}/time-limits", response_model=TimeLimits)
async def get_time_limits(site: str, session: SessionDep, _: ReadTimeLimits) -> Any:
    rules = await service.time_limit_rules(session, site)
    return TimeLimits(rules=[TimeLimitRuleWrite.model_validate(r) for r in rules])


@router.put("/sites/{site}/time-limits", response_model=TimeLimits)
async def put_time_limits(site: str, body: TimeLimits, uow: UowDep, _: EditSiteSetup) -> Any:
    rules = await service.replace_time_limits(uow, site, body.rules)
    return TimeLimits(rules=[TimeLimitRuleWrite.model_validate(r) for r in rules])
