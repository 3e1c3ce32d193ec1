"""Bills (收费通知单) for the billing staff: a site's bills by period and unit, a page at a time; the billing run of
a period (clerk, manager); and a bill as a printable statement: each line, the balance brought forward, the amount
due and its date, and what is still unpaid of it today; and as billing's PDF of it, in the payer's language. The
owner's portal shows the same statement and PDF."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response

from console.billing.rules import pager
from console.billing.views import SiteQuery, chosen, render, site_choices
from console.permissions import ISSUE_BILLS, SEE_BILLING
from console.services import ServiceError
from console.web import Listing, Page, SignedInPage, check_csrf, fetch_list, redirect, services_of

router = APIRouter(prefix="/billing")

BILLS_PER_PAGE = 50
PERIOD_PATTERN = r"^(\d{4}-(0[1-9]|1[0-2]))?$"


async def _bill_list(
    page: Page,
    site: str,
    period: str,
    unit: str,
    offset: int = 0,
    issue_form: dict[str, str] | None = None,
    issue_error: str = "",
    status_code: int = 200,
) -> Response:
    sites = await site_choices(page)
    site = chosen(site, sites)
    listing = Listing([], 0)
    if site:
        listing = await fetch_list(
            page,
            "billing",
            "/bills",
            site=site,
            period=period,
            unit_id=unit.strip(),
            limit=str(BILLS_PER_PAGE),
            offset=str(offset),
        )
    filters = {"site": site, "period": period, "unit": unit}
    response = render(
        page,
        page.fragment("billing/bills.html", "billing/bills_table.html"),
        listing.error,
        items=listing.items,
        total=listing.total,
        pages=pager(listing.total, BILLS_PER_PAGE, offset),
        # The pager's links keep the filters (empty ones left out).
        filter_query=urlencode({name: value for name, value in filters.items() if value}),
        site=site,
        sites=sites,
        period=period,
        unit=unit,
        may_issue=page.may(ISSUE_BILLS),
        issue_form=issue_form or {"period": period},
        issue_error=issue_error,
        issued=_count(page.request.query_params.get("issued", "")),
    )
    if listing.error is None:
        response.status_code = status_code
    return response


def _count(text: str) -> int | None:
    """How many bills the run just issued, carried by the redirect after it (None: no run just now)."""
    return int(text) if text.isdigit() else None


@router.get("/bills")
async def bill_list(
    page: SignedInPage,
    site: SiteQuery = "",
    period: Annotated[str, Query(pattern=PERIOD_PATTERN)] = "",
    unit: Annotated[str, Query(max_length=64)] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    page.require(SEE_BILLING)
    return await _bill_list(page, site, period, unit, offset)


@router.post("/bills/issue")
async def issue_bills(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)],
    period: Annotated[str, Form(max_length=16)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """The period's billing run: one bill per unit with a paying party; issued again, only units without one."""
    check_csrf(page, csrf_token)
    page.require(ISSUE_BILLS)
    try:
        issued = await services_of(page.request).post(
            "billing", "/billing-periods", page.token, {"site": site, "period": period.strip()}
        )
    except ServiceError as exc:
        # Billing's words by the period (more than a month ahead, no fee item billed in it, no billing settings).
        message = exc.detail if exc.status else page.t("error.service_unavailable", service=exc.service)
        return await _bill_list(
            page, site, "", "", issue_form={"period": period}, issue_error=message, status_code=exc.status or 502
        )
    query = urlencode({"site": site, "period": issued["period"], "issued": issued["charged_now"]})
    return redirect(f"/billing/bills?{query}")


async def statement(page: Page, bill_id: str, template: str, **context: Any) -> Response:
    """A bill as its printable statement, with the issuing site's name when intake gives it to the reader."""
    services = services_of(page.request)
    try:
        bill = await services.get("billing", f"/bills/{bill_id}", page.token)
    except ServiceError as exc:
        return render(page, template, exc, bill=None, **context)
    site = None
    if page.account is not None:  # intake shows sites to staff; an owner's statement names the site by its code
        try:
            site = await services.get("intake", f"/sites/{bill['site']}", page.token)
        except ServiceError:
            site = None
    return render(page, template, bill=bill, site=site, **context)


@router.get("/bills/{bill_id}")
async def bill_page(page: SignedInPage, bill_id: Annotated[str, Path(max_length=64)]) -> Response:
    page.require(SEE_BILLING)
    return await statement(page, bill_id, "billing/bill.html")


async def pdf_file(page: Page, path: str, name: str) -> Response:
    """A PDF billing writes (a bill's, a formal letter's) passed through to the browser to show; billing's refusal
    is the ServiceError, for the caller's page to show in billing's words."""
    content, content_type = await services_of(page.request).get_bytes("billing", path, page.token)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)  # a header carries Latin-1 only
    return Response(content, media_type=content_type, headers={"Content-Disposition": f'inline; filename="{safe}"'})


@router.get("/bills/{bill_id}/pdf")
async def bill_pdf(page: SignedInPage, bill_id: Annotated[str, Path(max_length=64)]) -> Response:
    """The statement as billing's PDF, in the payer's language: to print or send as it is."""
    page.require(SEE_BILLING)
    try:
        return await pdf_file(page, f"/bills/{quote(bill_id)}/pdf", f"bill-{bill_id}.pdf")
    except ServiceError as exc:
        return render(page, "billing/bill.html", exc, bill=None)
