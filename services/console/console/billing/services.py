"""Paid special services (有偿服务): the site's price list, which a manager keeps (a service added with its code, name,
price and unit of work; one taken off the list or put back), and the desk's charge of a listed service to a unit at
the list price times the quantity, on its account at once and on its next bill. The charge form carries a slip
reference made once, so the same form sent again is the same charge (billing answers with the charge made then).
Billing's API with the person's own token; billing decides every rule and its refusal shows by the input."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from console.billing.rules import parse_amount
from console.billing.views import SiteQuery, chosen, refusal, render, site_choices
from console.permissions import CHARGE_SERVICES, SEE_SERVICE_PRICES, SET_SERVICE_PRICES
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter(prefix="/billing")

CodePath = Annotated[str, Path(max_length=32)]
AmountQuery = Annotated[str, Query(pattern=r"^\d{0,12}$")]
ITEM_INPUTS = ("code", "name", "price", "unit")
CHARGE_INPUTS = ("unit_id", "code", "quantity", "note", "reference")


def item_body(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The new-service form (price in yuan) as billing's body, or the message key of each input it cannot read."""
    body: dict[str, Any] = {
        "code": form.get("code", ""),
        "name": form.get("name", ""),
        "unit": form.get("unit") or "次",
    }
    cents = parse_amount(form.get("price", ""))
    if cents is None:
        return body, {"price": "services.error.price"}
    body["price_cents"] = cents
    return body, {}


def charge_body(site: str, form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The charge form as billing's body, or the message key of each input it cannot read."""
    body: dict[str, Any] = {"site": site, "unit_id": form.get("unit_id", ""), "code": form.get("code", "")}
    for name in ("note", "reference"):
        if form.get(name):
            body[name] = form[name]
    quantity = form.get("quantity", "") or "1"
    if not quantity.isdigit():
        return body, {"quantity": "services.error.quantity"}
    body["quantity"] = int(quantity)
    return body, {}


def input_named(field: str | None, inputs: tuple[str, ...], default: str) -> str:
    """The form's input a billing refusal names (its field's last part; a price by its yuan input)."""
    name = (field or "").split(".")[-1].removesuffix("_cents")
    return name if name in inputs else default


async def _services(
    page: Page,
    site: str,
    *,
    errors: dict[str, str] | None = None,
    item_form: dict[str, str] | None = None,
    charge_form: dict[str, str] | None = None,
    notice: str = "",
    charged: tuple[str, int] | None = None,
    error: ServiceError | None = None,
    status_code: int = 200,
) -> Response:
    sites = await site_choices(page)
    site = chosen(site, sites)
    items: list[dict[str, Any]] = []
    if site:
        try:
            items = await services_of(page.request).get("billing", f"/sites/{quote(site)}/service-items", page.token)
        except ServiceError as exc:
            error = error or exc
    errors = errors or {}
    response = render(
        page,
        "billing/services.html",
        error,
        site=site,
        sites=sites,
        items=items,
        errors=errors,
        item_form=item_form or {"unit": "次"},
        item_open=bool(set(errors) & {f"item-{name}" for name in ITEM_INPUTS}),
        # A slip reference made once per form: the same form sent again is the same charge.
        charge_form=charge_form or {"quantity": "1", "reference": uuid.uuid4().hex[:24]},
        notice=notice,
        charged=charged,
        may_set=page.may(SET_SERVICE_PRICES),
        may_charge=page.may(CHARGE_SERVICES),
    )
    if error is None:
        response.status_code = status_code
    return response


@router.get("/services")
async def price_list(
    page: SignedInPage, site: SiteQuery = "", notice: SiteQuery = "", unit: SiteQuery = "", amount: AmountQuery = ""
) -> Response:
    """The price list; after a charge, which unit was charged how much (``unit``, ``amount`` in fen)."""
    page.require(SEE_SERVICE_PRICES)
    return await _services(page, site, notice=notice, charged=(unit, int(amount)) if unit and amount else None)


async def _form(page: Page, names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    form_data = await page.request.form()
    check_csrf(page, str(form_data.get("csrf_token") or ""))
    return str(form_data.get("site") or "")[:64], {n: str(form_data.get(n) or "").strip()[:80] for n in names}


@router.post("/services/items")
async def add_item(page: SignedInPage) -> Response:
    page.require(SET_SERVICE_PRICES)
    site, form = await _form(page, ITEM_INPUTS)
    body, invalid = item_body(form)
    if invalid:
        errors = {f"item-{name}": page.t(key) for name, key in invalid.items()}
        return await _services(page, site, errors=errors, item_form=form, status_code=422)
    try:
        await services_of(page.request).post("billing", f"/sites/{quote(site)}/service-items", page.token, body)
    except ServiceError as exc:
        return await refusal(
            partial(_services, page, site), f"item-{input_named(exc.field, ITEM_INPUTS, 'code')}", exc, item_form=form
        )
    return redirect(f"/billing/services?{urlencode({'site': site, 'notice': 'added'})}")


@router.post("/services/items/{code}/active")
async def toggle_item(page: SignedInPage, code: CodePath) -> Response:
    """Take a service off the list or put it back."""
    page.require(SET_SERVICE_PRICES)
    site, form = await _form(page, ("active",))
    body = {"active": form["active"] == "true"}
    path = f"/sites/{quote(site)}/service-items/{quote(code)}"
    try:
        await services_of(page.request).patch("billing", path, page.token, body)
    except ServiceError as exc:
        return await refusal(partial(_services, page, site), f"toggle-{code}", exc)
    return redirect(f"/billing/services?{urlencode({'site': site, 'notice': 'saved'})}")


@router.post("/services/charges")
async def charge(page: SignedInPage) -> Response:
    page.require(CHARGE_SERVICES)
    site, form = await _form(page, CHARGE_INPUTS)
    body, invalid = charge_body(site, form)
    if invalid:
        errors = {f"charge-{name}": page.t(key) for name, key in invalid.items()}
        return await _services(page, site, errors=errors, charge_form=form, status_code=422)
    try:
        charged = await services_of(page.request).post("billing", "/service-charges", page.token, body)
    except ServiceError as exc:
        key = f"charge-{input_named(exc.field, CHARGE_INPUTS, 'unit_id')}"
        return await refusal(partial(_services, page, site), key, exc, charge_form=form)
    done = {"site": site, "notice": "charged", "unit": charged["unit_id"], "amount": str(charged["amount_cents"])}
    return redirect(f"/billing/services?{urlencode(done)}")
