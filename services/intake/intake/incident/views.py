from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from intake.incident import service
from intake.incident.models import BroadcastCommand, BroadcastRead, Incident, IncidentRead
from intake.permissions import HANDLE_INCIDENTS, READ_INCIDENTS
from intake.request.models import RequestRead
from intake.request.service import list_requests
from pm_platform.app import SessionDep, UowDep
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/incidents", tags=["incidents"])
ReadIncidents = Annotated[Principal, Depends(require(READ_INCIDENTS))]
HandleIncidents = Annotated[Principal, Depends(require(HANDLE_INCIDENTS))]


async def incident_in_scope(incident_id: str, session: SessionDep, principal: ReadIncidents) -> Incident:
    return await service.get_incident(session, principal, incident_id)


IncidentInScope = Annotated[Incident, Depends(incident_in_scope)]


class IncidentDetail(IncidentRead):
    requests: list[RequestRead]
    broadcasts: list[BroadcastRead]


@router.get("", response_model=list[IncidentRead])
async def get_incidents(
    session: SessionDep, principal: ReadIncidents, site: str | None = None, status: str | None = None
) -> object:
    return await service.list_incidents(session, principal, site, status)


@router.get("/{incident_id}", response_model=IncidentDetail)
async def get_incident(incident: IncidentInScope, session: SessionDep, principal: ReadIncidents) -> Any:
    requests, _ = await list_requests(
        session, principal, site=incident.site, status=None, limit=500, offset=0, incident_id=incident.id
    )
    return IncidentDetail(
        **IncidentRead.model_validate(incident).model_dump(),
        requests=[RequestRead.model_validate(r) for r in requests],
        broadcasts=[BroadcastRead.model_validate(b) for b in await service.broadcasts(session, incident.id)],
    )


@router.post("/{incident_id}/broadcast", status_code=201, response_model=BroadcastRead)
async def post_broadcast(incident_id: str, body: BroadcastCommand, uow: UowDep, principal: HandleIncidents) -> object:
    return await service.broadcast(uow, principal, incident_id, body)


@router.post("/{incident_id}/close", response_model=IncidentRead)
async def post_close(incident_id: str, uow: UowDep, principal: HandleIncidents) -> object:
    return await service.close(uow, principal, incident_id)
