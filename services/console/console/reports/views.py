"""The reports screen: the services' reports of a day or a month, per site or every site side by side, as charts
with their numbers in tables, and the same numbers as CSV."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from console.permissions import SEE_REPORTS
from console.reports import rules, service
from console.services import ServiceError
from console.web import Page, SignedInPage, services_of
from pm_platform.envelope import utcnow
from pm_platform.sitetime import local_date

router = APIRouter(prefix="/reports")

Text = Annotated[str, Query(max_length=64)]


async def _reports(
    page: Page, period_kind: str, day: str, month: str, site: str
) -> tuple[rules.Period, list[str], list[str], list[service.Section], ServiceError | None]:
    """(period, the sites to choose from, the sites shown, the sections, a refusal of the site list)."""
    assert page.account is not None
    services = services_of(page.request)
    today = local_date(utcnow(), page.request.app.state.console.display_timezone)  # the sites' day, not UTC's
    period = rules.chosen_period(period_kind, day, month, today)
    try:
        choices = await service.sites_in_scope(services, page.token, page.account.sites)
    except ServiceError as exc:
        return period, [], [], [], exc
    shown = [site] if site in choices else choices
    sections = await service.load(services, page.token, page.t, period, shown, today)
    return period, choices, shown, sections, None


@router.get("")
async def reports_page(
    page: SignedInPage, period: Text = "day", day: Text = "", month: Text = "", site: Text = ""
) -> Response:
    page.require(SEE_REPORTS)
    chosen, choices, shown, sections, error = await _reports(page, period, day, month, site)
    # htmx asks for the sections alone when the chooser changes; a plain request, or htmx restoring a page from
    # the history it has not kept, gets the whole page.
    headers = page.request.headers
    partial = headers.get("HX-Request") and not headers.get("HX-History-Restore-Request")
    template = "reports/sections.html" if partial else "reports/reports.html"
    return page.render(
        template,
        period=chosen,
        choices=choices,
        site=site if site in choices else "",
        shown=shown,
        sections=sections,
        error=error,
        query=lambda when: _query(when, site if site in choices else ""),
    )


@router.get("/export.csv")
async def export_csv(
    page: SignedInPage, period: Text = "day", day: Text = "", month: Text = "", site: Text = ""
) -> Response:
    """The numbers of every table on the page, one per line (the services offer no CSV of these reports)."""
    page.require(SEE_REPORTS)
    chosen, _, _, sections, error = await _reports(page, period, day, month, site)
    if error is not None:
        return Response(error.detail, status_code=error.status or 502, media_type="text/plain; charset=utf-8")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([page.t(f"reports.csv.{column}") for column in ("section", "figure", "row", "site", "value")])
    for section in sections:
        for figure in section.figures:
            for series in figure.series:
                for label, value in zip(figure.labels, series.values, strict=True):
                    writer.writerow([section.title, figure.title, label, series.name, "" if value is None else value])
    name = f"reports-{site or 'all'}-{chosen.day if chosen.kind == 'day' else chosen.month}.csv"
    return Response(
        "\ufeff" + out.getvalue(),  # the byte-order mark lets spreadsheet programs read the Chinese as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _query(period: rules.Period, site: str) -> str:
    """The chooser's state as a query string (the export link and the previous / next links keep it)."""
    when = f"day={period.day}" if period.kind == "day" else f"month={period.month}"
    return f"period={period.kind}&{when}&site={site}"
