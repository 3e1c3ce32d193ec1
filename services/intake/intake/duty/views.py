from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from intake.duty import service
from intake.duty.models import DutyLogRead, DutyLogWrite, HandoverRead, HandoverWrite
from intake.permissions import KEEP_DUTY_LOG, READ_DUTY_LOG
from pm_platform.app import SessionDep, UowDep
from pm_platform.auth import Principal, require
from pm_platform.envelope import InputDate, utcnow

router = APIRouter(tags=["duty"])
KeepDutyLog = Annotated[Principal, Depends(require(KEEP_DUTY_LOG))]
ReadDutyLog = Annotated[Principal, Depends(require(READ_DUTY_LOG))]


@router.post("/duty-log", status_code=201, response_model=DutyLogRead)
async def post_duty_log(body: DutyLogWrite, uow: UowDep, principal: KeepDutyLog) -> object:
    return await service.log(uow, principal, body)


@router.get("/duty-log", response_model=list[DutyLogRead])
async def get_duty_log(site: str, session: SessionDep, _: ReadDutyLog, day: InputDate | None = None) -> object:
    start, end = service.day_bounds(day or utcnow().date())
    return await service.log_entries(session, site, start, end)


@router.get("/handovers/open-items")
async def get_open_items(site: str, session: SessionDep, _: KeepDutyLog) -> list[dict[str, Any]]:
    """What would be handed over now: the site's open requests with owner, next step and deadline."""
    return await service.open_items(session, site)


@router.post("/handovers", status_code=201, response_model=HandoverRead)
async def post_handover(body: HandoverWrite, uow: UowDep, principal: KeepDutyLog) -> object:
    return await service.hand_over(uow, principal, body)


@router.post("/handovers/{handover_id}/accept", response_model=HandoverRead)
async def post_accept(handover_id: str, uow: UowDep, principal: KeepDutyLog) -> object:
    """The agent the shift was handed to accepts it (403 for anyone else, 409 when already accepted)."""
    return await service.accept(uow, principal, handover_id)


@router.get("/handovers", response_model=list[HandoverRead])
async def get_handovers(
    site: str, session: SessionDep, principal: ReadDutyLog, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> object:
    return await service.handovers(session, principal, site, limit)


@router.get("/handovers/{handover_id}", response_model=HandoverRead)
async def get_handover(handover_id: str, session: SessionDep, principal: ReadDutyLog) -> object:
    return await service.get_handover(session, principal, handover_id)
