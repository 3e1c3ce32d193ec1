from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from notification.permissions import READ_SITES
from notification.site import service
from notification.site.models import SiteRead
from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/sites", tags=["sites"])
ReadSites = Annotated[Principal, Depends(require(READ_SITES))]


@router.get("")
async def get_sites(session: SessionDep, principal: ReadSites) -> list[SiteRead]:
    return [SiteRead.model_validate(s) for s in await service.list_sites(session, principal)]


@router.get("/{site}")
async def get_site(site: str, session: SessionDep, principal: ReadSites) -> SiteRead:
    """404 until intake.site.upserted.v1 has reached notification."""
    return SiteRead.model_validate(await service.get_site(session, principal, site))
