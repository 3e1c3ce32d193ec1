from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from billing.directory.models import Unit
from billing.occupancy import service
from billing.occupancy.models import OccupancyRead
from billing.permissions import READ_ACCOUNTS
from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require
from pm_platform.db import get_in_scope

router = APIRouter(tags=["occupancy"])
ReadAccounts = Annotated[Principal, Depends(require(READ_ACCOUNTS))]


@router.get("/units/{unit_id}/occupancy", response_model=OccupancyRead)
async def get_occupancy(unit_id: str, session: SessionDep, principal: ReadAccounts) -> OccupancyRead:
    """Who moved in and out of the unit when (from intake's move-ins and move-outs: the billing run prorates by
    them), the charges its move-out settlements posted, and whether its account is closed."""
    unit = await get_in_scope(session, Unit, unit_id, principal, what="unit")
    return await service.unit_occupancy(session, unit.site, unit.id)
