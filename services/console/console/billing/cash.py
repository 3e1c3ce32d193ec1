"""Cash on site (现场收费) and its handover (现金交接). The worker's phone screen lists their paid repairs still unpaid,
takes the cash of one (billing issues the receipt from the site's series; the form carries a key made once, so a
resend after a dropped connection never takes the money twice) and shows the printable receipt and the cash on
hand. The clerk's screen lists each worker's cash of each day not handed over and records a handover with the
amount counted, which billing refuses unless it matches the receipts. Billing's API with the person's own token."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response

from console.billing.rules import parse_amount
from console.billing.views import SiteQuery, chosen, render, render_receipt, site_choices
from console.permissions import RECEIVE_CASH, SEE_BILLING, TAKE_CASH_ON_SITE
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter()

Id = Annotated[str, Path(max_length=64)]


def new_key() -> str:
    """A taking of cash's own key (billing's client_key): the same form sent again is the same receipt."""
    return uuid.uuid4().hex


def yuan_text(cents: int) -> str:
    """What the amount box is filled with: 80.00."""
    return f"{cents // 100}.{cents % 100:02d}"


# --- the worker: take cash, the receipt, the cash on hand ----------------------------------------------------


async def _take_page(
    page: Page,
    work_order: str = "",
    failed_charge: str = "",
    form: dict[str, str] | None = None,
    field_error: str = "",
    error: ServiceError | None = None,
    status_code: int = 200,
) -> Response:
    """The worker's repairs to collect at each of their sites (narrowed to one work order when asked) and the cash
    they hold; a refusal by the amount of the charge it was for, or above everything."""
    assert page.account is not None
    services = services_of(page.request)
    due: list[dict[str, Any]] = []
    on_hand: list[dict[str, Any]] = []
    for site in [s for s in page.account.sites if s != "*"]:
        params = {"site": site, **({"work_order_id": work_order} if work_order else {})}
        try:
            due += await services.get("billing", "/cash-due", page.token, params)
            held = await services.get(
                "billing", "/cash-receipts", page.token, {"site": site, "pending": "true", "limit": "200"}
            )
            on_hand += held["items"]
        except ServiceError as exc:
            error = error or exc
    response = render(
        page,
        "worker/cash.html",
        error,
        due=due,
        on_hand=on_hand,
        on_hand_cents=sum(r["payment"]["amount_cents"] for r in on_hand),
        work_order=work_order,
        failed_charge=failed_charge,
        form=form or {},
        field_error=field_error,
        new_key=new_key,
        yuan_text=yuan_text,
    )
    if error is None:
        response.status_code = status_code
    return response


@router.get("/work/cash")
async def take_cash_page(page: SignedInPage, work_order: Annotated[str, Query(max_length=64)] = "") -> Response:
    page.require(TAKE_CASH_ON_SITE)
    return await _take_page(page, work_order)


@router.post("/work/cash/{charge_id}")
async def take_cash(
    page: SignedInPage,
    charge_id: Id,
    amount: Annotated[str, Form(max_length=32)] = "",
    client_key: Annotated[str, Form(max_length=40)] = "",
    work_order: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(TAKE_CASH_ON_SITE)
    form = {"amount": amount.strip(), "client_key": client_key or new_key()}
    cents = parse_amount(form["amount"])
    if cents is None:
        return await _take_page(page, work_order, charge_id, form, page.t("billing.new.amount_format"), status_code=422)
    body = {"client_key": form["client_key"], "amount_cents": cents}
    try:
        taken = await services_of(page.request).post("billing", f"/charges/{charge_id}/cash-receipts", page.token, body)
    except ServiceError as exc:
        if exc.field == "client_key":  # the key went with another amount: this is a new taking of money
            form["client_key"] = new_key()
        if exc.status and exc.field in ("amount_cents", "client_key"):
            return await _take_page(page, work_order, charge_id, form, exc.detail, status_code=exc.status)
        # Unreachable billing keeps the key: sent again, the same receipt comes back if the first one got through.
        return await _take_page(page, work_order, charge_id, form, error=exc)
    return redirect(f"/work/cash/receipts/{taken['payment']['id']}")


@router.get("/work/cash/receipts/{receipt_id}")
async def cash_receipt(page: SignedInPage, receipt_id: Id) -> Response:
    """The receipt to print or show the owner, as the counter's (billing/receipt.html)."""
    page.require(TAKE_CASH_ON_SITE)
    try:
        found = await services_of(page.request).get("billing", f"/cash-receipts/{receipt_id}/receipt", page.token)
    except ServiceError as exc:
        return render(page, "billing/receipt.html", exc, receipt=None, back_url="/work/cash")
    return await render_receipt(page, found, back_url="/work/cash", back_label="cash.back")


# --- the clerk: each worker's cash of the day, counted and handed over ----------------------------------------


async def _handover_page(
    page: Page,
    site: str,
    failed: str = "",
    counted: str = "",
    field_error: str = "",
    error: ServiceError | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    sites = await site_choices(page)
    site = chosen(site, sites)
    pending: list[dict[str, Any]] = []
    recent: list[dict[str, Any]] = []
    if site:
        services = services_of(page.request)
        try:
            pending = await services.get("billing", "/cash-handovers/pending", page.token, {"site": site})
            recent = (await services.get("billing", "/cash-handovers", page.token, {"site": site, "limit": "20"}))[
                "items"
            ]
        except ServiceError as exc:
            error = error or exc
    response = render(
        page,
        "billing/cash_handovers.html",
        error,
        site=site,
        sites=sites,
        pending=pending,
        recent=recent,
        may_receive=page.may(RECEIVE_CASH),
        failed=failed,
        counted=counted,
        field_error=field_error,
        done=done,
    )
    if error is None:
        response.status_code = status_code
    return response


@router.get("/billing/cash-handovers")
async def handovers_page(
    page: SignedInPage, site: SiteQuery = "", done: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    page.require(SEE_BILLING)
    return await _handover_page(page, site, done=done)


@router.post("/billing/cash-handovers")
async def record_handover(page: SignedInPage) -> Response:
    """One worker's day: ``site``, ``worker``, ``day``, the receipts the clerk saw (``payment_id``, repeated), the
    amount counted in yuan (``counted``) and an optional ``note``."""
    form = await page.request.form()
    check_csrf(page, str(form.get("csrf_token", "")))
    page.require(RECEIVE_CASH)
    site, worker, day = (str(form.get(name, ""))[:128] for name in ("site", "worker", "day"))
    counted = str(form.get("counted", ""))[:32].strip()
    group = f"{worker}@{day}"
    cents = parse_amount(counted)
    if cents is None:
        return await _handover_page(page, site, group, counted, page.t("billing.new.amount_format"), status_code=422)
    body: dict[str, Any] = {
        "site": site,
        "worker": worker,
        "day": day,
        "counted_cents": cents,
        "payment_ids": [str(value)[:64] for value in form.getlist("payment_id")][:500],
    }
    note = str(form.get("note", ""))[:500].strip()
    if note:
        body["note"] = note
    try:
        handover = await services_of(page.request).post("billing", "/cash-handovers", page.token, body)
    except ServiceError as exc:
        if exc.status:  # billing's words by the count (short or over, by how much), or by the receipts
            return await _handover_page(page, site, group, counted, exc.detail, status_code=exc.status)
        return await _handover_page(page, site, error=exc)
    return redirect(f"/billing/cash-handovers?site={quote(site)}&done={quote(handover['id'])}")
