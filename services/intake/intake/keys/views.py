from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from intake.keys import service
from intake.keys.models import Action, IssueCommand, KeyCreate, KeyRead, MovementRead, ReturnCommand
from intake.permissions import READ_REGISTERS, RUN_REGISTERS
from intake.register.views import ListingDep
from intake.request.models import TimelineRead
from intake.request.timeline import procedure_timeline
from pm_platform.app import Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/keys", tags=["keys"])
RunRegisters = Annotated[Principal, Depends(require(RUN_REGISTERS))]
ReadRegisters = Annotated[Principal, Depends(require(READ_REGISTERS))]


@router.post("", status_code=201, response_model=KeyRead)
async def post_key(body: KeyCreate, uow: UowDep, principal: RunRegisters) -> Any:
    """Keep a key for a unit: its tag number and what it opens."""
    return service.read(await service.add(uow, principal, body))


@router.get("", response_model=Page[KeyRead])
async def get_keys(
    session: SessionDep,
    principal: ReadRegisters,
    filters: ListingDep,
    held: Annotated[bool | None, Query(description="true: out with someone now (who, why, since)")] = None,
) -> dict[str, Any]:
    rows, total = await service.listing(session, principal, filters, held)
    return page([service.read(r) for r in rows], total, filters.limit, filters.offset)


@router.get("/{key_id}", response_model=KeyRead)
async def get_key(key_id: str, session: SessionDep, principal: ReadRegisters) -> Any:
    return service.read(await service.get(session, principal, key_id))


@router.get("/{key_id}/history", response_model=list[MovementRead])
async def get_key_history(key_id: str, session: SessionDep, principal: ReadRegisters) -> Any:
    """Every movement of the key with who signed for it."""
    return await service.history(session, await service.get(session, principal, key_id))


@router.get("/{key_id}/timeline", response_model=list[TimelineRead])
async def get_key_timeline(key_id: str, session: SessionDep, principal: ReadRegisters) -> Any:
    key = await service.get(session, principal, key_id)
    return await procedure_timeline(session, service.PROCEDURE, key.id)


@router.post("/{key_id}/issue", response_model=KeyRead)
async def post_issue(key_id: str, body: IssueCommand, uow: UowDep, principal: RunRegisters) -> Any:
    return service.read(await service.issue(uow, principal, key_id, body))


@router.post("/{key_id}/return", response_model=KeyRead)
async def post_return(key_id: str, body: ReturnCommand, uow: UowDep, principal: RunRegisters) -> Any:
    return service.read(await service.give_back(uow, principal, key_id, body, Action.return_))


@router.post("/{key_id}/hand-back", response_model=KeyRead)
async def post_hand_back(key_id: str, body: ReturnCommand, uow: UowDep, principal: RunRegisters) -> Any:
    """The owner takes the key back for good; it leaves the register of held keys."""
    return service.read(await service.give_back(uow, principal, key_id, body, Action.hand_back))
