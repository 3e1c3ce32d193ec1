from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require
from survey.followup import service
from survey.followup.models import AttemptCreate, FollowUpAnswer, FollowUpRead, Status
from survey.permissions import ANSWER_AS_OWNER, READ_FOLLOW_UPS, RECORD_CALLS

router = APIRouter(prefix="/follow-ups", tags=["follow-ups"])
ReadFollowUps = Annotated[Principal, Depends(require(READ_FOLLOW_UPS))]
RecordCalls = Annotated[Principal, Depends(require(RECORD_CALLS))]
AnswerAsOwner = Annotated[Principal, Depends(require(ANSWER_AS_OWNER))]


@router.get("", response_model=Page[FollowUpRead])
async def get_followups(
    session: SessionDep,
    principal: ReadFollowUps,
    site: str | None = None,
    status: Status | None = None,
    overdue: bool | None = None,
    request_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_followups(
        session, principal, site=site, status=status, overdue=overdue, request_id=request_id, limit=limit, offset=offset
    )
    return page([FollowUpRead.model_validate(r) for r in rows], total, limit, offset)


@router.get("/{followup_id}", response_model=FollowUpRead)
async def get_followup(followup_id: str, session: SessionDep, principal: ReadFollowUps) -> Any:
    return FollowUpRead.model_validate(await service.get_followup(session, principal, followup_id))


@router.post("/{followup_id}/result", response_model=FollowUpRead)
async def record_result(followup_id: str, body: FollowUpAnswer, uow: UowDep, principal: RecordCalls) -> Any:
    """An agent records the owner's answer taken by phone."""
    return FollowUpRead.model_validate(await service.answer(uow, principal, followup_id, body, by_owner=False))


@router.post("/{followup_id}/attempts", response_model=FollowUpRead)
async def record_attempt(followup_id: str, body: AttemptCreate, uow: UowDep, principal: RecordCalls) -> Any:
    """An agent called and nobody answered (the owner is unreachable after the site's maximum)."""
    return FollowUpRead.model_validate(await service.record_attempt(uow, principal, followup_id, body))


@router.post("/{followup_id}/answer", response_model=FollowUpRead)
async def owner_answer(followup_id: str, body: FollowUpAnswer, uow: UowDep, principal: AnswerAsOwner) -> Any:
    """The owner answers their own follow-up (the message they received)."""
    return FollowUpRead.model_validate(await service.answer(uow, principal, followup_id, body, by_owner=True))
