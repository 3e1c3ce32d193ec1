"""Decoration permits (二次装修) at the front desk: the permits list (status, overdue review, the review's countdown),
a new application for a unit's owner with its plan, and the permit's page (details, files, timeline, the actions
its status allows, the printable agreement and passes). Intake decides every rule and answers 409 with its own
words, shown next to the action refused. Engineering's review, the clerk's deposits and the owners' pages of
this area are routed from here too."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from console.billing.rules import parse_amount
from console.billing.views import chosen, site_choices
from console.decoration import calls, deposits, owners, review
from console.decoration.calls import application_errors, apply_with_plan
from console.decoration.rules import (
    DEDUCTION_KINDS,
    DEDUCTION_ROWS,
    INSPECTION_KINDS,
    action_forms,
    deductions,
    permit_body,
)
from console.permissions import REVIEW_PERMITS, SEE_DECORATION
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, fetch_list, redirect, services_of

router = APIRouter(prefix="/decoration")
router.include_router(review.router)
router.include_router(deposits.router)
owners_router = owners.router

STATUSES = (
    "applied",
    "under_review",
    "approved",
    "in_works",
    "stopped",
    "completion_requested",
    "completed",
    "settled",
    "closed",
    "rejected",
    "withdrawn",
)
# What a POST just did, shown once on the page it redirects to.
DONE = {
    "applied": "decoration.done.applied",
    "start_review": "decoration.done.start_review",
    "withdraw": "decoration.done.withdraw",
    "start_works": "decoration.done.start_works",
    "inspection": "decoration.done.inspection",
    "violation": "decoration.done.violation",
    "resume": "decoration.done.resume",
    "complaint": "decoration.done.complaint",
    "request_completion": "decoration.done.request_completion",
    "settle": "decoration.done.settle",
}


@router.get("")
async def decoration_home(page: SignedInPage) -> Response:
    page.require(SEE_DECORATION)
    return redirect("/decoration/permits")


@router.get("/permits")
async def permit_list(
    page: SignedInPage,
    site: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    overdue: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """A site's permits, newest first; ``overdue=yes`` those whose review is past its limit."""
    page.require(SEE_DECORATION)
    sites = await site_choices(page)
    site = chosen(site, sites)
    listing = await fetch_list(
        page,
        "intake",
        "/decoration-permits",
        limit="200",
        site=site,
        status=status,
        overdue="true" if overdue == "yes" else "",
    )
    return page.render(
        page.fragment("decoration/permits.html", "decoration/permits_table.html"),
        status_code=(listing.error.status or 502) if listing.error else 200,
        items=listing.items,
        total=listing.total,
        error=listing.error,
        site=site,
        sites=sites,
        status=status,
        overdue=overdue,
        statuses=STATUSES,
    )


# --- a new application ---------------------------------------------------------------------------------------


async def _owners(page: Page, unit_id: str) -> list[dict[str, Any]]:
    """The unit's owners to apply for (none when the unit is unknown: intake then says so on saving)."""
    if not unit_id:
        return []
    try:
        parties = await services_of(page.request).get("intake", f"/units/{unit_id}/parties", page.token)
    except ServiceError:
        return []
    return [party for party in parties if party.get("role") == "owner" and not party.get("move_out")]


async def _new_form(
    page: Page,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    error: ServiceError | None = None,
    status_code: int = 200,
) -> Response:
    return page.render(
        "decoration/permit_new.html",
        status_code=status_code,
        form=form,
        owners=await _owners(page, form.get("unit_id", "")),
        errors=errors or {},
        error=error,
    )


@router.get("/permits/new")
async def new_permit(page: SignedInPage, unit_id: Annotated[str, Query(max_length=64)] = "") -> Response:
    page.require(SEE_DECORATION)
    return await _new_form(page, {"unit_id": unit_id.strip()})


@router.post("/permits/new")
async def apply(page: SignedInPage) -> Response:
    """The application (intake refuses what is wrong, by its field), then its plan when one was chosen."""
    submitted = await page.request.form()
    check_csrf(page, str(submitted.get("csrf_token", "")))
    page.require(SEE_DECORATION)
    form = {name: value for name, value in submitted.items() if isinstance(value, str) and name != "csrf_token"}
    if not form.get("party_id") and form.get("unit_id"):
        found = await _owners(page, form["unit_id"].strip())
        if len(found) == 1:  # the unit's only owner; several: the desk picks one
            form["party_id"] = str(found[0]["id"])
    try:
        created, plan_error = await apply_with_plan(page, permit_body(form), submitted.get("plan"))
    except ServiceError as exc:
        errors = application_errors(exc)
        return await _new_form(page, form, errors, None if errors else exc, status_code=exc.status or 502)
    if plan_error is not None:  # the permit stands; its page says why the plan was refused
        return await _permit_page(
            page, created["id"], errors={"file": plan_error.detail}, status_code=plan_error.status or 502
        )
    return redirect(f"/decoration/permits/{created['id']}?done=applied")


# --- one permit ------------------------------------------------------------------------------------------------


