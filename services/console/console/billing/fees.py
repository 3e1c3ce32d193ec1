"""A site's fee items (收费项目): each with its formula, cycle and rate versions, in force or scheduled. A manager (or
head office) adds an item, a new rate version from a period, and stops or restarts an item; a clerk reads. Billing's
API with the person's own token: billing decides every rule (a period already issued keeps its rates) and its
refusal shows next to the input it names."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Path
from fastapi.responses import Response

from console.billing.rules import UNIT_USES, fee_item_input, period_of, rate_states, rates_body
from console.billing.views import SiteQuery, chosen, render, site_choices
from console.permissions import SEE_BILLING, SET_FEE_ITEMS
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter(prefix="/billing")

FORMULAS = ("area", "per_unit", "per_household")
CYCLES = ("1", "3", "12")
CodePath = Annotated[str, Path(max_length=32)]
# The inputs of the new-item and new-rate forms (a rate per unit use has one each); longer text is cut here and
# billing words what it refuses.
ITEM_INPUTS = ("site", "code", "name", "formula", "cycle_months", "effective_from")
RATE_INPUTS = ("rate", "vacant_rate", *(f"by_use_{use}" for use in UNIT_USES))
INPUT_LENGTH = 80


def _period_now(page: Page) -> str:
    """This month in the console's display time zone: the period whose rates are "in force" on the page."""
    zone = ZoneInfo(page.request.app.state.console.display_timezone)
    return period_of(datetime.now(zone).date())


def _items_path(site: str) -> str:
    return f"/sites/{quote(site, safe='')}/fee-items"


async def _typed(page: Page, names: tuple[str, ...]) -> dict[str, str]:
    """The posted form's values by name, after its CSRF token is checked."""
    form = await page.request.form()
    check_csrf(page, str(form.get("csrf_token") or ""))
    return {name: str(form.get(name) or "").strip()[:INPUT_LENGTH] for name in names}


def _field_errors(exc: ServiceError) -> dict[str, str] | None:
    """Billing's refusal by the input it names; None when it names none (the page shows it on top)."""
    name = fee_item_input(exc.field)
    return {name: exc.detail} if exc.status and exc.status < 500 and name else None


# --- the list ----------------------------------------------------------------------------------------------


@router.get("/fee-items")
async def fee_item_list(page: SignedInPage, site: SiteQuery = "") -> Response:
    page.require(SEE_BILLING)
    sites = await site_choices(page)
    site = chosen(site, sites)
    items: list[dict[str, Any]] = []
    error: ServiceError | None = None
    if site:
        try:
            items = await services_of(page.request).get("billing", _items_path(site), page.token)
        except ServiceError as exc:
            error = exc
    return render(
        page,
        page.fragment("billing/fee_items.html", "billing/fee_items_table.html"),
        error,
        items=items,
        site=site,
        sites=sites,
        period=_period_now(page),
        rate_states=rate_states,
        may_edit=page.may(SET_FEE_ITEMS),
    )


# --- a new item --------------------------------------------------------------------------------------------


def _new_item_form(
    page: Page,
    sites: list[str],
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    error: ServiceError | None = None,
    status_code: int = 200,
) -> Response:
    response = render(
        page,
        "billing/fee_item_new.html",
        error,
        form=form,
        errors=errors or {},
        sites=sites,
        formulas=FORMULAS,
        cycles=CYCLES,
        uses=UNIT_USES,
    )
    if error is None:
        response.status_code = status_code
    return response


@router.get("/fee-items/new")
async def new_fee_item(page: SignedInPage, site: SiteQuery = "") -> Response:
    page.require(SET_FEE_ITEMS)
    sites = await site_choices(page)
    return _new_item_form(page, sites, {"site": chosen(site, sites), "formula": "area", "cycle_months": "1"})


@router.post("/fee-items/new")
async def add_fee_item(page: SignedInPage) -> Response:
    form = await _typed(page, ITEM_INPUTS + RATE_INPUTS)
    page.require(SET_FEE_ITEMS)
    sites = await site_choices(page)
    body: dict[str, Any] = {
        "code": form["code"],
        "name": form["name"],
        "formula": form["formula"],
        # A cycle that is not one of the choices goes as typed: billing's 422 then names it.
        "cycle_months": int(form["cycle_months"]) if form["cycle_months"] in CYCLES else form["cycle_months"],
        **rates_body(form),
    }
    if form["effective_from"]:
        body["effective_from"] = form["effective_from"]
    try:
        await services_of(page.request).post("billing", _items_path(form["site"]), page.token, body)
    except ServiceError as exc:
        errors = _field_errors(exc)
        if errors is None:
            return _new_item_form(page, sites, form, error=exc)
        return _new_item_form(page, sites, form, errors, status_code=exc.status or 502)
    return redirect(f"/billing/fee-items/{quote(form['code'])}?site={quote(form['site'])}")


# --- one item: its rate versions, a new one, stop and restart -----------------------------------------------


async def _fee_item_page(
    page: Page,
    site: str,
    code: str,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    refused: ServiceError | None = None,
) -> Response:
    try:
        items = await services_of(page.request).get("billing", _items_path(site), page.token)
    except ServiceError as exc:
        return render(page, "billing/fee_item.html", exc, item=None, site=site)
    item = next((found for found in items if found["code"] == code), None)
    if item is None:
        raise HTTPException(status_code=404, detail="Not Found")
    response = render(
        page,
        "billing/fee_item.html",
        refused,
        item=item,
        site=site,
        period=_period_now(page),
        states=rate_states(item["rates"], _period_now(page)),
        may_edit=page.may(SET_FEE_ITEMS),
        form=form or {},
        errors=errors or {},
        uses=UNIT_USES,
    )
    if refused is None:
        response.status_code = status_code
    return response


@router.get("/fee-items/{code}")
async def fee_item_page(page: SignedInPage, code: CodePath, site: SiteQuery = "") -> Response:
    page.require(SEE_BILLING)
    return await _fee_item_page(page, chosen(site, await site_choices(page)), code)


@router.post("/fee-items/{code}/rates")
async def add_rate_version(page: SignedInPage, code: CodePath) -> Response:
    form = await _typed(page, ("site", "effective_from", *RATE_INPUTS))
    page.require(SET_FEE_ITEMS)
    body = {"effective_from": form["effective_from"], **rates_body(form)}
    try:
        await services_of(page.request).post(
            "billing", f"{_items_path(form['site'])}/{quote(code, safe='')}/rates", page.token, body
        )
    except ServiceError as exc:
        # A period already issued (409 naming effective_from), a rate out of range (422): by the input.
        errors = _field_errors(exc)
        if errors is None:
            return await _fee_item_page(page, form["site"], code, form, refused=exc)
        return await _fee_item_page(page, form["site"], code, form, errors, exc.status or 502)
    return redirect(f"/billing/fee-items/{quote(code)}?site={quote(form['site'])}")


@router.post("/fee-items/{code}/active")
async def stop_or_restart(
    page: SignedInPage,
    code: CodePath,
    site: Annotated[str, Form(max_length=64)],
    active: Annotated[bool, Form()],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Stop billing an item from the next run on, or bill it again; its rate versions stay."""
    check_csrf(page, csrf_token)
    page.require(SET_FEE_ITEMS)
    try:
        await services_of(page.request).patch(
            "billing", f"{_items_path(site)}/{quote(code, safe='')}", page.token, {"active": active}
        )
    except ServiceError as exc:
        return await _fee_item_page(page, site, code, refused=exc)
    return redirect(f"/billing/fee-items/{quote(code)}?site={quote(site)}")
