"""The front desk's request list, new request form and request page: intake's API with the person's own token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response

from console.permissions import RECORD_REQUEST, SEE_REQUEST_LIST
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter(prefix="/front-desk")

KINDS = ("repair", "complaint", "inquiry", "suggestion", "praise", "emergency")
CHANNELS = ("phone", "visit", "app", "patrol", "email", "messaging")
PRIORITIES = ("low", "normal", "high", "urgent")
# The form's inputs by the name intake gives the field in a problem (so a refusal lands next to its input).
FORM_FIELDS = {
    "site": "site",
    "kind": "kind",
    "category": "category",
    "unit_id": "unit_code",
    "description": "description",
    "priority": "priority",
    "channel": "channel",
    "reporter.name": "reporter_name",
    "reporter.phone": "reporter_phone",
}
STATUSES = ("new", "acknowledged", "in_progress", "resolved", "followed_up", "closed", "reopened", "cancelled")


def time_limit(item: dict[str, Any]) -> tuple[str, str | None, bool]:
    """The limit a request is running against now: (message key, due time, breached)."""
    if item.get("acknowledged_at") is None and item.get("ack_due_at"):
        return "requests.due_ack", item["ack_due_at"], bool(item.get("ack_breached"))
    if item.get("replied_at") is None and item.get("reply_due_at"):
        return "requests.due_reply", item["reply_due_at"], bool(item.get("reply_breached"))
    return "requests.no_limit", None, False


@router.get("/requests")
async def request_list(
    page: SignedInPage,
    site: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    page.require(SEE_REQUEST_LIST)
    assert page.account is not None and page.session is not None
    params = {"limit": "100"}
    if site:
        params["site"] = site
    if status:
        params["status"] = status
    body: dict[str, Any] = {"items": [], "total": 0}
    error: ServiceError | None = None
    try:
        body = await services_of(page.request).get("intake", "/requests", page.session.service_token, params)
    except ServiceError as exc:
        error = exc
    # htmx asks for the table alone when the filter changes; a plain request gets the whole page.
    template = "requests_table.html" if page.request.headers.get("HX-Request") else "requests.html"
    return page.render(
        template,
        items=body.get("items", []),
        total=body.get("total", 0),
        error=error,
        site=site,
        status=status,
        statuses=STATUSES,
        time_limit=time_limit,
        sites=[s for s in page.account.sites if s != "*"],
        may_record=page.may(RECORD_REQUEST),
    )


async def _new_request_form(
    page: Page, form: dict[str, str], errors: dict[str, str], error: ServiceError | None = None, status_code: int = 200
) -> Response:
    """The form, with the chosen site's categories from intake's taxonomy and any refusal by its input."""
    assert page.account is not None and page.session is not None
    sites = [s for s in page.account.sites if s != "*"]
    site = form.get("site") or (sites[0] if sites else "")
    categories: list[dict[str, Any]] = []
    if site:
        try:
            found = await services_of(page.request).get(
                "intake", f"/sites/{site}/categories", page.session.service_token
            )
            categories = [c for c in found if c.get("active")]
        except ServiceError as exc:
            error = error or exc
    return page.render(
        "request_new.html",
        status_code=(error.status or 502) if error else status_code,
        form={**form, "site": site},
        errors=errors,
        error=error,
        sites=sites,
        kinds=KINDS,
        channels=CHANNELS,
        priorities=PRIORITIES,
        categories=categories,
    )


@router.get("/requests/new")
async def new_request(page: SignedInPage, site: Annotated[str, Query(max_length=64)] = "") -> Response:
    page.require(RECORD_REQUEST)
    return await _new_request_form(page, {"site": site, "priority": "normal", "channel": "phone"}, {})


@router.post("/requests/new")
async def record_request(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)],
    kind: Annotated[str, Form(max_length=32)],
    category: Annotated[str, Form(max_length=64)],
    description: Annotated[str, Form(max_length=4000)],
    reporter_name: Annotated[str, Form(max_length=120)],
    unit_code: Annotated[str, Form(max_length=64)] = "",
    priority: Annotated[str, Form(max_length=32)] = "normal",
    channel: Annotated[str, Form(max_length=32)] = "phone",
    reporter_phone: Annotated[str, Form(max_length=32)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(RECORD_REQUEST)
    assert page.session is not None
    form = {
        "site": site,
        "kind": kind,
        "category": category,
        "description": description,
        "reporter_name": reporter_name,
        "unit_code": unit_code.strip(),
        "priority": priority,
        "channel": channel,
        "reporter_phone": reporter_phone.strip(),
    }
    reporter: dict[str, str] = {"name": reporter_name.strip()}
    if form["reporter_phone"]:
        reporter["phone"] = form["reporter_phone"]
    body: dict[str, Any] = {
        "site": site,
        "kind": kind,
        "channel": channel,
        "category": category,
        "priority": priority,
        "description": description.strip(),
        "reporter": reporter,
    }
    if form["unit_code"]:
        # A unit's id at intake is the site's code and the unit's ("harbour" + "A-0101").
        body["unit_id"] = f"{site}-{form['unit_code']}"
        body["in_unit"] = True
    try:
        created = await services_of(page.request).post("intake", "/requests", page.session.service_token, body)
    except ServiceError as exc:
        input_name = FORM_FIELDS.get(exc.field or "")
        if exc.status and input_name:
            return await _new_request_form(page, form, {input_name: exc.detail}, status_code=exc.status)
        return await _new_request_form(page, form, {}, exc)
    return redirect(f"/front-desk/requests/{created['id']}")


@router.get("/requests/{request_id}")
async def request_page(page: SignedInPage, request_id: Annotated[str, Path(max_length=64)]) -> Response:
    page.require(SEE_REQUEST_LIST)
    assert page.session is not None
    try:
        found = await services_of(page.request).get("intake", f"/requests/{request_id}", page.session.service_token)
    except ServiceError as exc:
        return page.render("request.html", status_code=exc.status or 502, item=None, error=exc)
    return page.render("request.html", item=found, error=None, time_limit=time_limit)
