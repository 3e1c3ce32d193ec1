from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from intake.permissions import GATE, READ_REGISTERS, REGISTER_VISITORS, RUN_REGISTERS
from intake.register.views import ListingDep
from intake.request.models import TimelineRead
from intake.request.timeline import procedure_timeline
from intake.visitor import service
from intake.visitor.models import CancelCommand, Status, VisitorCreate, VisitorRead
from pm_platform.app import Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/visitors", tags=["visitors"])
RegisterVisitors = Annotated[Principal, Depends(require(REGISTER_VISITORS))]
# The gate's list and the desk's: security sees it without phones.
ReadVisitors = Annotated[Principal, Depends(require(READ_REGISTERS, GATE))]
ReadRegisters = Annotated[Principal, Depends(require(READ_REGISTERS))]
RunRegisters = Annotated[Principal, Depends(require(RUN_REGISTERS))]
Gate = Annotated[Principal, Depends(require(GATE))]


@router.post("", status_code=201, response_model=VisitorRead)
async def post_visitor(body: VisitorCreate, uow: UowDep, principal: RegisterVisitors) -> Any:
    """Register a visitor or temporary resident for a host unit and a window (an owner: for their own unit)."""
    return service.read(principal, await service.register(uow, principal, body))


@router.get("", response_model=Page[VisitorRead])
async def get_visitors(
    session: SessionDep,
    principal: ReadVisitors,
    filters: ListingDep,
    status: Status | None = None,
    on_site: Annotated[bool | None, Query(description="true: expected within 12 h or inside now")] = None,
) -> dict[str, Any]:
    rows, total = await service.listing(session, principal, filters, status, on_site)
    return page([service.read(principal, r) for r in rows], total, filters.limit, filters.offset)


@router.get("/{visitor_id}", response_model=VisitorRead)
async def get_visitor(visitor_id: str, session: SessionDep, principal: ReadVisitors) -> Any:
    return service.read(principal, await service.get(session, principal, visitor_id))


@router.get("/{visitor_id}/timeline", response_model=list[TimelineRead])
async def get_visitor_timeline(visitor_id: str, session: SessionDep, principal: ReadRegisters) -> Any:
    visitor = await service.get(session, principal, visitor_id)
    return await procedure_timeline(session, service.PROCEDURE, visitor.id)


@router.post("/{visitor_id}/sign-in", response_model=VisitorRead)
async def post_sign_in(visitor_id: str, uow: UowDep, principal: Gate) -> Any:
    """At the gate, within the window (409 before or after it, or when not expected)."""
    return service.read(principal, await service.sign_in(uow, principal, visitor_id))


@router.post("/{visitor_id}/sign-out", response_model=VisitorRead)
async def post_sign_out(visitor_id: str, uow: UowDep, principal: Gate) -> Any:
    return service.read(principal, await service.sign_out(uow, principal, visitor_id))


@router.post("/{visitor_id}/cancel", response_model=VisitorRead)
async def post_cancel(visitor_id: str, body: CancelCommand, uow: UowDep, principal: RegisterVisitors) -> Any:
    return service.read(principal, await service.cancel_visit(uow, principal, visitor_id, body))
