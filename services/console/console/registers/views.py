"""The front desk's registers (前台登记): release passes (放行条) with the unit's payment status and the owner's
authorisation, visitors, keys held for owners, parcels and document pickups. Intake's API with the person's own
token; intake decides (the site's arrears rule, each register's state machine) and a refusal is shown in its
words next to the input it names."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Path, Query, UploadFile
from fastapi.responses import Response

from console.permissions import KEEP_REGISTERS
from console.registers.rules import (
    AUTHORISATION_METHODS,
    COLLECTORS,
    DOCUMENT_KINDS,
    PARCEL_KINDS,
    ROW_ACTIONS,
    VISITOR_KINDS,
    authorisation_body,
    command_body,
    input_for,
    issue_body,
    own_site,
    release_pass_body,
    text,
    visitor_body,
    without_empty,
)
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, fetch_list, redirect, services_of

router = APIRouter(prefix="/registers")

Number = Annotated[str, Path(max_length=32)]
EntryId = Annotated[str, Path(max_length=64)]
Site = Annotated[str, Query(max_length=64)]
MAX_INPUT = 2000
# Each register's list: its intake listing's filter (parcels: those still waiting; visitors: expected or inside).
LISTINGS: dict[str, dict[str, str]] = {
    "release-passes": {},
    "visitors": {"on_site": "true"},
    "keys": {},
    "parcels": {"status": "received"},
    "documents": {},
}
# The pass's page when intake refused to show it: the layout's tabs still need a register.
PASS_PAGE = {"register": "release-passes", "site": "", "done": "", "errors": {}, "form": {}}
CHOICES = {
    "methods": AUTHORISATION_METHODS,
    "collectors": COLLECTORS,
    "visitor_kinds": VISITOR_KINDS,
    "document_kinds": DOCUMENT_KINDS,
    "parcel_kinds": PARCEL_KINDS,
}


def site_of(page: Page, site: str) -> str:
    assert page.account is not None
    return own_site(list(page.account.sites), site)


def refusal(exc: ServiceError, prefix: str = "") -> tuple[dict[str, str], ServiceError | None]:
    """A refusal next to the input it names (``prefix`` tells a row's form), else above the page."""
    target = input_for(exc.field) if exc.status else None
    if target:
        return {prefix + target: exc.detail}, None
    return {}, exc


async def form_of(page: Page) -> dict[str, str]:
    """A row form's text inputs (each cut to a sane length; intake checks them)."""
    return {name: value[:MAX_INPUT] for name, value in (await page.request.form()).items() if isinstance(value, str)}


async def _list_page(
    page: Page,
    register: str,
    site: str,
    *,
    errors: dict[str, str] | None = None,
    error: ServiceError | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
    held: bool = False,
) -> Response:
    site = site_of(page, site)
    # held: the keys out now, and with whom
    listing = await fetch_list(
        page, "intake", f"/{register}", site=site, limit="200", held="true" if held else "", **LISTINGS[register]
    )
    error = error or listing.error
    done = page.request.query_params.get("done", "")
    return page.render(
        f"registers/{register.replace('-', '_')}.html",
        status_code=(error.status or 502) if error and status_code == 200 else status_code,
        register=register,
        site=site,
        items=listing.items,
        total=listing.total,
        error=error,
        errors=errors or {},
        form=form or {},
        done=done,
        held=held,
        **CHOICES,
    )


@router.get("")
async def registers_home(page: SignedInPage) -> Response:
    page.require(KEEP_REGISTERS)
    return redirect("/registers/release-passes")


@router.get("/{register}")
async def register_list(
    page: SignedInPage,
    register: Annotated[str, Path(max_length=32)],
    site: Site = "",
    held: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    page.require(KEEP_REGISTERS)
    if register not in LISTINGS:
        raise HTTPException(status_code=404, detail="Not Found")
    return await _list_page(page, register, site, held=register == "keys" and held == "yes")


@router.post("/release-passes")
async def new_release_pass(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)] = "",
    unit_id: Annotated[str, Form(max_length=64)] = "",
    items: Annotated[str, Form(max_length=8000)] = "",
    carrier: Annotated[str, Form(max_length=200)] = "",
    vehicle_plate: Annotated[str, Form(max_length=32)] = "",
    valid_until: Annotated[str, Form(max_length=16)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(KEEP_REGISTERS)
    body = release_pass_body(unit_id, items, carrier, vehicle_plate, valid_until)
    try:
        made = await services_of(page.request).post("intake", "/release-passes", page.token, body)
    except ServiceError as exc:
        errors, error = refusal(exc)
        form = {"unit_id": unit_id, "items": items, "carrier": carrier, "vehicle_plate": vehicle_plate}
        form["valid_until"] = valid_until
        return await _list_page(
            page, "release-passes", site, errors=errors, error=error, form=form, status_code=exc.status or 502
        )
    return redirect(f"/registers/release-passes/{made['number']}")


async def _release_pass_page(
    page: Page,
    number: str,
    *,
    errors: dict[str, str] | None = None,
    error: ServiceError | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The pass, the unit's payment status (why issuing is refused or needs a supervisor), its forms and timeline."""
    services = services_of(page.request)
    try:
        release = await services.get("intake", f"/release-passes/{number}", page.token)
        timeline = await services.get("intake", f"/release-passes/{number}/timeline", page.token)
    except ServiceError as exc:
        return page.render(
            "registers/release_pass.html", status_code=exc.status or 502, release=None, error=exc, **PASS_PAGE
        )
    return page.render(
        "registers/release_pass.html",
        status_code=status_code,
        site=release["site"],
        release=release,
        timeline=timeline,
        error=error,
        errors=errors or {},
        form=form or {},
        done=page.request.query_params.get("done", ""),
        methods=AUTHORISATION_METHODS,
        register="release-passes",
    )


@router.get("/release-passes/{number}")
async def release_pass_page(page: SignedInPage, number: Number) -> Response:
    page.require(KEEP_REGISTERS)
    return await _release_pass_page(page, number)


@router.post("/release-passes/{number}/authorise")
async def authorise_release_pass(
    page: SignedInPage,
    number: Number,
    method: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=MAX_INPUT)] = "",
    document: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """How the desk verified the owner's authorisation; a written one is uploaded to intake first."""
    check_csrf(page, csrf_token)
    page.require(KEEP_REGISTERS)
    services = services_of(page.request)
    form = {"method": method, "note": note}
    try:
        document_key: str | None = None
        if document is not None and document.filename:
            release = await services.get("intake", f"/release-passes/{number}", page.token)
            content = await document.read()
            files = {"file": (document.filename, content, document.content_type or "application/octet-stream")}
            stored = await services.post_file(
                "intake", "/register-files", page.token, data={"site": release["site"]}, files=files
            )
            document_key = stored["key"]
        body = authorisation_body(method, note, document_key)
        await services.post("intake", f"/release-passes/{number}/authorise", page.token, body)
    except ServiceError as exc:
        errors, error = refusal(exc, "authorise-")
        if exc.status == 422 and not errors and method == "written":  # the written rule names no field
            errors, error = {"authorise-document": exc.detail}, None
        return await _release_pass_page(
            page, number, errors=errors, error=error, form=form, status_code=exc.status or 502
        )
    return redirect(f"/registers/release-passes/{number}?done=authorise")


@router.post("/release-passes/{number}/{action}")
async def release_pass_command(
    page: SignedInPage,
    number: Number,
    action: Annotated[str, Path(max_length=16)],
    arrears_override: Annotated[str, Form(max_length=MAX_INPUT)] = "",
    reason: Annotated[str, Form(max_length=MAX_INPUT)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Issue (a supervisor's reason when the unit is in arrears) or revoke (with a reason)."""
    check_csrf(page, csrf_token)
    page.require(KEEP_REGISTERS)
    if action not in ("issue", "revoke"):
        raise HTTPException(status_code=404, detail="Not Found")
    body = issue_body(arrears_override) if action == "issue" else without_empty({"reason": text(reason)})
    try:
        await services_of(page.request).post("intake", f"/release-passes/{number}/{action}", page.token, body)
    except ServiceError as exc:
        errors, error = refusal(exc, f"{action}-")
        form = {"arrears_override": arrears_override, "reason": reason}
        return await _release_pass_page(
            page, number, errors=errors, error=error, form=form, status_code=exc.status or 502
        )
    return redirect(f"/registers/release-passes/{number}?done={action}")


# What each register's new entry takes from its form (the release pass has its own route above).
NEW_ENTRY_INPUTS = {
    "visitors": ("unit_id", "kind", "name", "id_last4", "phone", "purpose", "vehicle_plate", "valid_to"),
    "keys": ("unit_id", "tag", "opens", "note"),
    "parcels": ("unit_id", "kind", "addressee", "carrier", "tracking_number", "shelf"),
    "documents": ("unit_id", "kind", "title", "notes"),
}


def new_entry_body(register: str, form: dict[str, str], zone: str) -> dict[str, Any]:
    if register == "visitors":
        return visitor_body(form, zone)
    body: dict[str, Any] = {name: text(form.get(name, "")) for name in NEW_ENTRY_INPUTS[register]}
    body["unit_id"] = form.get("unit_id", "").strip()
    return without_empty(body)


@router.post("/{register}")
async def new_entry(page: SignedInPage, register: Annotated[str, Path(max_length=32)]) -> Response:
    """A visitor registered, a key taken into the cabinet, a parcel received, a document pickup opened."""
    form = await form_of(page)
    check_csrf(page, form.get("csrf_token"))
    page.require(KEEP_REGISTERS)
    if register not in NEW_ENTRY_INPUTS:
        raise HTTPException(status_code=404, detail="Not Found")
    zone = page.request.app.state.console.display_timezone
    try:
        await services_of(page.request).post("intake", f"/{register}", page.token, new_entry_body(register, form, zone))
    except ServiceError as exc:
        errors, error = refusal(exc)
        return await _list_page(
            page, register, form.get("site", ""), errors=errors, error=error, form=form, status_code=exc.status or 502
        )
    return redirect(f"/registers/{register}?site={form.get('site', '')}&done=new")


@router.post("/{register}/{entry_id}/{action}")
async def row_command(
    page: SignedInPage,
    register: Annotated[str, Path(max_length=32)],
    entry_id: EntryId,
    action: Annotated[str, Path(max_length=16)],
) -> Response:
    """A row's command: cancel a visitor, issue or take back a key, hand over a parcel, move a document on."""
    form = await form_of(page)
    check_csrf(page, form.get("csrf_token"))
    page.require(KEEP_REGISTERS)
    if action not in ROW_ACTIONS.get(register, ()):
        raise HTTPException(status_code=404, detail="Not Found")
    body = command_body(register, action, form)
    try:
        await services_of(page.request).post("intake", f"/{register}/{entry_id}/{action}", page.token, body)
    except ServiceError as exc:
        errors, error = refusal(exc, f"{entry_id}-{action}-")
        return await _list_page(
            page, register, form.get("site", ""), errors=errors, error=error, form=form, status_code=exc.status or 502
        )
    return redirect(f"/registers/{register}?site={form.get('site', '')}&done={action}")
