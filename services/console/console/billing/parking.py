"""Temporary parking at the gate (临时停车): security (or a clerk or manager at the gate) records a car coming in by
its plate, sees the cars inside with what each would pay leaving now, and lets one out: billing computes the fee by
the site's tariff and issues the receipt (income, not a unit's charge). The fee shown travels with the exit as
``expected_cents``, so an hour that started since is refused in billing's words with the new fee beside the car.
The site's tariff is shown to everyone here and set by a manager. Billing's API with the person's own token; billing
decides every rule."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path
from fastapi.responses import Response

from console.billing.rules import parse_amount
from console.billing.views import SiteQuery, chosen, refusal, render, site_choices
from console.permissions import RUN_PARKING_GATE, SEE_PARKING, SET_PARKING_TARIFF
from console.services import ServiceError
from console.web import Listing, Page, SignedInPage, check_csrf, fetch_list, redirect, services_of

router = APIRouter(prefix="/billing")

IdPath = Annotated[str, Path(max_length=64)]
GATE_METHODS = ("cash", "card", "online")  # billing's income methods
TARIFF_INPUTS = ("free_minutes", "hourly", "daily_cap", "owned_monthly_fee")
SPACE_KINDS = ("owned", "leased", "rented")
SPACE_INPUTS = ("code", "zone", "kind", "unit_id", "monthly_fee", "starts_on", "ends_on", "note")
# What a change of a space sets (all but its code, which names it).
SPACE_FIELDS = ("zone", "kind", "unit_id", "monthly_fee_cents", "starts_on", "ends_on", "note")


def space_body(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The new-space form (the fee in yuan) as billing's body, or the message key of each input it cannot read."""
    body: dict[str, Any] = {"code": form.get("code", ""), "zone": form.get("zone", ""), "kind": form.get("kind", "")}
    for name in ("unit_id", "starts_on", "ends_on", "note"):
        if form.get(name):
            body[name] = form[name]
    if form.get("monthly_fee"):
        cents = parse_amount(form["monthly_fee"])
        if cents is None:
            return body, {"monthly_fee": "parking.error.amount"}
        body["monthly_fee_cents"] = cents
    return body, {}


