"""The billing clerk's screens: a site's accounts and one account, payments (record, void, a printable receipt)
and arrears with the collection rate. Billing's API with the person's own token; billing decides every rule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from console.billing.rules import capital_amount, money, parse_amount, sort_arrears
from console.permissions import APPROVE_REFUND, RECORD_PAYMENT, REQUEST_REFUND, SEE_BILLING, VOID_PAYMENT
from console.services import ServiceError
from console.web import Listing, Page, SignedInPage, check_csrf, fetch_list, redirect, services_of

router = APIRouter(prefix="/billing")

METHODS = ("cash", "card", "transfer", "online")
AGING = ("1_30", "31_60", "61_90", "over_90")
# The payment form's inputs by the name billing gives the field in a problem.
PAYMENT_FIELDS = {
    "unit_id": "unit_id",
    "amount_cents": "amount",
    "currency": "amount",
    "method": "method",
    "reference": "reference",
    "received_at": "received_at",
    "note": "note",
}
SiteQuery = Annotated[str, Query(max_length=64)]


class PaymentPrefill(BaseModel):
    """What the payment form may come filled with (a bank-statement row recorded by hand)."""

    amount: Annotated[str, Field(max_length=32)] = ""
    method: Annotated[str, Field(pattern="^(cash|card|transfer|online)?$")] = ""
    reference: Annotated[str, Field(max_length=64)] = ""
    received_at: Annotated[str, Field(pattern=r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})?$")] = ""
    note: Annotated[str, Field(max_length=500)] = ""


async def site_choices(page: Page) -> list[str]:
    """The sites the person works at; head office ("*") picks among the sites intake knows."""
    assert page.account is not None
    sites = [s for s in page.account.sites if s != "*"]
    if "*" in page.account.sites:
        try:
            found = await services_of(page.request).get("intake", "/sites", page.token)
            sites += [s["code"] for s in found if s["code"] not in sites]
        except ServiceError:
            pass  # the site box then takes a typed code
    return sites


def chosen(site: str, sites: list[str]) -> str:
    return site or (sites[0] if sites else "")


def render(page: Page, template: str, error: ServiceError | None = None, **context: Any) -> Response:
    """Every billing page with the formatting rules at hand, answering with the service's status on a refusal."""
    status = (error.status or 502) if error else 200
    return page.render(template, status_code=status, error=error, money=money, capital_amount=capital_amount, **context)


async def refusal(show: Callable[..., Awaitable[Response]], key: str, exc: ServiceError, **context: Any) -> Response:
    """A billing refusal (4xx) shown by ``key`` (an input, or a row's form) on the page ``show`` renders; billing
    unreachable or failing, above all."""
    if exc.status and exc.status < 500:
        return await show(errors={key: exc.detail}, status_code=exc.status, **context)
    return await show(error=exc, **context)


@router.get("")
async def billing_home(page: SignedInPage) -> Response:
    page.require(SEE_BILLING)
    return redirect("/billing/accounts")


# --- accounts ---------------------------------------------------------------------------------------------


@router.get("/accounts")
async def account_list(
    page: SignedInPage,
    site: SiteQuery = "",
    unit: Annotated[str, Query(max_length=64)] = "",
    arrears_only: bool = False,
) -> Response:
    page.require(SEE_BILLING)
    sites = await site_choices(page)
    site = chosen(site, sites)
    items: list[dict[str, Any]] = []
    error: ServiceError | None = None
    if site:
        params = {"site": site, "limit": "500"}
        if arrears_only:
            params["in_arrears"] = "true"
        try:
            body = await services_of(page.request).get("billing", "/accounts", page.token, params)
            items = body["items"]
        except ServiceError as exc:
            error = exc
    wanted = unit.strip().casefold()
    if wanted:  # the search box narrows the site's list to the units whose code holds the text
        items = [item for item in items if wanted in item["unit_id"].casefold()]
    return render(
        page,
        page.fragment("billing/accounts.html", "billing/accounts_table.html"),
        error,
        items=items,
        site=site,
        sites=sites,
        unit=unit,
        arrears_only=arrears_only,
    )


