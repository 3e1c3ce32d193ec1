"""Other income (经营收入): the site's rental contracts (advertising space, storerooms, venues) and the money taken
that is not on a unit's account (outside renters' rent, temporary parking), each with its receipt. A manager signs a
contract here; the clerk takes an outside renter's rent for a cycle still unpaid (billing issues the receipt; a
unit's rent is on its bills instead); the clerk or a manager voids a receipt taken the same day, with the reason.
Billing's API with the person's own token; billing decides every rule and its refusal shows by the input."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from console.billing.rules import parse_amount
from console.billing.views import SiteQuery, chosen, refusal, render, render_receipt, site_choices
from console.permissions import MANAGE_RENTALS, RECORD_PAYMENT, SEE_INCOME, VOID_PAYMENT
from console.services import ServiceError
from console.web import Listing, Page, SignedInPage, check_csrf, fetch_list, redirect, services_of

router = APIRouter(prefix="/billing")

IdPath = Annotated[str, Path(max_length=64)]
MonthQuery = Annotated[str, Query(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$")]
RENTAL_KINDS = ("advertising", "storeroom", "venue")
RENT_CYCLES = ("1", "3", "6", "12")
INCOME_METHODS = ("cash", "card", "online")  # billing's income methods
CONTRACT_INPUTS = (
    "kind",
    "subject",
    "unit_id",
    "renter_name",
    "starts_on",
    "ends_on",
    "rent",
    "cycle_months",
    "deposit",
    "note",
)


def contract_body(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The new-contract form (amounts in yuan) as billing's body, or the message key of each input it cannot read.
    Billing says whether the dates, the renter and the amounts make a contract."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {"kind": form.get("kind", ""), "subject": form.get("subject", "")}
    for name in ("unit_id", "renter_name", "note"):
        if form.get(name):
            body[name] = form[name]
    for name in ("starts_on", "ends_on"):
        body[name] = form.get(name, "")
    cycle = form.get("cycle_months", "1")
    body["cycle_months"] = int(cycle) if cycle in RENT_CYCLES else cycle
    for name, field, optional in (("rent", "rent_cents", False), ("deposit", "deposit_cents", True)):
        text = form.get(name, "")
        if optional and not text:
            continue
        cents = parse_amount(text)
        if cents is None:
            errors[name] = "income.error.amount"
        else:
            body[field] = cents
    return body, errors


def contract_input(field: str | None) -> str:
    """The form's input a billing refusal names: its field's last part, amounts by their yuan input."""
    name = (field or "").split(".")[-1]
    name = {"rent_cents": "rent", "deposit_cents": "deposit"}.get(name, name)
    return name if name in CONTRACT_INPUTS else "subject"


def _this_month(page: Page) -> str:
    today: date = datetime.now(ZoneInfo(page.request.app.state.console.display_timezone)).date()
    return f"{today.year:04d}-{today.month:02d}"


async def _income(
    page: Page,
    site: str,
    month: str = "",
    *,
    errors: dict[str, str] | None = None,
    contract_form: dict[str, str] | None = None,
    change_form: dict[str, str] | None = None,
    notice: str = "",
    error: ServiceError | None = None,
    status_code: int = 200,
) -> Response:
    """The contracts (each outside renter's with a form for an unpaid cycle, each with its change form) and the
    month's receipts. ``errors`` by the new-contract form's input, ``rent-<contract>``, ``change-<contract>`` (with
    ``change_form``, what was sent) or ``void-<receipt>``."""
    sites = await site_choices(page)
    site = chosen(site, sites)
    month = month or _this_month(page)
    contracts = receipts = Listing([], 0)
    if site:
        contracts = await fetch_list(page, "billing", f"/sites/{quote(site)}/rental-contracts", limit="200")
        receipts = await fetch_list(page, "billing", "/income-receipts", site=site, month=month, limit="200")
        error = error or contracts.error or receipts.error
    response = render(
        page,
        "billing/income.html",
        error,
        site=site,
        sites=sites,
        month=month,
        contracts=contracts.items,
        receipts=receipts.items,
        received_cents=sum(r["amount_cents"] for r in receipts.items if not r.get("voided_at")),
        errors=errors or {},
        contract_open=bool(set(errors or {}) & set(CONTRACT_INPUTS)),
        form=contract_form or {"kind": "advertising", "cycle_months": "1"},
        change_form=change_form or {},
        notice=notice,
        kinds=RENTAL_KINDS,
        cycles=RENT_CYCLES,
        methods=INCOME_METHODS,
        may_sign=page.may(MANAGE_RENTALS),
        may_take=page.may(RECORD_PAYMENT),
        may_void=page.may(VOID_PAYMENT),
    )
    if error is None:
        response.status_code = status_code
    return response


@router.get("/income")
async def income(page: SignedInPage, site: SiteQuery = "", month: MonthQuery = "", notice: SiteQuery = "") -> Response:
    page.require(SEE_INCOME)
    return await _income(page, site, month, notice=notice)


@router.post("/income/contracts")
async def sign_contract(page: SignedInPage) -> Response:
    form_data = await page.request.form()
    check_csrf(page, str(form_data.get("csrf_token") or ""))
    page.require(MANAGE_RENTALS)
    site = str(form_data.get("site") or "")[:64]
    form = {name: str(form_data.get(name) or "").strip()[: 500 if name == "note" else 120] for name in CONTRACT_INPUTS}
    body, invalid = contract_body(form)
    if invalid:
        errors = {name: page.t(key) for name, key in invalid.items()}
        return await _income(page, site, errors=errors, contract_form=form, status_code=422)
    try:
        await services_of(page.request).post("billing", f"/sites/{quote(site)}/rental-contracts", page.token, body)
    except ServiceError as exc:
        return await refusal(partial(_income, page, site), contract_input(exc.field), exc, contract_form=form)
    return redirect(f"/billing/income?{urlencode({'site': site, 'notice': 'signed'})}")


@router.post("/income/contracts/{contract_id}")
async def change_contract(page: SignedInPage, contract_id: IdPath) -> Response:
    """A manager ends a contract early or extends it, or changes its note (emptied, it goes); rent and renter stay
    as signed."""
    form_data = await page.request.form()
    check_csrf(page, str(form_data.get("csrf_token") or ""))
    page.require(MANAGE_RENTALS)
    site = str(form_data.get("site") or "")[:64]
    form = {"ends_on": str(form_data.get("ends_on") or "").strip()[:32], "note": str(form_data.get("note") or "")}
    form["note"] = form["note"].strip()[:500]
    body = {"ends_on": form["ends_on"], "note": form["note"] or None}
    try:
        await services_of(page.request).patch("billing", f"/rental-contracts/{quote(contract_id)}", page.token, body)
    except ServiceError as exc:
        sent = {"id": contract_id, **form}
        return await refusal(partial(_income, page, site), f"change-{contract_id}", exc, change_form=sent)
    return redirect(f"/billing/income?{urlencode({'site': site, 'notice': 'changed'})}")


@router.post("/income/contracts/{contract_id}/rent")
async def take_rent(page: SignedInPage, contract_id: IdPath) -> Response:
    """An outside renter pays a cycle's rent: billing's receipt."""
    form = await page.request.form()
    check_csrf(page, str(form.get("csrf_token") or ""))
    page.require(RECORD_PAYMENT)
    site = str(form.get("site") or "")[:64]
    body: dict[str, Any] = {"period": str(form.get("period") or "")[:7], "method": str(form.get("method") or "")[:16]}
    if str(form.get("reference") or "").strip():
        body["reference"] = str(form.get("reference")).strip()[:64]
    path = f"/rental-contracts/{quote(contract_id)}/rent-receipts"
    try:
        receipt = await services_of(page.request).post("billing", path, page.token, body)
    except ServiceError as exc:
        return await refusal(partial(_income, page, site), f"rent-{contract_id}", exc)
    return redirect(f"/billing/income?{urlencode({'site': site, 'notice': receipt['receipt_no']})}")


@router.post("/income/receipts/{income_id}/void")
async def void_receipt(page: SignedInPage, income_id: IdPath) -> Response:
    """Void a receipt taken today, with the reason (billing refuses a receipt of an earlier day)."""
    form = await page.request.form()
    check_csrf(page, str(form.get("csrf_token") or ""))
    page.require(VOID_PAYMENT)
    site, month = str(form.get("site") or "")[:64], str(form.get("month") or "")[:7]
    body = {"reason": str(form.get("reason") or "").strip()[:200]}
    try:
        await services_of(page.request).post("billing", f"/income-receipts/{quote(income_id)}/void", page.token, body)
    except ServiceError as exc:
        return await refusal(partial(_income, page, site), f"void-{income_id}", exc, month=month)
    return redirect(f"/billing/income?{urlencode({'site': site, 'month': month, 'notice': 'voided'})}")


def income_receipt(found: dict[str, Any]) -> dict[str, Any]:
    """Billing's income receipt in the shape of a payment's receipt (billing/receipt.html): the payer as named, no
    unit, the one thing paid for."""
    return {
        "payment": {**found, "unit_id": None, "recorded_at": found["received_at"]},
        "items": [{"item": found["item"], "period": found["period"], "amount_cents": found["amount_cents"]}],
        "payer": {"name": found["payer"]},
        "unit": None,
        "credit_cents": 0,
    }


@router.get("/income/receipts/{income_id}")
async def print_receipt(page: SignedInPage, income_id: IdPath) -> Response:
    """An income receipt (收据) to print or hand over: temporary parking at the gate, an outside renter's rent."""
    page.require(SEE_INCOME)
    back = "/billing/income"
    try:
        found = await services_of(page.request).get("billing", f"/income-receipts/{quote(income_id)}", page.token)
    except ServiceError as exc:
        return render(page, "billing/receipt.html", exc, receipt=None, back_url=back)
    back = f"/billing/income?{urlencode({'site': found['site']})}"
    return await render_receipt(page, income_receipt(found), back_url=back, back_label="income.receipt.back")
