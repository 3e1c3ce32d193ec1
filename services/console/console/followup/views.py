"""Follow-ups due (回访): survey's follow-up calls by state and due time, each with the request it follows, where
an agent records an unanswered attempt or the owner's answer. Survey decides what the answer means (a request
not solved, or a low score, reopens it at intake through survey's events); the console only records it.
The surveys and home-visit screens of this area are routed from here too."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response

from console.followup import surveys, visits
from console.followup.rules import SCORES, attempt_note, follow_up_answer, follow_up_input
from console.permissions import SEE_FOLLOW_UPS, SEE_REQUEST_LIST
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, fetch_list, redirect, services_of

router = APIRouter()
router.include_router(surveys.router)
router.include_router(visits.router)

STATUSES = ("scheduled", "done", "unreachable", "skipped")
# What a POST just recorded, shown once on the page it redirects to.
RECORDED = {"attempt": "followup.recorded_attempt", "result": "followup.recorded_result"}


def desk_sites(page: Page) -> list[str]:
    """The person's own sites to choose from (head office's "every site" is typed instead)."""
    assert page.account is not None
    return [site for site in page.account.sites if site != "*"]


@router.get("/follow-ups")
async def follow_up_list(
    page: SignedInPage,
    site: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str | None, Query(max_length=32)] = None,
    overdue: Annotated[str, Query(max_length=8)] = "",
    request: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The site's follow-ups, soonest due first; ``request`` narrows them to one request's (linked from elsewhere)."""
    page.require(SEE_FOLLOW_UPS)
    if status is None:  # the desk's worklist: those still due; one request's: all of them
        status = "" if request else "scheduled"
    listing = await fetch_list(
        page,
        "survey",
        "/follow-ups",
        limit="200",
        request_id=request,
        site=site,
        status=status,
        overdue="true" if overdue == "yes" else "",
    )
    return page.render(
        page.fragment("followup/follow_ups.html", "followup/follow_ups_table.html"),
        items=listing.items,
        total=listing.total,
        error=listing.error,
        site=site,
        status=status,
        overdue=overdue,
        one_request=request,
        statuses=STATUSES,
        sites=desk_sites(page),
    )


async def _follow_up_page(
    page: Page,
    followup_id: str,
    *,
    errors: dict[str, str] | None = None,
    error: ServiceError | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The follow-up, the request it follows (from intake) and its two forms, with any refusal by its input."""
    services = services_of(page.request)
    try:
        followup = await services.get("survey", f"/follow-ups/{followup_id}", page.token)
    except ServiceError as exc:
        return page.render("followup/follow_up.html", status_code=exc.status or 502, followup=None, error=exc)
    request: dict[str, Any] | None = None
    request_error: ServiceError | None = None
    try:
        request = await services.get("intake", f"/requests/{followup['request_id']}", page.token)
    except ServiceError as exc:
        request_error = exc
    recorded = RECORDED.get(page.request.query_params.get("recorded", ""))
    return page.render(
        "followup/follow_up.html",
        status_code=status_code,
        followup=followup,
        followed=request,
        request_error=request_error,
        may_open_request=page.may(SEE_REQUEST_LIST),
        error=error,
        errors=errors or {},
        form=form or {},
        scores=SCORES,
        recorded=recorded,
    )


@router.get("/follow-ups/{followup_id}")
async def follow_up_page(page: SignedInPage, followup_id: Annotated[str, Path(max_length=64)]) -> Response:
    page.require(SEE_FOLLOW_UPS)
    return await _follow_up_page(page, followup_id)


@router.post("/follow-ups/{followup_id}/attempts")
async def record_attempt(
    page: SignedInPage,
    followup_id: Annotated[str, Path(max_length=64)],
    reason: Annotated[str, Form(max_length=32)] = "no_answer",
    note: Annotated[str, Form(max_length=1800)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(SEE_FOLLOW_UPS)
    # Survey keeps a free-text note per attempt: why nobody answered, in the agent's words, then any detail.
    body = {"note": attempt_note(page.t.value("followup.attempt.reasons", reason), note)}
    try:
        await services_of(page.request).post("survey", f"/follow-ups/{followup_id}/attempts", page.token, body)
    except ServiceError as exc:
        errors = {"note": exc.detail} if exc.status and exc.field == "note" else {}
        return await _follow_up_page(
            page,
            followup_id,
            errors=errors,
            error=None if errors else exc,
            form={"reason": reason, "note": note},
            status_code=exc.status or 502,
        )
    return redirect(f"/follow-ups/{followup_id}?recorded=attempt")


@router.post("/follow-ups/{followup_id}/result")
async def record_result(
    page: SignedInPage,
    followup_id: Annotated[str, Path(max_length=64)],
    solved: Annotated[str, Form(max_length=8)] = "",
    score_overall: Annotated[str, Form(max_length=8)] = "",
    score_speed: Annotated[str, Form(max_length=8)] = "",
    score_attitude: Annotated[str, Form(max_length=8)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(SEE_FOLLOW_UPS)
    form = {
        "solved": solved,
        "score_overall": score_overall,
        "score_speed": score_speed,
        "score_attitude": score_attitude,
        "comment": comment,
    }
    scores = {"overall": score_overall, "speed": score_speed, "attitude": score_attitude}
    body = follow_up_answer(solved, scores, comment)
    try:
        await services_of(page.request).post("survey", f"/follow-ups/{followup_id}/result", page.token, body)
    except ServiceError as exc:
        input_name = follow_up_input(exc.field) if exc.status else None
        return await _follow_up_page(
            page,
            followup_id,
            errors={input_name: exc.detail} if input_name else {},
            error=None if input_name else exc,
            form=form,
            status_code=exc.status or 502,
        )
    return redirect(f"/follow-ups/{followup_id}?recorded=result")