@router.get("/accounts/{unit_id}")
async def account_page(
    page: SignedInPage, unit_id: Annotated[str, Path(max_length=64)], site: SiteQuery = ""
) -> Response:
    page.require(SEE_BILLING)
    site = chosen(site, await site_choices(page))
    try:
        found = await services_of(page.request).get("billing", f"/accounts/{unit_id}", page.token, {"site": site})
    except ServiceError as exc:
        return render(page, "billing/account.html", exc, account=None, unit_id=unit_id, site=site)
    return render(
        page,
        "billing/account.html",
        account=found,
        unit_id=unit_id,
        site=site,
        aging=AGING,
        may_record=page.may(RECORD_PAYMENT),
    )


# --- payments ---------------------------------------------------------------------------------------------


@router.get("/payments")
async def payment_list(
    page: SignedInPage, site: SiteQuery = "", unit: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    page.require(SEE_BILLING)
    sites = await site_choices(page)
    site = chosen(site, sites)
    listing = Listing([], 0)
    if site:
        listing = await fetch_list(page, "billing", "/payments", site=site, limit="200", unit_id=unit.strip())
    return render(
        page,
        page.fragment("billing/payments.html", "billing/payments_table.html"),
        listing.error,
        items=listing.items,
        total=listing.total,
        site=site,
        sites=sites,
        unit=unit,
        may_record=page.may(RECORD_PAYMENT),
    )


def _payment_form(
    page: Page,
    sites: list[str],
    form: dict[str, str],
    errors: dict[str, str],
    error: ServiceError | None = None,
    status_code: int = 200,
) -> Response:
    return page.render(
        "billing/payment_new.html",
        status_code=(error.status or 502) if error else status_code,
        form=form,
        errors=errors,
        error=error,
        sites=sites,
        methods=METHODS,
    )


@router.get("/payments/new")
async def new_payment(
    page: SignedInPage,
    prefill: Annotated[PaymentPrefill, Query()],
    site: SiteQuery = "",
    unit_id: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The form; a bank-statement row the clerk matches by hand comes with its amount, reference and day."""
    page.require(RECORD_PAYMENT)
    sites = await site_choices(page)
    form = {"site": chosen(site, sites), "unit_id": unit_id, "method": "cash"}
    form.update({name: value for name, value in prefill.model_dump().items() if value})
    return _payment_form(page, sites, form, {})


@router.post("/payments/new")
async def record_payment(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)],
    unit_id: Annotated[str, Form(max_length=64)],
    amount: Annotated[str, Form(max_length=32)],
    method: Annotated[str, Form(max_length=16)],
    reference: Annotated[str, Form(max_length=64)],
    received_at: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(RECORD_PAYMENT)
    sites = await site_choices(page)
    form = {
        "site": site,
        "unit_id": unit_id.strip(),
        "amount": amount.strip(),
        "method": method,
        "reference": reference.strip(),
        "received_at": received_at,
        "note": note.strip(),
    }
    cents = parse_amount(form["amount"])
    if cents is None:
        return _payment_form(page, sites, form, {"amount": page.t("billing.new.amount_format")}, status_code=422)
    body: dict[str, Any] = {
        "site": site,
        "unit_id": form["unit_id"],
        "amount_cents": cents,
        "method": method,
        "reference": form["reference"],
    }
    if received_at:
        # The form's time is the console's display time zone (datetime-local carries none).
        zone = ZoneInfo(page.request.app.state.console.display_timezone)
        try:
            body["received_at"] = datetime.fromisoformat(received_at).replace(tzinfo=zone).isoformat()
        except ValueError:
            return _payment_form(page, sites, form, {"received_at": page.t("billing.new.time_format")}, status_code=422)
    if form["note"]:
        body["note"] = form["note"]
    try:
        created = await services_of(page.request).post("billing", "/payments", page.token, body)
    except ServiceError as exc:
        input_name = PAYMENT_FIELDS.get(exc.field or "")
        if exc.status and input_name:
            return _payment_form(page, sites, form, {input_name: exc.detail}, status_code=exc.status)
        return _payment_form(page, sites, form, {}, exc)
    return redirect(f"/billing/payments/{created['id']}")


async def _payment_page(
    page: Page,
    payment_id: str,
    reason: str = "",
    reason_error: str = "",
    status_code: int = 200,
    refund_form: dict[str, str] | None = None,
    refund_errors: dict[str, str] | None = None,
) -> Response:
    try:
        payment = await services_of(page.request).get("billing", f"/payments/{payment_id}", page.token)
    except ServiceError as exc:
        return render(page, "billing/payment.html", exc, payment=None)
    refunds = await fetch_list(page, "billing", "/refunds", site=payment["site"], payment_id=payment["id"])
    response = render(
        page,
        "billing/payment.html",
        payment=payment,
        refunds=refunds.items,
        may_void=page.may(VOID_PAYMENT),
        may_refund=page.may(REQUEST_REFUND),
        methods=METHODS,
        reason=reason,
        reason_error=reason_error,
        refund_form=refund_form or {"method": payment["method"]},
        refund_errors=refund_errors or {},
    )
    response.status_code = status_code
    return response


@router.get("/payments/{payment_id}")
async def payment_page(page: SignedInPage, payment_id: Annotated[str, Path(max_length=64)]) -> Response:
    page.require(SEE_BILLING)
    return await _payment_page(page, payment_id)


@router.post("/payments/{payment_id}/void")
async def void_payment(
    page: SignedInPage,
    payment_id: Annotated[str, Path(max_length=64)],
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(VOID_PAYMENT)
    try:
        await services_of(page.request).post(
            "billing", f"/payments/{payment_id}/void", page.token, {"reason": reason.strip()}
        )
    except ServiceError as exc:
        # Billing's own words next to the reason (too short, already void...), the form kept as typed.
        return await _payment_page(page, payment_id, reason, exc.detail, exc.status or 502)
    return redirect(f"/billing/payments/{payment_id}")


# The refund form's inputs by the name billing gives the field in a problem.
REFUND_FIELDS = {"amount_cents": "amount", "reason": "reason", "method": "method", "payment_id": "amount"}


@router.post("/payments/{payment_id}/refunds")
async def ask_for_refund(
    page: SignedInPage,
    payment_id: Annotated[str, Path(max_length=64)],
    amount: Annotated[str, Form(max_length=20)] = "",
    method: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(REQUEST_REFUND)
    form = {"amount": amount.strip(), "method": method, "reason": reason.strip()}
    cents = parse_amount(form["amount"])
    if cents is None:
        errors = {"amount": page.t("billing.new.amount_format")}
        return await _payment_page(page, payment_id, status_code=422, refund_form=form, refund_errors=errors)
    body: dict[str, Any] = {"amount_cents": cents, "reason": form["reason"]}
    if method in METHODS:
        body["method"] = method
    try:
        await services_of(page.request).post("billing", f"/payments/{payment_id}/refunds", page.token, body)
    except ServiceError as exc:
        # Billing's own words by the input it names (more than is refundable, a reason too short...).
        errors = {REFUND_FIELDS.get(exc.field or "", "reason"): exc.detail}
        return await _payment_page(
            page, payment_id, status_code=exc.status or 502, refund_form=form, refund_errors=errors
        )
    return redirect(f"/billing/payments/{payment_id}")


# --- refunds: the managers' approval queue ------------------------------------------------------------------

REFUND_STATUSES = ("requested", "approved", "rejected")


async def _refund_list(
    page: Page, site: str, status: str, error: ServiceError | None = None, failed: str = ""
) -> Response:
    sites = await site_choices(page)
    site = chosen(site, sites)
    listing = Listing([], 0)
    if site:
        listing = await fetch_list(page, "billing", "/refunds", site=site, status=status, limit="200")
    return render(
        page,
        page.fragment("billing/refunds.html", "billing/refunds_table.html"),
        error or listing.error,
        items=listing.items,
        total=listing.total,
        site=site,
        sites=sites,
        status=status,
        statuses=REFUND_STATUSES,
        may_decide=page.may(APPROVE_REFUND),
        failed=failed,
    )


@router.get("/refunds")
async def refund_list(
    page: SignedInPage,
    site: SiteQuery = "",
    status: Annotated[str, Query(pattern="^(requested|approved|rejected)?$")] = "requested",
) -> Response:
    page.require(SEE_BILLING)
    return await _refund_list(page, site, status)


@router.post("/refunds/{refund_id}/{decision}")
async def decide_refund(
    page: SignedInPage,
    refund_id: Annotated[str, Path(max_length=64)],
    decision: Annotated[str, Path(pattern="^(approve|reject)$")],
    site: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(APPROVE_REFUND)
    body = {"note": note.strip()} if note.strip() or decision == "reject" else {}
    try:
        await services_of(page.request).post("billing", f"/refunds/{refund_id}/{decision}", page.token, body)
    except ServiceError as exc:
        # The queue again, with billing's refusal (the same person, already decided, a note missing) on that row.
        return await _refund_list(page, site, "requested", exc, failed=refund_id)
    return redirect(f"/billing/refunds?site={quote(site)}")


async def render_receipt(
    page: Page, found: dict[str, Any], back_url: str | None = None, back_label: str | None = None
) -> Response:
    """A receipt to print (billing/receipt.html: ``payment``, its ``items``, ``payer`` and ``unit``), headed with the
    issuing service centre's name; without intake it still prints, with the site's code."""
    site: dict[str, Any] | None = None
    try:
        site = await services_of(page.request).get("intake", f"/sites/{quote(found['payment']['site'])}", page.token)
    except ServiceError:
        site = None
    return render(page, "billing/receipt.html", receipt=found, site=site, back_url=back_url, back_label=back_label)


@router.get("/payments/{payment_id}/receipt")
async def receipt(page: SignedInPage, payment_id: Annotated[str, Path(max_length=64)]) -> Response:
    page.require(SEE_BILLING)
    try:
        found = await services_of(page.request).get("billing", f"/payments/{payment_id}/receipt", page.token)
    except ServiceError as exc:
        return render(page, "billing/receipt.html", exc, receipt=None)
    return await render_receipt(page, found)


# --- arrears and collection -------------------------------------------------------------------------------


@router.get("/arrears")
async def arrears(
    page: SignedInPage,
    site: SiteQuery = "",
    sort: Annotated[str, Query(pattern=r"^(age|amount)$")] = "age",
    as_of: Annotated[str, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = "",
) -> Response:
    page.require(SEE_BILLING)
    sites = await site_choices(page)
    site = chosen(site, sites)
    owing: dict[str, Any] | None = None
    collection: dict[str, Any] | None = None
    error: ServiceError | None = None
    if site:
        services = services_of(page.request)
        # A day other than today: the month-end arrears report, or who will be overdue by then.
        day = {"as_of": as_of} if as_of else {}
        try:
            owing = await services.get("billing", "/arrears", page.token, {"site": site, "limit": "500", **day})
            collection = await services.get("billing", "/collection", page.token, {"site": site, **day})
        except ServiceError as exc:
            error = exc
    items = sort_arrears(owing["items"], sort) if owing else []
    site_collection = collection["sites"][0] if collection and collection["sites"] else None
    return render(
        page,
        page.fragment("billing/arrears.html", "billing/arrears_table.html"),
        error,
        owing=owing,
        items=items,
        periods=site_collection["periods"] if site_collection else [],
        collection_currency=site_collection["currency"] if site_collection else "CNY",
        site=site,
        sites=sites,
        sort=sort,
        as_of=as_of,
        aging=AGING,
    )
