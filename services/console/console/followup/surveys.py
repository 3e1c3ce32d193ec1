"""Satisfaction surveys (业主满意度调查): the list, a new questionnaire (survey's model: scale, choice and text
questions, the buildings and the sample), sending and closing it, its report and its answers as CSV."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response

from console.config import ConsoleSettings
from console.followup.rules import QUESTION_ROWS, QuestionRow, SurveyForm, survey_body, survey_input
from console.permissions import PLAN_SURVEYS
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, fetch_list, redirect, services_of

router = APIRouter(prefix="/surveys")

STATUSES = ("draft", "sent", "closed")
QUESTION_KINDS = ("scale", "choice", "text")
SAMPLE_METHODS = ("all", "random", "stratified")
RECORDED = {"sent": "followup.survey.recorded_sent", "closed": "followup.survey.recorded_closed"}


def _sites(page: Page) -> list[str]:
    assert page.account is not None
    return [site for site in page.account.sites if site != "*"]


def _zone(page: Page) -> ZoneInfo:
    console: ConsoleSettings = page.request.app.state.console
    return ZoneInfo(console.display_timezone)


@router.get("")
async def survey_list(
    page: SignedInPage,
    site: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    page.require(PLAN_SURVEYS)
    listing = await fetch_list(page, "survey", "/surveys", limit="200", site=site, status=status)
    return page.render(
        "followup/surveys.html",
        items=listing.items,
        total=listing.total,
        error=listing.error,
        site=site,
        status=status,
        statuses=STATUSES,
        sites=_sites(page),
    )


def _new_survey_form(
    page: Page,
    form: SurveyForm,
    errors: dict[str, str] | None = None,
    error: ServiceError | None = None,
    status_code: int = 200,
) -> Response:
    return page.render(
        "followup/survey_new.html",
        status_code=status_code,
        form=form,
        errors=errors or {},
        error=error,
        sites=_sites(page),
        kinds=QUESTION_KINDS,
        sample_methods=SAMPLE_METHODS,
    )


@router.get("/new")
async def new_survey(page: SignedInPage) -> Response:
    page.require(PLAN_SURVEYS)
    sites = _sites(page)
    blank = SurveyForm(
        site=sites[0] if sites else "",
        title="",
        description="",
        buildings="",
        sample_method="all",
        sample_size="",
        closes_at="",
        questions=tuple(QuestionRow(kind="scale", text="") for _ in range(QUESTION_ROWS)),
    )
    return _new_survey_form(page, blank)


@router.post("/new")
async def create_survey(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    buildings: Annotated[str, Form(max_length=2000)] = "",
    sample_method: Annotated[str, Form(max_length=16)] = "all",
    sample_size: Annotated[str, Form(max_length=16)] = "",
    closes_at: Annotated[str, Form(max_length=32)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(PLAN_SURVEYS)
    # The question rows are numbered inputs (q0_text, q1_text ...): read from the form itself.
    typed = await page.request.form()

    def value(name: str) -> str:
        found = typed.get(name)
        return found if isinstance(found, str) else ""

    rows = tuple(
        QuestionRow(
            kind=value(f"q{index}_kind"),
            text=value(f"q{index}_text"),
            options=value(f"q{index}_options"),
            department=value(f"q{index}_department"),
            required=value(f"q{index}_required") == "yes",
        )
        for index in range(QUESTION_ROWS)
    )
    form = SurveyForm(site, title, description, buildings, sample_method, sample_size, closes_at, rows)
    body, sent_rows = survey_body(form, _zone(page))
    try:
        created = await services_of(page.request).post("survey", "/surveys", page.token, body)
    except ServiceError as exc:
        input_name = survey_input(exc.field, sent_rows) if exc.status else None
        if input_name:
            return _new_survey_form(page, form, {input_name: exc.detail}, status_code=exc.status or 422)
        return _new_survey_form(page, form, error=exc, status_code=exc.status or 502)
    return redirect(f"/surveys/{created['id']}")


async def _survey_page(
    page: Page, survey_id: str, error: ServiceError | None = None, status_code: int = 200
) -> Response:
    try:
        survey = await services_of(page.request).get("survey", f"/surveys/{survey_id}", page.token)
    except ServiceError as exc:
        return page.render("followup/survey.html", status_code=exc.status or 502, survey=None, error=exc)
    recorded = RECORDED.get(page.request.query_params.get("recorded", ""))
    return page.render("followup/survey.html", status_code=status_code, survey=survey, error=error, recorded=recorded)


@router.get("/{survey_id}")
async def survey_page(page: SignedInPage, survey_id: Annotated[str, Path(max_length=64)]) -> Response:
    page.require(PLAN_SURVEYS)
    return await _survey_page(page, survey_id)


async def _step(page: Page, survey_id: str, step: str, csrf_token: str) -> Response:
    """Send or close: survey says whether the survey's state allows it."""
    check_csrf(page, csrf_token)
    page.require(PLAN_SURVEYS)
    try:
        await services_of(page.request).post("survey", f"/surveys/{survey_id}/{step}", page.token)
    except ServiceError as exc:
        return await _survey_page(page, survey_id, error=exc, status_code=exc.status or 502)
    return redirect(f"/surveys/{survey_id}?recorded={'sent' if step == 'send' else 'closed'}")


@router.post("/{survey_id}/send")
async def send_survey(
    page: SignedInPage,
    survey_id: Annotated[str, Path(max_length=64)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    return await _step(page, survey_id, "send", csrf_token)


@router.post("/{survey_id}/close")
async def close_survey(
    page: SignedInPage,
    survey_id: Annotated[str, Path(max_length=64)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    return await _step(page, survey_id, "close", csrf_token)


@router.get("/{survey_id}/report")
async def survey_report(page: SignedInPage, survey_id: Annotated[str, Path(max_length=64)]) -> Response:
    page.require(PLAN_SURVEYS)
    try:
        report = await services_of(page.request).get("survey", f"/surveys/{survey_id}/report", page.token)
    except ServiceError as exc:
        return page.render(
            "followup/survey_report.html", status_code=exc.status or 502, report=None, survey_id=survey_id, error=exc
        )
    return page.render("followup/survey_report.html", report=report, survey_id=survey_id, error=None)


@router.get("/{survey_id}/export.csv")
async def export_survey(page: SignedInPage, survey_id: Annotated[str, Path(max_length=64)]) -> Response:
    """Survey's CSV of the answers, handed through as survey named it."""
    page.require(PLAN_SURVEYS)
    try:
        exported = await services_of(page.request).send("GET", "survey", f"/surveys/{survey_id}/export.csv", page.token)
    except ServiceError as exc:
        return page.render(
            "followup/survey_report.html", status_code=exc.status or 502, report=None, survey_id=survey_id, error=exc
        )
    disposition = exported.headers.get("content-disposition", f'attachment; filename="survey-{survey_id}.csv"')
    return Response(
        exported.content, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
    )
