from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from intake.document import service
from intake.document.models import (
    CancelCommand,
    CollectCommand,
    DocumentCreate,
    DocumentRead,
    ReadyCommand,
    Status,
)
from intake.permissions import READ_REGISTERS, RUN_REGISTERS
from intake.register.views import ListingDep
from intake.request.models import TimelineRead
from intake.request.timeline import procedure_timeline
from pm_platform.app import Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/documents", tags=["documents"])
RunRegisters = Annotated[Principal, Depends(require(RUN_REGISTERS))]
ReadRegisters = Annotated[Principal, Depends(require(READ_REGISTERS))]


@router.post("", status_code=201, response_model=DocumentRead)
async def post_document(body: DocumentCreate, uow: UowDep, principal: RunRegisters) -> Any:
    """Record a certificate or document the desk obtains or prepares for a unit (办证, a contract, a card)."""
    return service.read(await service.create(uow, principal, body))


@router.get("", response_model=Page[DocumentRead])
async def get_documents(
    session: SessionDep, principal: ReadRegisters, filters: ListingDep, status: Status | None = None
) -> dict[str, Any]:
    rows, total = await service.listing(session, principal, filters, status)
    return page([service.read(r) for r in rows], total, filters.limit, filters.offset)


@router.get("/{task_id}", response_model=DocumentRead)
async def get_document(task_id: str, session: SessionDep, principal: ReadRegisters) -> Any:
    return service.read(await service.get(session, principal, task_id))


@router.get("/{task_id}/timeline", response_model=list[TimelineRead])
async def get_document_timeline(task_id: str, session: SessionDep, principal: ReadRegisters) -> Any:
    task = await service.get(session, principal, task_id)
    return await procedure_timeline(session, service.PROCEDURE, task.id)


@router.post("/{task_id}/start", response_model=DocumentRead)
async def post_start(task_id: str, uow: UowDep, principal: RunRegisters) -> Any:
    return service.read(await service.start(uow, principal, task_id))


@router.post("/{task_id}/ready", response_model=DocumentRead)
async def post_ready(task_id: str, uow: UowDep, principal: RunRegisters, body: ReadyCommand | None = None) -> Any:
    """Ready to collect: the owner is told (intake.document.ready.v1)."""
    return service.read(await service.ready(uow, principal, task_id, body or ReadyCommand()))


@router.post("/{task_id}/collect", response_model=DocumentRead)
async def post_collect(task_id: str, body: CollectCommand, uow: UowDep, principal: RunRegisters) -> Any:
    return service.read(await service.collect(uow, principal, task_id, body))


@router.post("/{task_id}/cancel", response_model=DocumentRead)
async def post_cancel(task_id: str, body: CancelCommand, uow: UowDep, principal: RunRegisters) -> Any:
    return service.read(await service.cancel(uow, principal, task_id, body))
