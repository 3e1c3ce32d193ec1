"""The billing clerk's deposits (押金) by purpose: a decoration permit's, asked for when intake approved it, to
receive (billing's ``/deposits?status=requested``) with the receive form (method, reference); a tenancy or key/card
deposit taken at a move-in with the take-a-deposit form; and those held or returned with their deductions. Billing
keeps deposits apart from payments (held money, never income) and decides every rule; a manager and head office
read."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response

from console.billing.rules import money
from console.billing.views import METHODS, chosen, site_choices
from console.decoration.rules import DEPOSIT_PURPOSES, deposit_body, deposit_input
from console.permissions import RECORD_PAYMENT, SEE_BILLING
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter()
DEPOSIT_STATUSES = ("requested", "paid", "returned")


async def _deposits(
    page: Page,
    site: str,
    status: str,
    purpose: str = "decoration",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    """The deposits of a purpose and status; ``errors`` by deposit id (a refused receipt) or by the take-a-deposit
    form's input, which ``form`` fills again."""
    sites = await site_choices(page)
    site = chosen(site, sites)
    params = {"purpose": purpose, "status": status, "limit": "200"}
    if site:
        params["site"] = site
    items: list[dict[str, Any]] = []
    error: ServiceError | None = None
    try:
        items = (await services_of(page.request).get("billing", "/deposits", page.token, params))["items"]
    except ServiceError as exc:
        error = exc
    return page.render(
        "decoration/deposits.html",
        status_code=(error.status or 502) if error else status_code,
        items=items,
        error=error,
        errors=errors or {},
        site=site,
        sites=sites,
        status=status,
        statuses=DEPOSIT_STATUSES,
        purpose=purpose,
        purposes=DEPOSIT_PURPOSES,
        form=form or {"purpose": "tenancy" if purpose == "decoration" else purpose},
        methods=METHODS,
        may_receive=page.may(RECORD_PAYMENT),
        received=page.request.query_params.get("received", ""),
        money=money,
    )


@router.get("/deposits")
async def deposit_list(
    page: SignedInPage,
    site: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(pattern=r"^(requested|paid|returned)$")] = "requested",
    purpose: Annotated[str, Query(pattern=r"^(decoration|tenancy|key_card)$")] = "decoration",
) -> Response:
    page.require(SEE_BILLING)
    return await _deposits(page, site, status, purpose)


@router.post("/deposits/{deposit_id}/receive")
async def receive(
    page: SignedInPage,
    deposit_id: Annotated[str, Path(max_length=64)],
    method: Annotated[str, Form(max_length=16)],
    reference: Annotated[str, Form(max_length=64)] = "",
    site: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """The clerk received the deposit; billing issues its deposit receipt."""
    check_csrf(page, csrf_token)
    page.require(RECORD_PAYMENT)
    body: dict[str, Any] = {"method": method}
    if reference.strip():
        body["reference"] = reference.strip()
    try:
        received = await services_of(page.request).post("billing", f"/deposits/{deposit_id}/receive", page.token, body)
    except ServiceError as exc:
        detail = exc.detail if exc.status else page.t("error.service_unavailable", service=exc.service)
        return await _deposits(page, site, "requested", errors={deposit_id: detail}, status_code=exc.status or 502)
    return redirect(f"/decoration/deposits?site={site}&status=requested&received={received['receipt_no'] or ''}")


@router.post("/deposits/new")
async def take_deposit(page: SignedInPage) -> Response:
    """A tenancy or key/card deposit taken at a move-in: held at once, with billing's deposit receipt."""
    form_data = await page.request.form()
    check_csrf(page, str(form_data.get("csrf_token") or ""))
    page.require(RECORD_PAYMENT)
    names = ("site", "unit_id", "purpose", "amount", "items", "method", "reference")
    form = {name: str(form_data.get(name) or "").strip()[: 2000 if name == "items" else 64] for name in names}
    site, purpose = form["site"], form["purpose"] if form["purpose"] in ("tenancy", "key_card") else "tenancy"
    body, invalid = deposit_body(form)
    if not form["unit_id"]:
        invalid["unit_id"] = "deposit.error.unit"
    if invalid:
        errors = {name: page.t(key) for name, key in invalid.items()}
        return await _deposits(page, site, "paid", purpose, errors, status_code=422, form=form)
    unit = quote(form["unit_id"], safe="")
    try:
        taken = await services_of(page.request).post("billing", f"/units/{unit}/deposits", page.token, body)
    except ServiceError as exc:
        detail = exc.detail if exc.status else page.t("error.service_unavailable", service=exc.service)
        errors = {deposit_input(exc.field): detail}
        return await _deposits(page, site, "paid", purpose, errors, status_code=exc.status or 502, form=form)
    query = urlencode({"site": site, "status": "paid", "purpose": purpose, "received": taken["receipt_no"] or ""})
    return redirect(f"/decoration/deposits?{query}")