def space_change(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """A space's edit form as billing's PATCH: every input sent, an empty optional one clearing it (a space given up
    has no holder; a holding with no end runs on)."""
    body, invalid = space_body({**form, "code": ""})
    return {name: body.get(name) for name in SPACE_FIELDS}, invalid


def space_input(field: str | None) -> str:
    """The space form's input a billing refusal names."""
    name = (field or "").split(".")[-1].removesuffix("_cents")
    return name if name in SPACE_INPUTS else "code"


def tariff_body(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The tariff form (minutes, yuan) as billing's body, or the message key of each input it cannot read."""
    body: dict[str, Any] = {}
    errors: dict[str, str] = {}
    minutes = form.get("free_minutes", "").strip()
    if minutes.isdigit():
        body["free_minutes"] = int(minutes)
    else:
        errors["free_minutes"] = "parking.error.minutes"
    for name, field, optional in (
        ("hourly", "hourly_cents", False),
        ("daily_cap", "daily_cap_cents", False),
        ("owned_monthly_fee", "owned_monthly_fee_cents", True),
    ):
        text = form.get(name, "").strip()
        if optional and not text:
            body[field] = None
            continue
        cents = parse_amount(text)
        if cents is None:
            errors[name] = "parking.error.amount"
        else:
            body[field] = cents
    return body, errors


def tariff_input(field: str | None) -> str:
    """The tariff form's input a billing refusal names."""
    name = (field or "").split(".")[-1].removesuffix("_cents")
    return name if name in TARIFF_INPUTS else "free_minutes"


async def _gate(
    page: Page,
    site: str,
    *,
    plate: str = "",
    errors: dict[str, str] | None = None,
    tariff_form: dict[str, str] | None = None,
    space_form: dict[str, str] | None = None,
    edit_form: dict[str, str] | None = None,
    error: ServiceError | None = None,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    """The gate: the tariff, the entry form, the cars inside (each with its exit form), the latest exits and the
    register of spaces (each with its edit form). ``errors`` by input name, by the session id of a refused exit or
    by ``edit-`` and the id of a space whose change was refused (``edit_form`` holds what was sent)."""
    sites = await site_choices(page)
    site = chosen(site, sites)
    tariff: dict[str, Any] | None = None
    inside = Listing([], 0)
    left = Listing([], 0)
    spaces = Listing([], 0)
    if site:
        spaces = await fetch_list(page, "billing", f"/sites/{quote(site)}/parking-spaces", limit="200")
        try:
            tariff = await services_of(page.request).get("billing", f"/sites/{quote(site)}/parking-tariff", page.token)
        except ServiceError as exc:
            if exc.status != 404:  # 404: no tariff yet, which the page says
                error = error or exc
        inside = await fetch_list(page, "billing", f"/sites/{quote(site)}/parking-sessions", inside="true", limit="200")
        left = await fetch_list(page, "billing", f"/sites/{quote(site)}/parking-sessions", inside="false", limit="20")
        error = error or inside.error or left.error or spaces.error
    if tariff_form is None:
        tariff_form = {
            "free_minutes": str(tariff["free_minutes"]) if tariff else "15",
            "hourly": _yuan(tariff["hourly_cents"]) if tariff else "",
            "daily_cap": _yuan(tariff["daily_cap_cents"]) if tariff else "",
            "owned_monthly_fee": _yuan(tariff["owned_monthly_fee_cents"]) if tariff else "",
        }
    response = render(
        page,
        "billing/parking.html",
        error,
        site=site,
        sites=sites,
        tariff=tariff,
        tariff_form=tariff_form,
        inside=inside.items,
        left=left.items,
        plate=plate,
        spaces=spaces.items,
        spaces_total=spaces.total,
        space_form=space_form or {"kind": "leased"},
        space_open=bool(set(errors or {}) & {f"space-{name}" for name in SPACE_INPUTS}),
        edit_form=edit_form or {},
        yuan=_yuan,
        space_kinds=SPACE_KINDS,
        errors=errors or {},
        notice=notice,
        methods=GATE_METHODS,
        may_run_gate=page.may(RUN_PARKING_GATE),
        may_set_tariff=page.may(SET_PARKING_TARIFF),
    )
    if error is None:
        response.status_code = status_code
    return response


def _yuan(cents: int | None) -> str:
    return "" if cents is None else f"{cents // 100}.{cents % 100:02d}"


@router.get("/parking")
async def gate(page: SignedInPage, site: SiteQuery = "", notice: SiteQuery = "") -> Response:
    page.require(SEE_PARKING)
    return await _gate(page, site, notice=notice)


@router.post("/parking/entries")
async def enter(page: SignedInPage) -> Response:
    """A car comes in (billing refuses a plate that is inside already, by the plate)."""
    form = await page.request.form()
    check_csrf(page, str(form.get("csrf_token") or ""))
    page.require(RUN_PARKING_GATE)
    site, plate = str(form.get("site") or "")[:64], str(form.get("plate") or "").strip()[:32]
    try:
        await services_of(page.request).post(
            "billing", f"/sites/{quote(site)}/parking-sessions", page.token, {"plate": plate}
        )
    except ServiceError as exc:
        return await refusal(partial(_gate, page, site), "plate", exc, plate=plate)
    return redirect(f"/billing/parking?{urlencode({'site': site, 'notice': 'entered'})}")


@router.post("/parking/sessions/{session_id}/exit")
async def let_out(page: SignedInPage, session_id: IdPath) -> Response:
    """The car leaves paying the fee shown (a free stay pays nothing); a changed fee is refused by the car."""
    form = await page.request.form()
    check_csrf(page, str(form.get("csrf_token") or ""))
    page.require(RUN_PARKING_GATE)
    site = str(form.get("site") or "")[:64]
    body: dict[str, Any] = {}
    expected = str(form.get("expected_cents") or "")
    if expected.isdigit():
        body["expected_cents"] = int(expected)
        if int(expected) > 0:
            body["method"] = str(form.get("method") or "")[:16]
    try:
        parked = await services_of(page.request).post(
            "billing", f"/parking-sessions/{quote(session_id)}/exit", page.token, body
        )
    except ServiceError as exc:
        return await refusal(partial(_gate, page, site), session_id, exc)
    receipt = (parked.get("receipt") or {}).get("receipt_no") or "free"
    return redirect(f"/billing/parking?{urlencode({'site': site, 'notice': receipt})}")


@router.post("/parking/tariff")
async def set_tariff(page: SignedInPage) -> Response:
    form_data = await page.request.form()
    check_csrf(page, str(form_data.get("csrf_token") or ""))
    page.require(SET_PARKING_TARIFF)
    site = str(form_data.get("site") or "")[:64]
    form = {name: str(form_data.get(name) or "").strip()[:32] for name in TARIFF_INPUTS}
    body, invalid = tariff_body(form)
    if invalid:
        errors = {name: page.t(key) for name, key in invalid.items()}
        return await _gate(page, site, errors=errors, tariff_form=form, status_code=422)
    try:
        await services_of(page.request).put("billing", f"/sites/{quote(site)}/parking-tariff", page.token, body)
    except ServiceError as exc:
        return await refusal(partial(_gate, page, site), tariff_input(exc.field), exc, tariff_form=form)
    return redirect(f"/billing/parking?{urlencode({'site': site, 'notice': 'tariff'})}")


@router.post("/parking/spaces")
async def add_space(page: SignedInPage) -> Response:
    """A space of the register (a manager): billed to its holder unit by every run it is held in."""
    form_data = await page.request.form()
    check_csrf(page, str(form_data.get("csrf_token") or ""))
    page.require(SET_PARKING_TARIFF)
    site = str(form_data.get("site") or "")[:64]
    form = {name: str(form_data.get(name) or "").strip()[:200] for name in SPACE_INPUTS}
    body, invalid = space_body(form)
    if invalid:
        errors = {f"space-{name}": page.t(key) for name, key in invalid.items()}
        return await _gate(page, site, errors=errors, space_form=form, status_code=422)
    try:
        await services_of(page.request).post("billing", f"/sites/{quote(site)}/parking-spaces", page.token, body)
    except ServiceError as exc:
        return await refusal(partial(_gate, page, site), f"space-{space_input(exc.field)}", exc, space_form=form)
    return redirect(f"/billing/parking?{urlencode({'site': site, 'notice': 'space'})}")


@router.post("/parking/spaces/{space_id}")
async def change_space(page: SignedInPage, space_id: IdPath) -> Response:
    """A manager changes a space of the register (its holder, fee, kind or dates; an empty input clears it): billing
    applies it from the next run on, a period billed stays as billed."""
    form_data = await page.request.form()
    check_csrf(page, str(form_data.get("csrf_token") or ""))
    page.require(SET_PARKING_TARIFF)
    site = str(form_data.get("site") or "")[:64]
    form = {name: str(form_data.get(name) or "").strip()[:200] for name in SPACE_INPUTS if name != "code"}
    sent = {"id": space_id, **form}
    body, invalid = space_change(form)
    if invalid:
        errors = {f"edit-{space_id}": page.t(key) for key in invalid.values()}
        return await _gate(page, site, errors=errors, edit_form=sent, status_code=422)
    try:
        await services_of(page.request).patch("billing", f"/parking-spaces/{quote(space_id)}", page.token, body)
    except ServiceError as exc:
        return await refusal(partial(_gate, page, site), f"edit-{space_id}", exc, edit_form=sent)
    return redirect(f"/billing/parking?{urlencode({'site': site, 'notice': 'space_changed'})}")
