from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require
from pm_platform.envelope import InputDatetime
from survey.permissions import (
    ANSWER_AS_OWNER,
    PLAN_SURVEYS,
    READ_INVITATIONS,
    READ_SATISFACTION,
    READ_SURVEYS,
    RECORD_CALLS,
)
from survey.questionnaire import reports, service
from survey.questionnaire.models import (
    AnswersIn,
    InvitationDetail,
    InvitationRead,
    InvitationStatus,
    QuestionRead,
    SiteSatisfaction,
    SurveyCreate,
    SurveyDetail,
    SurveyRead,
    SurveyReport,
    SurveyStatus,
)

router = APIRouter(tags=["surveys"])
ReadSurveys = Annotated[Principal, Depends(require(READ_SURVEYS))]
PlanSurveys = Annotated[Principal, Depends(require(PLAN_SURVEYS))]
RecordCalls = Annotated[Principal, Depends(require(RECORD_CALLS))]
AnswerAsOwner = Annotated[Principal, Depends(require(ANSWER_AS_OWNER))]
ReadInvitations = Annotated[Principal, Depends(require(READ_INVITATIONS))]
ReadSatisfaction = Annotated[Principal, Depends(require(READ_SATISFACTION))]


def _detail(survey: Any, questions: list[Any]) -> SurveyDetail:
    return SurveyDetail.model_validate(
        {
            **SurveyRead.model_validate(survey).model_dump(),
            "questions": [QuestionRead.model_validate(q) for q in questions],
        }
    )


@router.post("/surveys", response_model=SurveyDetail, status_code=201)
async def create_survey(body: SurveyCreate, uow: UowDep, principal: PlanSurveys) -> Any:
    survey, questions = await service.create_survey(uow, principal, body)
    return _detail(survey, questions)


@router.get("/surveys", response_model=Page[SurveyRead])
async def get_surveys(
    session: SessionDep,
    principal: ReadSurveys,
    site: str | None = None,
    status: SurveyStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_surveys(session, principal, site=site, status=status, limit=limit, offset=offset)
    return page([SurveyRead.model_validate(r) for r in rows], total, limit, offset)


@router.get("/surveys/{survey_id}", response_model=SurveyDetail)
async def get_survey(survey_id: str, session: SessionDep, principal: ReadSurveys) -> Any:
    survey = await service.get_survey(session, principal, survey_id)
    return _detail(survey, await service.questions_of(session, survey.id))


@router.post("/surveys/{survey_id}/send", response_model=SurveyRead)
async def send_survey(survey_id: str, uow: UowDep, principal: PlanSurveys) -> Any:
    return SurveyRead.model_validate(await service.send_survey(uow, principal, survey_id))


@router.post("/surveys/{survey_id}/close", response_model=SurveyRead)
async def close_survey(survey_id: str, uow: UowDep, principal: PlanSurveys) -> Any:
    return SurveyRead.model_validate(await service.close_survey(uow, principal, survey_id))


@router.get("/surveys/{survey_id}/report", response_model=SurveyReport)
async def survey_report(survey_id: str, session: SessionDep, principal: ReadSurveys) -> Any:
    return await reports.report(session, principal, survey_id)


@router.get("/surveys/{survey_id}/export.csv", response_class=Response)
async def export_survey(survey_id: str, session: SessionDep, principal: PlanSurveys) -> Response:
    survey, text = await reports.export_csv(session, principal, survey_id)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="survey-{survey.id}.csv"'},
    )


@router.get("/invitations", response_model=Page[InvitationRead])
async def get_invitations(
    session: SessionDep,
    principal: ReadInvitations,
    survey_id: str | None = None,
    status: InvitationStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Owners: their own invitations. Staff: a survey's, or those of their sites."""
    rows, total = await service.list_invitations(
        session, principal, survey_id=survey_id, status=status, limit=limit, offset=offset
    )
    return page([InvitationRead.model_validate(r) for r in rows], total, limit, offset)


@router.get("/invitations/{invitation_id}", response_model=InvitationDetail)
async def get_invitation(invitation_id: str, session: SessionDep, principal: ReadInvitations) -> Any:
    """The questionnaire behind an invitation (the link the owner received)."""
    invitation, survey, questions = await service.invitation_detail(session, principal, invitation_id)
    return InvitationDetail.model_validate(
        {
            **InvitationRead.model_validate(invitation).model_dump(),
            "title": survey.title,
            "description": survey.description,
            "closes_at": survey.closes_at,
            "questions": [QuestionRead.model_validate(q) for q in questions],
        }
    )


@router.post("/invitations/{invitation_id}/answer", response_model=InvitationRead)
async def owner_answer(invitation_id: str, body: AnswersIn, uow: UowDep, principal: AnswerAsOwner) -> Any:
    """The owner answers their own invitation."""
    return InvitationRead.model_validate(
        await service.submit_answers(uow, principal, invitation_id, body, by_owner=True)
    )


@router.post("/invitations/{invitation_id}/phone-answer", response_model=InvitationRead)
async def phone_answer(invitation_id: str, body: AnswersIn, uow: UowDep, principal: RecordCalls) -> Any:
    """An agent records the answers an owner gave on the phone."""
    return InvitationRead.model_validate(
        await service.submit_answers(uow, principal, invitation_id, body, by_owner=False)
    )


@router.get("/satisfaction", response_model=list[SiteSatisfaction])
async def satisfaction(
    session: SessionDep,
    principal: ReadSatisfaction,
    site: str | None = None,
    since: InputDatetime | None = None,
    until: InputDatetime | None = None,
) -> Any:
    """Satisfaction per site and department (surveys and follow-ups) for head office and site managers."""
    return await reports.site_satisfaction(session, principal, site=site, since=since, until=until)
