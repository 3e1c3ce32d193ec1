from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from dispatch.permissions import READ_SITES
from dispatch.site import service
from dispatch.site.models import SiteRead
from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require

router = APIRouter(tags=["sites"])
ReadSites = Annotated[Principal, Depends(require(READ_SITES))]


@router.get("/sites/{site}", response_model=SiteRead)
async def get_site(site: str, session: SessionDep, _: ReadSites) -> Any:
    """404 until intake.site.upserted.v1 has reached dispatch."""
    return await service.read_site(session, site)
