"""Home visits (走访): the site's visits, recording one (optionally raising a request at intake for what the
visitor found) and the coverage survey reports: managers behind their weekly visits, households behind their
yearly ones."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query
from fastapi.responses import Response

from console.config import ConsoleSettings
from console.followup.rules import VisitForm, visit_body, visit_input
from console.permissions import SEE_VISITS
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, fetch_list, redirect, services_of

router = APIRouter(prefix="/visits")

KINDS = ("complaint", "repair", "suggestion", "inquiry", "praise", "emergency")
PRIORITIES = ("low", "normal", "high", "urgent")


def _sites(page: Page) -> list[str]:
    assert page.account is not None
    return [site for site in page.account.sites if site != "*"]


@router.get("")
async def visit_list(page: SignedInPage, site: Annotated[str, Query(max_length=64)] = "") -> Response:
    page.require(SEE_VISITS)
    listing = await fetch_list(page, "survey", "/visits", limit="200", site=site)
    recorded = page.request.query_params.get("recorded", "")
    return page.render(
        "followup/visits.html",
        items=listing.items,
        total=listing.total,
        error=listing.error,
        site=site,
        sites=_sites(page),
        recorded=recorded,
    )


async def _visit_form(
    page: Page,
    form: VisitForm,
    errors: dict[str, str] | None = None,
    error: ServiceError | None = None,
    status_code: int = 200,
) -> Response:
    """The form, with the site's request categories from intake's taxonomy for a request the visit raises."""
    categories: list[dict[str, Any]] = []
    if form.site:
        try:
            found = await services_of(page.request).get("intake", f"/sites/{form.site}/categories", page.token)
            categories = [c for c in found if c.get("active")]
        except ServiceError as exc:
            error = error or exc
    return page.render(
        "followup/visit_new.html",
        status_code=(error.status or 502) if error and status_code == 200 else status_code,
        form=form,
        errors=errors or {},
        error=error,
        sites=_sites(page),
        kinds=KINDS,
        priorities=PRIORITIES,
        categories=categories,
    )


@router.get("/new")
async def new_visit(page: SignedInPage, site: Annotated[str, Query(max_length=64)] = "") -> Response:
    page.require(SEE_VISITS)
    sites = _sites(page)
    return await _visit_form(
        page, VisitForm(site=site or (sites[0] if sites else ""), unit_code="", visited_at="", notes="")
    )


@router.post("/new")
async def record_visit(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)] = "",
    unit_code: Annotated[str, Form(max_length=64)] = "",
    visited_at: Annotated[str, Form(max_length=32)] = "",
    notes: Annotated[str, Form(max_length=4000)] = "",
    raise_kind: Annotated[str, Form(max_length=16)] = "complaint",
    raise_category: Annotated[str, Form(max_length=64)] = "",
    raise_description: Annotated[str, Form(max_length=4000)] = "",
    raise_priority: Annotated[str, Form(max_length=16)] = "normal",
    raise_in_unit: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(SEE_VISITS)
    form = VisitForm(
        site=site,
        unit_code=unit_code,
        visited_at=visited_at,
        notes=notes,
        raise_kind=raise_kind,
        raise_category=raise_category,
        raise_description=raise_description,
        raise_priority=raise_priority,
        raise_in_unit=raise_in_unit == "yes",
    )
    console: ConsoleSettings = page.request.app.state.console
    body = visit_body(form, ZoneInfo(console.display_timezone))
    try:
        created = await services_of(page.request).post("survey", "/visits", page.token, body)
    except ServiceError as exc:
        input_name = visit_input(exc.field) if exc.status else None
        if input_name:
            return await _visit_form(page, form, {input_name: exc.detail}, status_code=exc.status or 422)
        return await _visit_form(page, form, error=exc, status_code=exc.status or 502)
    return redirect(f"/visits?site={created['site']}&recorded={created['id']}")


@router.get("/coverage")
async def coverage(page: SignedInPage, site: Annotated[str, Query(max_length=64)] = "") -> Response:
    page.require(SEE_VISITS)
    sites = _sites(page)
    site = site or (sites[0] if sites else "")
    report: dict[str, Any] | None = None
    error: ServiceError | None = None
    if site:
        try:
            report = await services_of(page.request).get("survey", "/visits/coverage", page.token, {"site": site})
        except ServiceError as exc:
            error = exc
    return page.render("followup/coverage.html", report=report, error=error, site=site, sites=sites)
