from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billing.permissions import READ_ACCOUNTS
from billing.settlement import service
from billing.settlement.models import SettlementRead
from pm_platform.app import Offset, Page, SessionDep, page
from pm_platform.auth import Principal, require

router = APIRouter(tags=["settlements"])
ReadAccounts = Annotated[Principal, Depends(require(READ_ACCOUNTS))]


@router.get("/settlements", response_model=Page[SettlementRead])
async def get_settlements(
    session: SessionDep,
    principal: ReadAccounts,
    site: str | None = None,
    unit_id: str | None = None,
    cleared: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Intake's settlement requests (move-outs, transfers) and billing's last answer to each."""
    rows, total = await service.list_settlements(
        session, principal, site=site, unit_id=unit_id, cleared=cleared, limit=limit, offset=offset
    )
    return page([SettlementRead.model_validate(r) for r in rows], total, limit, offset)
