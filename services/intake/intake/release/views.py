from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from intake.permissions import AUTHORISE_RELEASE, GATE, READ_REGISTERS, RUN_REGISTERS
from intake.register.views import ListingDep
from intake.release import service
from intake.release.models import (
    AuthoriseCommand,
    GatePassRead,
    IssueCommand,
    ReleasePassCreate,
    ReleasePassRead,
    RevokeCommand,
    Status,
    UseCommand,
)
from intake.request.models import TimelineRead
from intake.request.timeline import procedure_timeline
from pm_platform.app import Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/release-passes", tags=["release passes"])
RunRegisters = Annotated[Principal, Depends(require(RUN_REGISTERS))]
ReadRegisters = Annotated[Principal, Depends(require(READ_REGISTERS))]
AuthoriseRelease = Annotated[Principal, Depends(require(AUTHORISE_RELEASE))]
Gate = Annotated[Principal, Depends(require(GATE))]


@router.post("", status_code=201, response_model=ReleasePassRead)
async def post_release_pass(body: ReleasePassCreate, uow: UowDep, principal: RunRegisters) -> Any:
    """Record a release pass for a unit's goods (items, carrier, plate, last valid day); it waits for the
    owner's authorisation."""
    return await service.read(uow.session, principal, await service.create(uow, principal, body))


@router.get("", response_model=Page[ReleasePassRead])
async def get_release_passes(
    session: SessionDep, principal: ReadRegisters, filters: ListingDep, status: Status | None = None
) -> dict[str, Any]:
    rows, total = await service.listing(session, principal, filters, status)
    return page([await service.read(session, principal, r) for r in rows], total, filters.limit, filters.offset)


@router.get("/{number}", response_model=ReleasePassRead)
async def get_release_pass(number: str, session: SessionDep, principal: ReadRegisters) -> Any:
    """The pass with the unit's payment status and what the site's arrears rule lets the caller do."""
    return await service.read(session, principal, await service.get(session, principal, number))


@router.get("/{number}/timeline", response_model=list[TimelineRead])
async def get_release_pass_timeline(number: str, session: SessionDep, principal: ReadRegisters) -> Any:
    release = await service.get(session, principal, number)
    return await procedure_timeline(session, service.PROCEDURE, release.number)


@router.post("/{number}/authorise", response_model=ReleasePassRead)
async def post_authorise(
    number: str, uow: UowDep, principal: AuthoriseRelease, body: AuthoriseCommand | None = None
) -> Any:
    """The owner authorises with their own token (no body); the desk records how it verified the owner:
    owner_present (with ID), call_back (the number on file) or written (document_key from POST /register-files)."""
    release = await service.authorise(uow, principal, number, body or AuthoriseCommand())
    return await service.read(uow.session, principal, release)


@router.post("/{number}/issue", response_model=ReleasePassRead)
async def post_issue(number: str, uow: UowDep, principal: RunRegisters, body: IssueCommand | None = None) -> Any:
    """Issue an authorised pass; a unit in arrears follows the site's rule (409 says why it is refused)."""
    release = await service.issue(uow, principal, number, body or IssueCommand())
    return await service.read(uow.session, principal, release)


@router.post("/{number}/revoke", response_model=ReleasePassRead)
async def post_revoke(number: str, body: RevokeCommand, uow: UowDep, principal: RunRegisters) -> Any:
    release = await service.revoke(uow, principal, number, body)
    return await service.read(uow.session, principal, release)


@router.get("/{number}/gate", response_model=GatePassRead)
async def get_gate_view(number: str, session: SessionDep, principal: Gate) -> Any:
    """Security's check: the items and whether they may leave now."""
    return await service.check_at_gate(session, principal, number)


@router.post("/{number}/use", response_model=GatePassRead)
async def post_use(number: str, uow: UowDep, principal: Gate, body: UseCommand | None = None) -> Any:
    """The goods leave: once, on or before the pass's day, never when revoked (409 otherwise)."""
    return await service.use(uow, principal, number, body or UseCommand())
