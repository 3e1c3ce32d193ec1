from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from intake.lookup import service
from intake.lookup.models import LookupResult
from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require

router = APIRouter(tags=["lookup"])
FrontDesk = Annotated[Principal, Depends(require("agent", "supervisor", "manager", "head_office"))]


@router.get("/lookup", response_model=LookupResult)
async def get_lookup(
    session: SessionDep,
    principal: FrontDesk,
    site: str | None = None,
    phone: Annotated[str | None, Query(pattern=r"^\+?[0-9 -]{5,20}$")] = None,
    unit_id: str | None = None,
) -> Any:
    """Who is calling: the party, the unit, open and recent requests, and the unit's payment status
    (context only: arrears never block a request)."""
    return LookupResult(matches=await service.lookup(session, principal, site=site, phone=phone, unit_id=unit_id))
