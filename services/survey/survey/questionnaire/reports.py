"""Survey reports: a questionnaire's tallies and satisfaction, its answers as CSV, and a site's satisfaction
over a period."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pm_platform.auth import Principal
from pm_platform.envelope import as_utc
from survey.contacts.models import Unit
from survey.followup.models import FollowUp, Outcome, Status
from survey.questionnaire.models import (
    BASICALLY_SATISFIED,
    SATISFIED_FROM,
    SCALE_MIN,
    Answer,
    Invitation,
    InvitationStatus,
    QuestionKind,
    QuestionReport,
    Satisfaction,
    SiteSatisfaction,
    Survey,
    SurveyReport,
    SurveyStatus,
)
from survey.questionnaire.service import get_survey, questions_of


class Tally:
    def __init__(self) -> None:
        self.satisfied = self.basically = self.dissatisfied = 0

    def add(self, score: int) -> None:
        if score >= SATISFIED_FROM:
            self.satisfied += 1
        elif score >= BASICALLY_SATISFIED:
            self.basically += 1
        else:
            self.dissatisfied += 1

    def result(self) -> Satisfaction:
        answered = self.satisfied + self.basically + self.dissatisfied
        rate = round((self.satisfied + self.basically) / answered, 4) if answered else None
        return Satisfaction(
            answered=answered,
            satisfied=self.satisfied,
            basically_satisfied=self.basically,
            dissatisfied=self.dissatisfied,
            rate=rate,
        )


async def _answers(session: AsyncSession, survey_ids: list[str]) -> list[tuple[Answer, Invitation]]:
    if not survey_ids:
        return []
    query = (
        select(Answer, Invitation)
        .join(Invitation, Invitation.id == Answer.invitation_id)
        .where(Answer.survey_id.in_(survey_ids))
        .order_by(Answer.id)
    )
    return list((await session.execute(query)).tuples())


async def report(session: AsyncSession, principal: Principal, survey_id: str) -> SurveyReport:
    survey = await get_survey(session, principal, survey_id)
    questions = await questions_of(session, survey.id)
    rows = await _answers(session, [survey.id])
    responded = (
        await session.scalar(
            select(func.count()).where(
                Invitation.survey_id == survey.id, Invitation.status == InvitationStatus.answered
            )
        )
        or 0
    )
    overall = Tally()
    by_department: dict[str, Tally] = defaultdict(Tally)
    by_building: dict[str, Tally] = defaultdict(Tally)
    per_question: dict[str, list[Answer]] = defaultdict(list)
    kinds = {q.id: q for q in questions}
    for answer, invitation in rows:
        per_question[answer.question_id].append(answer)
        question = kinds[answer.question_id]
        if question.kind == QuestionKind.scale and answer.value_int is not None:
            overall.add(answer.value_int)
            by_building[invitation.building].add(answer.value_int)
            if question.department:
                by_department[question.department].add(answer.value_int)
    reports: list[QuestionReport] = []
    for q in questions:
        answers = per_question[q.id]
        item = QuestionReport(
            question_id=q.id,
            position=q.position,
            kind=q.kind,
            text=q.text,
            department=q.department,
            answered=len(answers),
        )
        if q.kind == QuestionKind.scale:
            tally = Tally()
            for a in answers:
                tally.add(a.value_int or 0)
            item.satisfaction = tally.result()
            item.average = round(sum(a.value_int or 0 for a in answers) / len(answers), 2) if answers else None
        elif q.kind == QuestionKind.choice:
            item.choices = {option: sum(1 for a in answers if a.value_text == option) for option in q.options}
        reports.append(item)
    return SurveyReport(
        survey_id=survey.id,
        site=survey.site,
        title=survey.title,
        invited=survey.invited,
        responded=responded,
        response_rate=round(responded / survey.invited, 4) if survey.invited else None,
        satisfaction=overall.result(),
        by_department={k: v.result() for k, v in sorted(by_department.items())},
        by_building={k: v.result() for k, v in sorted(by_building.items())},
        questions=reports,
    )


async def export_csv(session: AsyncSession, principal: Principal, survey_id: str) -> tuple[Survey, str]:
    """One row per answered invitation, one column per question (in order)."""
    survey = await get_survey(session, principal, survey_id)
    questions = await questions_of(session, survey.id)
    answered = (
        await session.scalars(
            select(Invitation)
            .where(Invitation.survey_id == survey.id, Invitation.status == InvitationStatus.answered)
            .order_by(Invitation.unit_id, Invitation.id)
        )
    ).all()
    values: dict[tuple[str, str], str] = {}
    for answer, _ in await _answers(session, [survey.id]):
        value = answer.value_int if answer.value_int is not None else answer.value_text
        values[(answer.invitation_id, answer.question_id)] = "" if value is None else str(value)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "invitation_id",
            "unit_id",
            "building",
            "party_id",
            "answered_at",
            "channel",
            *[f"Q{q.position} {q.text}" for q in questions],
        ]
    )
    for inv in answered:
        writer.writerow(
            [
                inv.id,
                inv.unit_id,
                inv.building,
                inv.party_id,
                as_utc(inv.answered_at).isoformat() if inv.answered_at else "",
                inv.channel or "",
                *[values.get((inv.id, q.id), "") for q in questions],
            ]
        )
    return survey, out.getvalue()


async def site_satisfaction(
    session: AsyncSession, principal: Principal, *, site: str | None, since: datetime | None, until: datetime | None
) -> list[SiteSatisfaction]:
    """Per site (head office: every site): survey satisfaction overall and per department, and how the
    answered follow-ups went, for surveys sent and follow-ups completed in the period."""
    query = select(Survey).where(Survey.status != SurveyStatus.draft)
    fu_query = select(FollowUp).where(FollowUp.status == Status.done)
    query = query.where(principal.site_filter(Survey.site, site))
    fu_query = fu_query.where(principal.site_filter(FollowUp.site, site))
    if since:
        query, fu_query = query.where(Survey.sent_at >= since), fu_query.where(FollowUp.completed_at >= since)
    if until:
        query, fu_query = query.where(Survey.sent_at < until), fu_query.where(FollowUp.completed_at < until)
    surveys = (await session.scalars(query)).all()
    question_of = {q.id: q for s in surveys for q in await questions_of(session, s.id)}
    site_of = {s.id: s.site for s in surveys}
    overall: dict[str, Tally] = defaultdict(Tally)
    departments: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    for answer, _ in await _answers(session, list(site_of)):
        question = question_of[answer.question_id]
        if question.kind != QuestionKind.scale or answer.value_int is None:
            continue
        overall[site_of[answer.survey_id]].add(answer.value_int)
        if question.department:
            departments[site_of[answer.survey_id]][question.department].add(answer.value_int)
    followups: dict[str, Tally] = defaultdict(Tally)
    followup_departments: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    for followup in (await session.scalars(fu_query)).all():
        # A satisfied answer counts by its overall score (3 is "basically"); not solved or a low score as
        # dissatisfied.
        score = (followup.score_overall or SATISFIED_FROM) if followup.outcome == Outcome.satisfied else SCALE_MIN
        followups[followup.site].add(score)
        if followup.department:
            followup_departments[followup.site][followup.department].add(score)
    if site:
        sites = [site]
    else:  # every site in scope that survey knows, with or without answers yet
        known = (
            set((await session.scalars(select(Unit.site).distinct())).all()) | set(site_of.values()) | set(followups)
        )
        sites = sorted(s for s in known if principal.can_act_on(s))
    return [
        SiteSatisfaction(
            site=s,
            surveys=overall[s].result(),
            by_department={d: t.result() for d, t in sorted(departments[s].items())},
            followups=followups[s].result(),
            followups_by_department={d: t.result() for d, t in sorted(followup_departments[s].items())},
        )
        for s in sites
    ]
