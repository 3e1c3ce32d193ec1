from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from pm_platform.app import SessionDep, UowDep
from pm_platform.auth import Principal, require
from survey.config import service
from survey.config.models import PolicyRead, PolicyUpdate, SiteConfigRead, SiteConfigUpdate
from survey.permissions import EDIT_SETTINGS, READ_SETTINGS

router = APIRouter(prefix="/sites/{site}", tags=["settings"])
# require() checks the {site} path parameter against the caller's sites.
ReadSettings = Annotated[Principal, Depends(require(READ_SETTINGS))]
EditSettings = Annotated[Principal, Depends(require(EDIT_SETTINGS))]
Category = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^(\*|[A-Za-z0-9_-]+)$")]


@router.get("/survey-config", response_model=SiteConfigRead)
async def get_config(site: str, session: SessionDep, principal: ReadSettings) -> Any:
    return SiteConfigRead.model_validate(await service.get_config(session, site))


@router.patch("/survey-config", response_model=SiteConfigRead)
async def update_config(site: str, body: SiteConfigUpdate, uow: UowDep, principal: EditSettings) -> Any:
    return SiteConfigRead.model_validate(await service.update_config(uow, site, body))


@router.get("/followup-policies", response_model=list[PolicyRead])
async def get_policies(site: str, session: SessionDep, principal: ReadSettings) -> Any:
    return [PolicyRead.model_validate(p) for p in await service.list_policies(session, principal, site)]


@router.put("/followup-policies/{category}", response_model=PolicyRead)
async def put_policy(site: str, category: Category, body: PolicyUpdate, uow: UowDep, principal: EditSettings) -> Any:
    return PolicyRead.model_validate(await service.set_policy(uow, site, category, body))


@router.delete("/followup-policies/{category}", status_code=204)
async def delete_policy(site: str, category: Category, uow: UowDep, principal: EditSettings) -> None:
    await service.delete_policy(uow, site, category)
