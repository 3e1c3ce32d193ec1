"""The front desk's request list, new request form and request page: intake's API with the person's own token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response

from console.frontdesk import call, duty, incidents, rules
from console.frontdesk.rules import time_limit
from console.permissions import HANDLE_REQUEST, RECORD_REQUEST, SEE_REQUEST_LIST
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, fetch_list, redirect, services_of

router = APIRouter(prefix="/front-desk")
# The call screen, the duty log and incidents: one router for the front desk, registered once in main.
router.include_router(call.router)
router.include_router(duty.router)
router.include_router(incidents.router)

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


@router.get("/requests")
async def request_list(
    page: SignedInPage,
    site: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    unit: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    page.require(SEE_REQUEST_LIST)
    assert page.account is not None and page.session is not None
    sites = [s for s in page.account.sites if s != "*"]
    unit = unit.strip()
    unit_id = ""
    if unit:
        # A unit's code within the chosen (or the person's only) site; else the unit's whole id as typed.
        unit_site = site or (sites[0] if len(sites) == 1 else "")
        unit_id = rules.unit_id_of(unit_site, unit) if unit_site else unit
    listing = await fetch_list(
        page, "intake", "/requests", page.session.service_token, limit="100", site=site, status=status, unit_id=unit_id
    )
    return page.render(
        page.fragment("requests.html", "requests_table.html"),
        items=listing.items,
        total=listing.total,
        error=listing.error,
        site=site,
        status=status,
        unit=unit,
        statuses=STATUSES,
        time_limit=time_limit,
        sites=sites,
        may_record=page.may(RECORD_REQUEST),
    )


async def _unit_check(page: Page, site: str, unit_code: str, category: str) -> dict[str, Any]:
    """What the form shows once the unit (and category) are known: the unit's known reporters (intake's lookup)
    and its open requests of the same category, a possible duplicate the agent sees before saving."""
    found: dict[str, Any] = {"parties": [], "duplicates": [], "check_error": None}
    if not site or not unit_code:
        return found
    services = services_of(page.request)
    unit_id = rules.unit_id_of(site, unit_code)
    try:
        lookup = await services.get("intake", "/lookup", page.token, {"unit_id": unit_id})
        found["parties"] = [p for match in lookup["matches"] for p in match["parties"] if p.get("active", True)]
        if category:
            same = await services.get(
                "intake", "/requests", page.token, {"unit_id": unit_id, "category": category, "limit": "20"}
            )
            found["duplicates"] = rules.open_requests(same["items"])
    except ServiceError as exc:
        found["check_error"] = exc
    return found


async def _new_request_form(
    page: Page, form: dict[str, str], errors: dict[str, str], error: ServiceError | None = None, status_code: int = 200
) -> Response:
    """The form, with the chosen site's categories from intake's taxonomy and any refusal by its input."""
    assert page.account is not None
    sites = [s for s in page.account.sites if s != "*"]
    site = form.get("site") or (sites[0] if sites else "")
    categories: list[dict[str, Any]] = []
    if site:
        try:
            found = await services_of(page.request).get("intake", f"/sites/{site}/categories", page.token)
            categories = [c for c in found if c.get("active")]
        except ServiceError as exc:
            error = error or exc
    category = form.get("category") or (categories[0]["code"] if categories else "")
    check = await _unit_check(page, site, form.get("unit_code", ""), category)
    return page.render(
        "request_new.html",
        status_code=(error.status or 502) if error else status_code,
        form={**form, "site": site, "category": category},
        errors=errors,
        error=error,
        sites=sites,
        kinds=KINDS,
        channels=CHANNELS,
        priorities=PRIORITIES,
        categories=categories,
        time_limit=time_limit,
        **check,
    )


@router.get("/requests/new")
async def new_request(
    page: SignedInPage,
    site: Annotated[str, Query(max_length=64)] = "",
    kind: Annotated[str, Query(max_length=32)] = "",
    category: Annotated[str, Query(max_length=64)] = "",
    unit_code: Annotated[str, Query(max_length=64)] = "",
    party_id: Annotated[str, Query(max_length=64)] = "",
    reporter_name: Annotated[str, Query(max_length=120)] = "",
    reporter_phone: Annotated[str, Query(max_length=32)] = "",
    channel: Annotated[str, Query(max_length=32)] = "phone",
) -> Response:
    """The form, prefilled from the address (the call screen links here with the caller's unit and party)."""
    page.require(RECORD_REQUEST)
    form = {
        "site": site,
        "kind": kind,
        "category": category,
        "unit_code": unit_code.strip(),
        "party_id": party_id,
        "reporter_name": reporter_name,
        "reporter_phone": reporter_phone,
        "priority": "normal",
        "channel": channel,
    }
    return await _new_request_form(page, form, {})


@router.get("/requests/new/unit-check")
async def unit_check(
    page: SignedInPage,
    site: Annotated[str, Query(max_length=64)] = "",
    unit_code: Annotated[str, Query(max_length=64)] = "",
    category: Annotated[str, Query(max_length=64)] = "",
    party_id: Annotated[str, Query(max_length=64)] = "",
    duplicate_of: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The form's unit panel alone (htmx, when the unit or the category changes), keeping what was chosen."""
    page.require(RECORD_REQUEST)
    check = await _unit_check(page, site, unit_code.strip(), category)
    form = {
        "site": site,
        "unit_code": unit_code.strip(),
        "category": category,
        "party_id": party_id,
        "duplicate_of": duplicate_of,
    }
    return page.render("frontdesk/unit_check.html", form=form, time_limit=time_limit, **check)


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
    party_id: Annotated[str, Form(max_length=64)] = "",
    duplicate_of: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(RECORD_REQUEST)
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
        "party_id": party_id,
        "duplicate_of": duplicate_of,
    }
    reporter: dict[str, str] = {"name": reporter_name.strip()}
    if form["reporter_phone"]:
        reporter["phone"] = form["reporter_phone"]
    if party_id:
        reporter["party_id"] = party_id  # a known party: intake ties the request (and its replies) to them
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
        body["unit_id"] = rules.unit_id_of(site, form["unit_code"])
        body["in_unit"] = True
    services = services_of(page.request)
    try:
        created = await services.post("intake", "/requests", page.token, body)
    except ServiceError as exc:
        input_name = FORM_FIELDS.get(exc.field or "")
        if exc.status and input_name:
            return await _new_request_form(page, form, {input_name: exc.detail}, status_code=exc.status)
        return await _new_request_form(page, form, {}, exc)
    if duplicate_of:
        # The agent recognised the call as a repeat: intake links it to the original and cancels it.
        try:
            await services.post(
                "intake", f"/requests/{created['id']}/duplicate-of", page.token, {"duplicate_of": duplicate_of}
            )
        except ServiceError as exc:
            return await _request_page(page, created["id"], {"duplicate": exc})
    return redirect(f"/front-desk/requests/{created['id']}")


async def _request_page(page: Page, request_id: str, errors: dict[str, ServiceError] | None = None) -> Response:
    """The request with its timeline and the actions intake offers; a refused action's words by its form."""
    errors = errors or {}
    try:
        found = await services_of(page.request).get("intake", f"/requests/{request_id}", page.token)
    except ServiceError as exc:
        return page.render("request.html", status_code=exc.status or 502, item=None, error=exc)
    refused = next(iter(errors.values()), None)
    return page.render(
        "request.html",
        status_code=(refused.status or 502) if refused else 200,
        item=found,
        error=None,
        errors=errors,
        time_limit=time_limit,
        may_handle=page.may(HANDLE_REQUEST),
        status_actions=rules.STATUS_ACTIONS,
        needs_reason=rules.NEEDS_REASON,
        complaint_classes=rules.COMPLAINT_CLASSES,
        departments=rules.DEPARTMENTS,
        channels=CHANNELS,
    )


@router.get("/requests/{request_id}")
async def request_page(page: SignedInPage, request_id: Annotated[str, Path(max_length=64)]) -> Response:
    page.require(SEE_REQUEST_LIST)
    return await _request_page(page, request_id)


@router.post("/requests/{request_id}/status")
async def change_status(
    page: SignedInPage,
    request_id: Annotated[str, Path(max_length=64)],
    status: Annotated[str, Form(max_length=32)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    return await _act(page, request_id, csrf_token, "status", "/status", rules.status_command(status, reason))


@router.post("/requests/{request_id}/classification")
async def classify(
    page: SignedInPage,
    request_id: Annotated[str, Path(max_length=64)],
    complaint_class: Annotated[str, Form(max_length=32)],
    department: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    command = rules.classification_command(complaint_class, department)
    return await _act(page, request_id, csrf_token, "classification", "/classification", command)


@router.post("/requests/{request_id}/replies")
async def reply(
    page: SignedInPage,
    request_id: Annotated[str, Path(max_length=64)],
    message: Annotated[str, Form(max_length=2000)],
    channel: Annotated[str, Form(max_length=32)] = "phone",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    return await _act(
        page, request_id, csrf_token, "reply", "/replies", {"message": message.strip(), "channel": channel}
    )


@router.post("/requests/{request_id}/duplicate-of")
async def mark_duplicate(
    page: SignedInPage,
    request_id: Annotated[str, Path(max_length=64)],
    duplicate_of: Annotated[str, Form(max_length=64)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    return await _act(page, request_id, csrf_token, "duplicate", "/duplicate-of", {"duplicate_of": duplicate_of})


async def _act(
    page: Page, request_id: str, csrf_token: str, action: str, path: str, command: dict[str, Any]
) -> Response:
    """One of the request page's forms: intake's command as the person; its refusal shown by that form."""
    check_csrf(page, csrf_token)
    page.require(HANDLE_REQUEST)
    try:
        await services_of(page.request).post("intake", f"/requests/{request_id}{path}", page.token, command)
    except ServiceError as exc:
        return await _request_page(page, request_id, {action: exc})
    return redirect(f"/front-desk/requests/{request_id}")
