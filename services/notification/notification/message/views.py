from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from notification.message import service
from notification.message.models import MessageRead, ReceiptWrite, Status
from notification.permissions import READ_MESSAGES, RECORD_RECEIPTS
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/messages", tags=["messages"])
ReadMessages = Annotated[Principal, Depends(require(READ_MESSAGES))]
RecordReceipts = Annotated[Principal, Depends(require(RECORD_RECEIPTS))]


@router.get("", response_model=Page[MessageRead])
async def get_messages(
    session: SessionDep,
    principal: ReadMessages,
    site: str | None = None,
    request_id: str | None = None,
    party_id: str | None = None,
    broadcast_id: str | None = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_messages(
        session,
        principal,
        site=site,
        request_id=request_id,
        party_id=party_id,
        broadcast_id=broadcast_id,
        status=status,
        limit=limit,
        offset=offset,
    )
    return page([MessageRead.model_validate(r) for r in rows], total, limit, offset)


@router.get("/{message_id}", response_model=MessageRead)
async def get_message(message_id: str, session: SessionDep, principal: ReadMessages) -> Any:
    return MessageRead.model_validate(await service.get_message(session, principal, message_id))


@router.post("/{message_id}/receipt", response_model=MessageRead)
async def post_receipt(message_id: str, body: ReceiptWrite, uow: UowDep, principal: RecordReceipts) -> Any:
    """A gateway's delivery receipt (the gateway integration calls with an operator service token)."""
    return MessageRead.model_validate(await service.record_receipt(uow, principal, message_id, body.status, body.error))
