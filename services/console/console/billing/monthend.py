"""Month-end (月结) for the office and finance: a site's month per fee item (billed, collected, outstanding), the
takings per method (the cash column is what the clerks hand to finance), the files for finance (CSV, XLSX) and the
close that freezes the month (a manager or head office). Billing works out every figure; the page shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query
from fastapi.responses import Response

from console.billing.views import SiteQuery, chosen, render, site_choices
from console.permissions import CLOSE_MONTHS, SEE_BILLING
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter(prefix="/billing")

MonthQuery = Annotated[str, Query(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$")]


def last_month(today: date) -> str:
    """The month before today's: the one a month-end closes."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _today(page: Page) -> date:
    return datetime.now(ZoneInfo(page.request.app.state.console.display_timezone)).date()


async def _month_end(page: Page, site: str, month: str, close_error: ServiceError | None = None) -> Response:
    sites = await site_choices(page)
    site = chosen(site, sites)
    month = month or last_month(_today(page))
    report = None
    error = close_error
    if site:
        try:
            report = await services_of(page.request).get(
                "billing", f"/sites/{quote(site)}/month-report", page.token, {"month": month}
            )
        except ServiceError as exc:
            error = exc
    return render(
        page,
        "billing/month_end.html",
        error,
        report=report,
        site=site,
        sites=sites,
        month=month,
        may_close=page.may(CLOSE_MONTHS),
        export_query=urlencode({"site": site, "month": month}),
    )


@router.get("/month-end")
async def month_end(page: SignedInPage, site: SiteQuery = "", month: MonthQuery = "") -> Response:
    page.require(SEE_BILLING)
    return await _month_end(page, site, month)


@router.get("/month-end/export")
async def export(
    page: SignedInPage, site: SiteQuery, month: MonthQuery, format: Literal["csv", "xlsx"] = "csv"
) -> Response:
    """The month's file for finance, as billing writes it."""
    page.require(SEE_BILLING)
    path = f"/sites/{quote(site)}/month-report/export?{urlencode({'month': month, 'format': format})}"
    try:
        content, content_type = await services_of(page.request).get_bytes("billing", path, page.token)
    except ServiceError as exc:
        return render(page, "billing/month_end.html", exc, report=None, site=site, sites=[], month=month)
    name = f"{site}-{month}.{format}"
    return Response(content, media_type=content_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/month-end/close")
async def close(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)],
    month: Annotated[str, Form(max_length=7)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Close the month: billing freezes its figures (a month not over, or closed already: billing's refusal)."""
    check_csrf(page, csrf_token)
    page.require(CLOSE_MONTHS)
    try:
        await services_of(page.request).post(
            "billing", f"/sites/{quote(site)}/month-closes", page.token, {"month": month}
        )
    except ServiceError as exc:
        return await _month_end(page, site, month, close_error=exc)
    return redirect(f"/billing/month-end?{urlencode({'site': site, 'month': month})}")
