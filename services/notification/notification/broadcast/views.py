from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from notification.broadcast import service
from notification.broadcast.models import Broadcast, BroadcastCreate, BroadcastRead
from notification.permissions import READ_BROADCASTS, SEND_BROADCASTS
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/broadcasts", tags=["broadcasts"])
ReadBroadcasts = Annotated[Principal, Depends(require(READ_BROADCASTS))]
SendBroadcasts = Annotated[Principal, Depends(require(SEND_BROADCASTS))]


async def broadcast_in_scope(broadcast_id: str, session: SessionDep, principal: ReadBroadcasts) -> Broadcast:
    return await service.get_broadcast(session, principal, broadcast_id)


BroadcastInScope = Annotated[Broadcast, Depends(broadcast_in_scope)]


@router.post("", status_code=201, response_model=BroadcastRead)
async def create_broadcast(body: BroadcastCreate, uow: UowDep, principal: SendBroadcasts, response: Response) -> Any:
    broadcast, created = await service.create(uow, principal, body)
    if not created:
        response.status_code = 200  # the same dedupe key: the first broadcast
    return BroadcastRead.of(broadcast, await service.progress(uow.session, broadcast))


@router.get("", response_model=Page[BroadcastRead])
async def get_broadcasts(
    session: SessionDep,
    principal: ReadBroadcasts,
    site: str,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_broadcasts(session, principal, site, limit, offset)
    return page([BroadcastRead.of(b, await service.progress(session, b)) for b in rows], total, limit, offset)


@router.get("/{broadcast_id}", response_model=BroadcastRead)
async def get_broadcast(broadcast: BroadcastInScope, session: SessionDep) -> Any:
    return BroadcastRead.of(broadcast, await service.progress(session, broadcast))


@router.post("/{broadcast_id}/cancel", response_model=BroadcastRead)
async def cancel_broadcast(broadcast_id: str, uow: UowDep, principal: SendBroadcasts) -> Any:
    broadcast = await service.cancel_broadcast(uow, principal, broadcast_id)
    return BroadcastRead.of(broadcast, await service.progress(uow.session, broadcast))
