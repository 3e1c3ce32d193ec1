from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from intake.organization.service import mask_phone, sees_contacts, unit_in_scope
from intake.permissions import HANDLE_REQUESTS, READ_REQUESTS, READ_UNIT_TIMELINES, RECORD_REQUESTS
from intake.request import service
from intake.request.models import (
    ClassifyCommand,
    Kind,
    LinkCommand,
    ReplyCommand,
    Request,
    RequestCreate,
    RequestDetail,
    RequestRead,
    Status,
    StatusCommand,
    TimelineEntry,
    TimelineRead,
)
from intake.request.timeline import timeline, unit_timeline
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require
from pm_platform.envelope import InputDate

router = APIRouter(prefix="/requests", tags=["requests"])
units_router = APIRouter(tags=["requests"])
HandleRequests = Annotated[Principal, Depends(require(HANDLE_REQUESTS))]
RecordRequests = Annotated[Principal, Depends(require(RECORD_REQUESTS))]
ReadUnitTimelines = Annotated[Principal, Depends(require(READ_UNIT_TIMELINES))]
ReadRequests = Annotated[Principal, Depends(require(READ_REQUESTS))]


async def request_in_scope(request_id: str, session: SessionDep, principal: ReadRequests) -> Request:
    return await service.get_request(session, principal, request_id)


RequestInScope = Annotated[Request, Depends(request_in_scope)]


def request_view(request: Request, principal: Principal) -> RequestRead:
    view = RequestRead.model_validate(request)
    if sees_contacts(principal) or service.is_owner(principal):  # an owner only ever sees their own
        return view
    return view.model_copy(update={"reporter_phone": mask_phone(view.reporter_phone)})


def timeline_view(entries: list[TimelineEntry] | Any, principal: Principal) -> list[TimelineRead]:
    views = [TimelineRead.model_validate(e) for e in entries]
    if sees_contacts(principal):
        return views
    # Event payloads carry owners' contacts and staff details; workers and owners get the summaries.
    return [v.model_copy(update={"data": {}}) for v in views]


@router.post("", status_code=201, response_model=RequestRead)
async def post_request(body: RequestCreate, uow: UowDep, principal: RecordRequests) -> Any:
    return await service.create_request(uow, principal, body)


@router.get("", response_model=Page[RequestRead])
async def get_requests(
    session: SessionDep,
    principal: ReadRequests,
    site: str | None = None,
    status: Status | None = None,
    kind: Kind | None = None,
    category: str | None = None,
    unit_id: str | None = None,
    date_from: InputDate | None = None,
    date_to: InputDate | None = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
    incident_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_requests(
        session,
        principal,
        site=site,
        status=status,
        limit=limit,
        offset=offset,
        kind=kind,
        category=category,
        date_from=date_from,
        date_to=date_to,
        overdue=overdue,
        unit_id=unit_id,
        escalated=escalated,
        incident_id=incident_id,
    )
    return page([request_view(r, principal) for r in rows], total, limit, offset)


@router.get("/{request_id}", response_model=RequestDetail)
async def get_request(request: RequestInScope, session: SessionDep, principal: ReadRequests) -> Any:
    entries = await timeline(session, request.id)
    return RequestDetail(**request_view(request, principal).model_dump(), timeline=timeline_view(entries, principal))


@router.post("/{request_id}/status", response_model=RequestRead)
async def post_status(request_id: str, body: StatusCommand, uow: UowDep, principal: HandleRequests) -> Any:
    """Move the request (new, acknowledged, in_progress, resolved, followed_up, closed, reopened, cancelled);
    an illegal transition answers 409 and changes nothing. cancelled and reopened need a reason."""
    return await service.change_status(uow, principal, request_id, body.status, body.reason)


@router.post("/{request_id}/replies", response_model=RequestRead)
async def post_reply(request_id: str, body: ReplyCommand, uow: UowDep, principal: HandleRequests) -> Any:
    """Record a progress reply to the owner (meets the progress-reply time limit)."""
    return await service.reply(uow, principal, request_id, body)


@router.post("/{request_id}/classification", response_model=RequestRead)
async def post_classification(request_id: str, body: ClassifyCommand, uow: UowDep, principal: HandleRequests) -> Any:
    """Classify a complaint: valid (to the responsible department's supervisor) or communicative."""
    return await service.classify(uow, principal, request_id, body)


@router.post("/{request_id}/duplicate-of", response_model=RequestRead)
async def post_duplicate_of(request_id: str, body: LinkCommand, uow: UowDep, principal: HandleRequests) -> Any:
    """Link the request to the one it repeats (and, by default, cancel it as a duplicate)."""
    return await service.link_duplicate(uow, principal, request_id, body)


@units_router.get("/units/{unit_id}/timeline", response_model=list[TimelineRead])
async def get_unit_timeline(
    unit_id: str,
    session: SessionDep,
    principal: ReadUnitTimelines,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> Any:
    """Everything every service did about the unit's requests, newest first."""
    await unit_in_scope(session, principal, unit_id)
    return timeline_view(await unit_timeline(session, unit_id, limit, offset), principal)
