from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from intake.incident import service
from intake.incident.models import BroadcastCommand, BroadcastRead, IncidentRead
from intake.request.models import RequestRead
from intake.request.service import list_requests
from pm_platform.app import SessionDep, UowDep
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/incidents", tags=["incidents"])
Staff = Annotated[Principal, Depends(require("agent", "supervisor", "manager", "head_office", "operator"))]
FrontDesk = Annotated[Principal, Depends(require("agent", "supervisor", "manager"))]


class IncidentDetail(IncidentRead):
    requests: list[RequestRead]
    broadcasts: list[BroadcastRead]


@router.get("", response_model=list[IncidentRead])
async def get_incidents(
    session: SessionDep, principal: Staff, site: str | None = None, status: str | None = None
) -> object:
    return await service.list_incidents(session, principal, site, status)


@router.get("/{incident_id}", response_model=IncidentDetail)
async def get_incident(incident_id: str, session: SessionDep, principal: Staff) -> Any:
    incident = await service.get_incident(session, principal, incident_id)
    requests, _ = await list_requests(
        session, principal, site=incident.site, status=None, limit=500, offset=0, incident_id=incident.id
    )
    return IncidentDetail(
        **IncidentRead.model_validate(incident).model_dump(),
        requests=[RequestRead.model_validate(r) for r in requests],
        broadcasts=[BroadcastRead.model_validate(b) for b in await service.broadcasts(session, incident.id)],
    )


@router.post("/{incident_id}/broadcast", status_code=201, response_model=BroadcastRead)
async def post_broadcast(incident_id: str, body: BroadcastCommand, uow: UowDep, principal: FrontDesk) -> object:
    return await service.broadcast(uow, principal, incident_id, body)


@router.post("/{incident_id}/close", response_model=IncidentRead)
async def post_close(incident_id: str, uow: UowDep, principal: FrontDesk) -> object:
    return await service.close(uow, principal, incident_id)
