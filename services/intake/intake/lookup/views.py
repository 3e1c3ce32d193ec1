from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from intake.lookup import service
from intake.lookup.models import LookupResult
from intake.permissions import LOOK_UP_CALLERS
from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require

router = APIRouter(tags=["lookup"])
LookUpCallers = Annotated[Principal, Depends(require(LOOK_UP_CALLERS))]


@router.get("/lookup", response_model=LookupResult)
async def get_lookup(
    session: SessionDep,
    principal: LookUpCallers,
    site: str | None = None,
    phone: Annotated[str | None, Query(pattern=r"^\+?[0-9 -]{5,20}$")] = None,
    unit_id: str | None = None,
) -> Any:
    """Who is calling: the party, the unit, open and recent requests, and the unit's payment status
    (context only: arrears never block a request)."""
    return LookupResult(matches=await service.lookup(session, principal, site=site, phone=phone, unit_id=unit_id))
