"""Survey use cases: create a questionnaire, send it to a sample of households (within each party's
fatigue budget), take answers from owners or from agents on the phone. The reports (satisfaction, CSV export)
are in ``reports``."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pm_events.survey import InvitationRequested
from pm_platform import timers
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import as_utc, new_id, utcnow
from pm_platform.errors import Conflict, Forbidden, Invalid, NotFound
from pm_platform.timers import DueTimer
from pm_platform.uow import UnitOfWork
from survey.config.service import get_config
from survey.contacts.models import Contact, Party, Unit
from survey.contacts.service import ROLE_ORDER, record_contact
from survey.questionnaire.models import (
    SCALE_MAX,
    SCALE_MIN,
    Answer,
    AnswersIn,
    Invitation,
    InvitationStatus,
    Question,
    QuestionKind,
    SampleMethod,
    Survey,
    SurveyCreate,
    SurveyStatus,
)

TEXT_MAX = 2000
CLOSE_TIMER = "survey.close"


# --- questionnaires -------------------------------------------------------------------------------------


async def create_survey(uow: UnitOfWork, principal: Principal, body: SurveyCreate) -> tuple[Survey, list[Question]]:
    principal.check_site(body.site)
    if body.closes_at is not None and body.closes_at <= utcnow():
        raise Invalid("a survey closes in the future", field="closes_at")
    survey = Survey(
        id=new_id(),
        site=body.site,
        title=body.title,
        description=body.description,
        buildings=body.buildings,
        sample_method=body.sample.method,
        sample_size=body.sample.size,
        status=SurveyStatus.draft,
        closes_at=body.closes_at,
        created_by=principal.subject,
        created_at=utcnow(),
        invited=0,
        excluded_by_budget=0,
    )
    questions = [
        Question(
            id=new_id(),
            survey_id=survey.id,
            position=index + 1,
            kind=q.kind,
            text=q.text,
            options=q.options,
            required=q.required,
            department=q.department,
        )
        for index, q in enumerate(body.questions)
    ]
    uow.session.add(survey)
    await uow.session.flush()
    uow.session.add_all(questions)
    await uow.commit()
    return survey, questions


async def get_survey(
    session: AsyncSession, principal: Principal, survey_id: str, *, for_update: bool = False
) -> Survey:
    return await get_in_scope(session, Survey, survey_id, principal, what="survey", for_update=for_update)


async def questions_of(session: AsyncSession, survey_id: str) -> list[Question]:
    query = select(Question).where(Question.survey_id == survey_id).order_by(Question.position)
    return list((await session.scalars(query)).all())


async def list_surveys(
    session: AsyncSession, principal: Principal, *, site: str | None, status: str | None, limit: int, offset: int
) -> tuple[Sequence[Survey], int]:
    query = select(Survey)
    query = query.where(principal.site_filter(Survey.site, site))
    if status:
        query = query.where(Survey.status == status)
    return await fetch_page(session, query, Survey.created_at.desc(), Survey.id, limit=limit, offset=offset)


# --- sending ----------------------------------------------------------------------------------------------


async def households(session: AsyncSession, site: str, buildings: list[str]) -> list[tuple[Party, Unit]]:
    """One party per occupied unit in the target (its owner, else a tenant, else family)."""
    query = select(Party, Unit).join(Unit, Unit.id == Party.unit_id).where(Party.site == site, Party.active.is_(True))
    if buildings:
        query = query.where(Unit.building.in_(buildings))
    chosen: dict[str, tuple[Party, Unit]] = {}
    for party, unit in (await session.execute(query)).tuples():
        current = chosen.get(unit.id)
        if current is None or (ROLE_ORDER.get(party.role, 9), party.id) < (
            ROLE_ORDER.get(current[0].role, 9),
            current[0].id,
        ):
            chosen[unit.id] = (party, unit)
    return [chosen[unit_id] for unit_id in sorted(chosen)]


def allocate(strata: dict[str, int], size: int) -> dict[str, int]:
    """Proportional allocation of ``size`` over strata (largest remainder), never more than a stratum holds."""
    total = sum(strata.values())
    size = min(size, total)
    exact = {key: size * count / total for key, count in strata.items()}
    shares = {key: int(value) for key, value in exact.items()}
    by_remainder = sorted(strata, key=lambda key: (-(exact[key] - shares[key]), key))
    for key in by_remainder[: size - sum(shares.values())]:
        shares[key] += 1
    return shares


def draw(
    population: list[tuple[Party, Unit]], method: str, size: int | None, rng: random.Random
) -> list[tuple[Party, Unit]]:
    if method == SampleMethod.all or size is None or size >= len(population):
        return population
    if method == SampleMethod.random:
        return sorted(rng.sample(population, size), key=lambda pair: pair[1].id)
    by_building: dict[str, list[tuple[Party, Unit]]] = defaultdict(list)
    for pair in population:
        by_building[pair[1].building].append(pair)
    shares = allocate({building: len(pairs) for building, pairs in by_building.items()}, size)
    drawn = [pair for building in sorted(by_building) for pair in rng.sample(by_building[building], shares[building])]
    return sorted(drawn, key=lambda pair: pair[1].id)


async def _contacts_by_party(session: AsyncSession, party_ids: Iterable[str], since: datetime) -> dict[str, int]:
    ids = list(party_ids)
    if not ids:
        return {}
    query = (
        select(Contact.party_id, func.count())
        .where(Contact.party_id.in_(ids), Contact.contacted_at > since)
        .group_by(Contact.party_id)
    )
    return {party_id: int(count) for party_id, count in (await session.execute(query)).tuples()}


def _summary(questions: list[Question]) -> str:
    text = f"{len(questions)} questions: " + "; ".join(q.text for q in questions)
    return text if len(text) <= 1000 else text[:997] + "..."


async def send_survey(uow: UnitOfWork, principal: Principal, survey_id: str) -> Survey:
    """Invite the sample: households whose party still has fatigue budget, drawn reproducibly (seeded by the
    survey id); each invitation asks notification to send it."""
    session = uow.session
    survey = await get_survey(session, principal, survey_id, for_update=True)
    if survey.status != SurveyStatus.draft:
        raise Conflict(f"survey {survey.id} is {survey.status}, only a draft is sent", field="status")
    now = utcnow()
    config = await get_config(session, survey.site)
    population = await households(session, survey.site, survey.buildings)
    used = await _contacts_by_party(
        session, (p.id for p, _ in population), now - timedelta(days=config.fatigue_window_days)
    )
    eligible = [(p, u) for p, u in population if used.get(p.id, 0) < config.fatigue_max_contacts]
    chosen = draw(eligible, survey.sample_method, survey.sample_size, random.Random(survey.id))
    if not chosen:
        raise Conflict(
            "no household of the target can be invited (none known, or all over the contact budget)", field="buildings"
        )
    questions = await questions_of(session, survey.id)
    for party, unit in chosen:
        invitation = Invitation(
            id=new_id(),
            survey_id=survey.id,
            site=survey.site,
            party_id=party.id,
            unit_id=unit.id,
            building=unit.building,
            status=InvitationStatus.invited,
            invited_at=now,
        )
        session.add(invitation)
        record_contact(session, party_id=party.id, site=survey.site, kind="survey", ref_id=invitation.id, at=now)
        uow.emit(
            InvitationRequested(
                invitation_id=invitation.id,
                survey_id=survey.id,
                site=survey.site,
                party_id=party.id,
                unit_id=unit.id,
                title=survey.title,
                link=f"/invitations/{invitation.id}",
                summary=_summary(questions),
                question_count=len(questions),
                language=party.language,
                closes_at=as_utc(survey.closes_at).isoformat() if survey.closes_at else None,
                requested_at=now.isoformat(),
            ),
            subject=invitation.id,
            site=survey.site,
            correlation_id=survey.id,
        )
    survey.status, survey.sent_at = SurveyStatus.sent, now
    survey.invited, survey.excluded_by_budget = len(chosen), len(population) - len(eligible)
    if survey.closes_at is not None:
        await timers.schedule(uow, CLOSE_TIMER, key=survey.id, due_at=survey.closes_at)
    await uow.commit()
    return survey


async def close_survey(uow: UnitOfWork, principal: Principal, survey_id: str) -> Survey:
    survey = await get_survey(uow.session, principal, survey_id, for_update=True)
    if survey.status != SurveyStatus.sent:
        raise Conflict(f"survey {survey.id} is {survey.status}, only a sent survey is closed", field="status")
    survey.status, survey.closed_at = SurveyStatus.closed, utcnow()
    await timers.cancel(uow, CLOSE_TIMER, key=survey.id)
    await uow.commit()
    return survey


async def close_when_due(timer: DueTimer, uow: UnitOfWork) -> None:
    """A sent survey closes by itself at its closing time."""
    survey = await uow.session.get(Survey, timer.key, with_for_update=True)
    if survey is not None and survey.status == SurveyStatus.sent:
        survey.status, survey.closed_at = SurveyStatus.closed, timer.due_at


# --- invitations and answers ------------------------------------------------------------------------------


def _is_owner(principal: Principal) -> bool:
    return principal.roles == {"owner"}


async def get_invitation(
    session: AsyncSession, principal: Principal, invitation_id: str, *, for_update: bool = False
) -> Invitation:
    invitation = await session.get(Invitation, invitation_id, with_for_update=for_update)
    if invitation is None:
        raise NotFound("invitation", invitation_id)
    if _is_owner(principal):
        if not principal.party_id or principal.party_id != invitation.party_id:
            raise Forbidden("owners see only their own invitations", field="invitation_id")
    else:
        principal.check_site(invitation.site)
    return invitation


async def invitation_detail(
    session: AsyncSession, principal: Principal, invitation_id: str
) -> tuple[Invitation, Survey, list[Question]]:
    invitation = await get_invitation(session, principal, invitation_id)
    survey = await session.get(Survey, invitation.survey_id)
    assert survey is not None
    return invitation, survey, await questions_of(session, survey.id)


async def list_invitations(
    session: AsyncSession, principal: Principal, *, survey_id: str | None, status: str | None, limit: int, offset: int
) -> tuple[Sequence[Invitation], int]:
    query = select(Invitation)
    if _is_owner(principal):
        query = query.where(Invitation.party_id == (principal.party_id or ""))
    elif survey_id:
        await get_survey(session, principal, survey_id)
    else:
        query = query.where(principal.site_filter(Invitation.site))
    if survey_id:
        query = query.where(Invitation.survey_id == survey_id)
    if status:
        query = query.where(Invitation.status == status)
    return await fetch_page(session, query, Invitation.invited_at.desc(), Invitation.id, limit=limit, offset=offset)


def _check_answers(questions: list[Question], body: AnswersIn) -> list[Answer]:
    """Each answer fits its question; every required question is answered (422 naming the field)."""
    by_id = {q.id: q for q in questions}
    seen: set[str] = set()
    answers: list[Answer] = []
    for index, item in enumerate(body.answers):
        question = by_id.get(item.question_id)
        if question is None:
            raise Invalid(f"question {item.question_id} is not in this survey", field=f"answers.{index}.question_id")
        if question.id in seen:
            raise Invalid(f"question {question.id} is answered twice", field=f"answers.{index}.question_id")
        seen.add(question.id)
        value, field = item.value, f"answers.{index}.value"
        if question.kind == QuestionKind.scale:
            if not isinstance(value, int) or not SCALE_MIN <= value <= SCALE_MAX:
                raise Invalid(f"a scale answer is an integer {SCALE_MIN}-{SCALE_MAX}", field=field)
            answers.append(Answer(question_id=question.id, value_int=value))
        elif question.kind == QuestionKind.choice:
            if not isinstance(value, str) or value not in question.options:
                raise Invalid(f"choose one of {question.options}", field=field)
            answers.append(Answer(question_id=question.id, value_text=value))
        else:
            if not isinstance(value, str) or len(value) > TEXT_MAX:
                raise Invalid(f"a text answer is a string of at most {TEXT_MAX} characters", field=field)
            answers.append(Answer(question_id=question.id, value_text=value))
    missing = [q.position for q in questions if q.required and q.id not in seen]
    if missing:
        raise Invalid(f"required questions unanswered: {missing}", field="answers")
    return answers


async def submit_answers(
    uow: UnitOfWork, principal: Principal, invitation_id: str, body: AnswersIn, *, by_owner: bool
) -> Invitation:
    session = uow.session
    invitation = await get_invitation(session, principal, invitation_id, for_update=True)
    if by_owner and invitation.party_id != principal.party_id:
        raise Forbidden("owners answer only their own invitations", field="invitation_id")
    survey = await session.get(Survey, invitation.survey_id)
    assert survey is not None
    now = utcnow()
    if survey.status != SurveyStatus.sent or (survey.closes_at and as_utc(survey.closes_at) <= now):
        raise Conflict(f"survey {survey.id} is closed for answers", field="survey_id")
    if invitation.status != InvitationStatus.invited:
        raise Conflict(f"invitation {invitation.id} is already answered", field="status")
    for answer in _check_answers(await questions_of(session, survey.id), body):
        answer.invitation_id, answer.survey_id = invitation.id, survey.id
        session.add(answer)
    invitation.status, invitation.answered_at = InvitationStatus.answered, now
    invitation.channel = "owner" if by_owner else "phone"
    invitation.recorded_by = principal.party_id if by_owner else principal.subject
    await uow.commit()
    return invitation
