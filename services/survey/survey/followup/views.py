from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from pm_platform.app import SessionDep, page
from pm_platform.auth import Principal, require
from survey.followup import service
from survey.followup.models import FollowUpRead, Status

router = APIRouter(prefix="/follow-ups", tags=["follow-ups"])
Staff = Annotated[Principal, Depends(require("agent", "supervisor", "manager", "head_office", "operator"))]


@router.get("")
async def get_followups(
    session: SessionDep, principal: Staff, site: str | None = None, status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    rows, total = await service.list_followups(session, principal, site=site, status=status, limit=limit,
                                               offset=offset)
    return page([FollowUpRead.model_validate(r) for r in rows], total, limit, offset)


@router.get("/{followup_id}", response_model=FollowUpRead)
async def get_followup(followup_id: str, session: SessionDep, principal: Staff) -> Any:
    return FollowUpRead.model_validate(await service.get_followup(session, principal, followup_id))