async def _permit_page(
    page: Page,
    permit_id: str,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(page.request)
    try:
        permit = await services.get("intake", f"/decoration-permits/{permit_id}", page.token)
    except ServiceError as exc:
        return page.render("decoration/permit.html", status_code=exc.status or 502, permit=None, error=exc)
    timeline: list[dict[str, Any]] = []
    timeline_error: ServiceError | None = None
    try:
        timeline = await services.get("intake", f"/decoration-permits/{permit_id}/timeline", page.token)
    except ServiceError as exc:
        timeline_error = exc
    done = DONE.get(page.request.query_params.get("done", ""))
    return page.render(
        "decoration/permit.html",
        status_code=status_code,
        permit=permit,
        timeline=timeline,
        timeline_error=timeline_error,
        forms=action_forms(permit["status"]),
        errors=errors or {},
        error=None,
        done=done,
        inspection_kinds=INSPECTION_KINDS,
        deduction_kinds=DEDUCTION_KINDS,
        deduction_rows=range(DEDUCTION_ROWS),
    )


@router.get("/permits/{permit_id}")
async def permit_page(page: SignedInPage, permit_id: Annotated[str, Path(max_length=64)]) -> Response:
    page.require(SEE_DECORATION)
    return await _permit_page(page, permit_id)


async def _command(page: Page, permit_id: str, action: str, form: dict[str, str], upload: Any) -> None:
    """One action of the permit's page as intake's call (a ServiceError when intake refuses it)."""
    services = services_of(page.request)
    path = f"/decoration-permits/{permit_id}"
    reason = form.get("reason", "").strip()
    reason_body = {"reason": reason} if reason else {}
    if action == "start_review":
        await services.post("intake", f"{path}/start-review", page.token)
    elif action == "withdraw":
        await services.post("intake", f"{path}/withdraw", page.token, reason_body)
    elif action == "start_works":
        await services.post("intake", f"{path}/start-works", page.token)
    elif action == "resume":
        await services.post("intake", f"{path}/resume", page.token, reason_body)
    elif action == "request_completion":
        await services.post("intake", f"{path}/completion", page.token)
    elif action == "complaint":
        await services.post("intake", f"{path}/complaints", page.token, {"request_id": form.get("request_id", "")})
    elif action == "inspection":
        body = {"kind": form.get("kind", "routine")}
        if form.get("note", "").strip():
            body["note"] = form["note"].strip()
        await services.post("intake", f"{path}/inspections", page.token, body)
    elif action == "violation":
        await services.post("intake", f"{path}/violations", page.token, await _violation(page, permit_id, form, upload))
    elif action == "settle":
        await services.post("intake", f"{path}/settlement", page.token, {"deductions": form["_deductions"]})
    else:
        raise ServiceError("console", 404, action)


async def _violation(page: Page, permit_id: str, form: dict[str, str], upload: Any) -> dict[str, Any]:
    """The violation's body, its photo uploaded to the permit first."""
    body: dict[str, Any] = {"description": form.get("description", "").strip(), "stop_order": "stop_order" in form}
    if isinstance(upload, UploadFile) and upload.filename:
        stored = await calls.upload(page, permit_id, "photo", upload)
        body["photos"] = [stored["key"]]
    fine = form.get("fine", "").strip()
    if fine:
        cents = parse_amount(fine)
        body["fine_cents"] = cents if cents is not None else fine
        body["fine_reason"] = form.get("fine_reason", "").strip() or None
    return body


@router.post("/permits/{permit_id}/actions/{action}")
async def permit_action(
    page: SignedInPage,
    permit_id: Annotated[str, Path(max_length=64)],
    action: Annotated[str, Path(max_length=32)],
) -> Response:
    """Any action of the permit's page; a refusal is shown next to the action's form in intake's words."""
    submitted = await page.request.form()
    check_csrf(page, str(submitted.get("csrf_token", "")))
    page.require(SEE_DECORATION)
    form: dict[str, Any] = {name: value for name, value in submitted.items() if isinstance(value, str)}
    if action == "settle":
        rows = deductions(form)
        if isinstance(rows, str):
            return await _permit_page(
                page, permit_id, errors={action: page.t("decoration.amount_format")}, status_code=422
            )
        form["_deductions"] = rows
    try:
        await _command(page, permit_id, action, form, submitted.get("photo"))
    except ServiceError as exc:
        detail = exc.detail
        if action == "start_works" and exc.field == "deposit_status":
            detail = f"{page.t('decoration.deposit_not_paid')} ({exc.detail})"
        if exc.status is None:
            detail = page.t("error.service_unavailable", service=exc.service)
        return await _permit_page(page, permit_id, errors={action: detail}, status_code=exc.status or 502)
    return redirect(f"/decoration/permits/{permit_id}?done={action}")


@router.get("/permits/{permit_id}/files/{file_name}")
async def permit_file(
    page: SignedInPage,
    permit_id: Annotated[str, Path(max_length=64)],
    file_name: Annotated[str, Path(max_length=200)],
) -> Response:
    """A plan, an authorisation or a photo, as intake serves it to the person."""
    if not (page.may(SEE_DECORATION) or page.may(REVIEW_PERMITS)):
        page.require(SEE_DECORATION)
    return await _proxy(page, f"/decoration-permits/{permit_id}/files/{file_name}")


@router.get("/permits/{permit_id}/{document}")
async def printable(
    page: SignedInPage,
    permit_id: Annotated[str, Path(max_length=64)],
    document: Annotated[str, Path(pattern=r"^(agreement|passes)$")],
) -> Response:
    """The agreement or the workers' passes, printable, in the person's language (intake renders them)."""
    page.require(SEE_DECORATION)
    lang = "en" if page.language == "en" else "zh"
    return await _proxy(page, f"/decoration-permits/{permit_id}/{document}?lang={lang}")


async def _proxy(page: Page, path: str) -> Response:
    try:
        content, kind = await services_of(page.request).get_bytes("intake", path, page.token)
    except ServiceError as exc:
        return page.render("decoration/permit.html", status_code=exc.status or 502, permit=None, error=exc)
    if kind.startswith("text/html"):
        return HTMLResponse(content)
    return Response(content, media_type=kind, headers={"Cache-Control": "private, max-age=3600"})
