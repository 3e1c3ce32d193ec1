from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require
from pm_platform.envelope import InputDate, utcnow
from survey.permissions import READ_COVERAGE, READ_VISITS, RECORD_VISITS
from survey.visits import service
from survey.visits.models import Coverage, PlannedVisitRead, Visit, VisitCreate, VisitRead

router = APIRouter(prefix="/visits", tags=["home visits"])
RecordVisits = Annotated[Principal, Depends(require(RECORD_VISITS))]
ReadVisits = Annotated[Principal, Depends(require(READ_VISITS))]
ReadCoverage = Annotated[Principal, Depends(require(READ_COVERAGE))]


async def visit_in_scope(visit_id: str, session: SessionDep, principal: ReadVisits) -> Visit:
    return await service.get_visit(session, principal, visit_id)


VisitInScope = Annotated[Visit, Depends(visit_in_scope)]


@router.post("", response_model=VisitRead, status_code=201)
async def record_visit(body: VisitCreate, uow: UowDep, principal: RecordVisits) -> Any:
    """The caller records their visit; ``raise_request`` asks intake to record what they found."""
    return VisitRead.model_validate(await service.record_visit(uow, principal, body))


@router.get("", response_model=Page[VisitRead])
async def get_visits(
    session: SessionDep,
    principal: ReadVisits,
    site: str | None = None,
    manager: str | None = None,
    unit_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_visits(
        session, principal, site=site, manager=manager, unit_id=unit_id, limit=limit, offset=offset
    )
    return page([VisitRead.model_validate(r) for r in rows], total, limit, offset)


@router.get("/coverage", response_model=Coverage)
async def get_coverage(session: SessionDep, principal: ReadCoverage, site: str, on: InputDate | None = None) -> Any:
    """Who is behind: managers under their weekly visits, households under their yearly visits (as of ``on``)."""
    return await service.coverage(session, principal, site, on or utcnow().date())


@router.get("/plan", response_model=Page[PlannedVisitRead])
async def get_plan(
    session: SessionDep,
    principal: ReadCoverage,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    open_only: bool = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The visits asked for (a unit in arrears that reached billing's visit step), oldest first; each closes when
    a visit to its unit is recorded."""
    rows, total = await service.visit_plan(session, principal, site, open_only=open_only, limit=limit, offset=offset)
    return page([PlannedVisitRead.model_validate(p) for p in rows], total, limit, offset)


@router.get("/{visit_id}", response_model=VisitRead)
async def get_visit(visit: VisitInScope) -> Any:
    return VisitRead.model_validate(visit)
