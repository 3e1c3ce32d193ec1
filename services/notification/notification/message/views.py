from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from notification.message import service
from notification.message.models import MessageRead
from pm_platform.app import SessionDep, page
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/messages", tags=["messages"])
Staff = Annotated[Principal, Depends(require("agent", "supervisor", "manager", "head_office", "operator"))]


@router.get("")
async def get_messages(
    session: SessionDep, principal: Staff, site: str | None = None, request_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    rows, total = await service.list_messages(session, principal, site=site, request_id=request_id, limit=limit,
                                              offset=offset)
    return page([MessageRead.model_validate(r) for r in rows], total, limit, offset)


@router.get("/{message_id}", response_model=MessageRead)
async def get_message(message_id: str, session: SessionDep, principal: Staff) -> Any:
    return MessageRead.model_validate(await service.get_message(session, principal, message_id))
