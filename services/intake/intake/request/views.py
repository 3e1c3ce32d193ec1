from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from intake.request import service
from intake.request.models import RequestCreate, RequestDetail, RequestRead, Status, TimelineRead
from pm_platform.app import SessionDep, UowDep, page
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/requests", tags=["requests"])
FrontDesk = Annotated[Principal, Depends(require("agent", "supervisor", "manager"))]
Staff = Annotated[Principal, Depends(require("agent", "supervisor", "manager", "head_office", "operator"))]


@router.post("", status_code=201, response_model=RequestRead)
async def post_request(body: RequestCreate, uow: UowDep, principal: FrontDesk) -> Any:
    return await service.create_request(uow, principal, body)


@router.get("")
async def get_requests(
    session: SessionDep, principal: Staff, site: str | None = None, status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    rows, total = await service.list_requests(session, principal, site=site, status=status, limit=limit,
                                              offset=offset)
    return page([RequestRead.model_validate(r) for r in rows], total, limit, offset)


@router.get("/{request_id}", response_model=RequestDetail)
async def get_request(request_id: str, session: SessionDep, principal: Staff) -> Any:
    request = await service.get_request(session, principal, request_id)
    entries = await service.timeline(session, request_id)
    return RequestDetail(**RequestRead.model_validate(request).model_dump(),
                         timeline=[TimelineRead.model_validate(e) for e in entries])
