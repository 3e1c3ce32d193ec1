"""Instalment plans (分期) for a unit in arrears: the clerk (or the manager, an agent on a call) agrees a schedule with
a payer in hardship, and dunning holds while they keep to it. The form proposes the unit's overdue amount in even
monthly instalments, to be edited; billing checks the plan (it covers what is overdue, the first instalment is not in
the past, one active plan per unit) and says from day to day whether it is active, completed or broken."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from console.billing.form_rules import PLAN_ROWS, behind_cents, even_schedule, instalments_of, plan_input
from console.billing.views import SiteQuery, chosen, render, site_choices
from console.permissions import DUN_ARREARS
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, fetch_list, redirect, services_of

router = APIRouter(prefix="/billing")

UnitQuery = Annotated[str, Query(max_length=64)]
PlanId = Annotated[str, Path(max_length=64)]
DEFAULT_COUNT = 3


def _today(page: Page) -> date:
    return datetime.now(ZoneInfo(page.request.app.state.console.display_timezone)).date()


@router.get("/instalment-plans")
async def plan_list(
    page: SignedInPage, site: SiteQuery = "", unit: UnitQuery = "", created: UnitQuery = "", cancelled: UnitQuery = ""
) -> Response:
    page.require(DUN_ARREARS)
    return await _plan_list(page, site, unit, created=created, cancelled=cancelled)


async def _plan_list(
    page: Page,
    site: str,
    unit: str,
    *,
    created: str = "",
    cancelled: str = "",
    refused: str = "",
    refusal: ServiceError | None = None,
) -> Response:
    """The site's plans; ``refused`` names the plan whose cancelling billing refused (``refusal``), shown by it."""
    sites = await site_choices(page)
    site = chosen(site, sites)
    listing = None
    if site:
        listing = await fetch_list(page, "billing", "/installment-plans", site=site, unit_id=unit.strip(), limit="200")
    return render(
        page,
        "billing/plans.html",
        (refusal if refusal and not refused else None) or (listing.error if listing else None),
        plans=listing.items if listing else [],
        total=listing.total if listing else 0,
        site=site,
        sites=sites,
        unit=unit,
        created=created,
        cancelled=cancelled,
        refused=refused,
        refusal=refusal,
        behind_cents=behind_cents,
    )


async def _plan_form(
    page: Page,
    site: str,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    error: ServiceError | None = None,
    status_code: int = 200,
) -> Response:
    sites = await site_choices(page)
    site = chosen(site, sites)
    account: dict[str, Any] | None = None
    if site and form.get("unit_id"):
        try:  # what is overdue, to plan; an unknown unit shows billing's refusal by the unit
            account = await services_of(page.request).get(
                "billing", f"/accounts/{quote(form['unit_id'])}", page.token, {"site": site}
            )
        except ServiceError as exc:
            if exc.status and exc.status < 500:
                errors = {"unit_id": exc.detail, **(errors or {})}
            else:
                error = error or exc
    response = render(
        page,
        "billing/plan_new.html",
        error,
        site=site,
        sites=sites,
        form=form,
        errors=errors or {},
        account=account,
        rows=range(1, PLAN_ROWS + 1),
    )
    if error is None:
        response.status_code = status_code
    return response


@router.get("/instalment-plans/new")
async def new_plan(
    page: SignedInPage,
    site: SiteQuery = "",
    unit_id: UnitQuery = "",
    count: Annotated[int, Query(ge=2, le=PLAN_ROWS)] = DEFAULT_COUNT,
    first_due: Annotated[date | None, Query()] = None,
) -> Response:
    """The form, with the unit's overdue amount proposed in ``count`` monthly instalments from ``first_due``."""
    page.require(DUN_ARREARS)
    form = {"unit_id": unit_id.strip(), "count": str(count), "first_due": (first_due or _today(page)).isoformat()}
    if not form["unit_id"]:
        return await _plan_form(page, site, form)
    sites = await site_choices(page)
    site = chosen(site, sites)
    try:
        account = await services_of(page.request).get(
            "billing", f"/accounts/{quote(form['unit_id'])}", page.token, {"site": site}
        )
    except ServiceError:
        return await _plan_form(page, site, form)  # the form shows the refusal by the unit
    overdue = int(account["overdue_cents"])
    if overdue >= count:
        for n, (due, cents) in enumerate(even_schedule(overdue, count, date.fromisoformat(form["first_due"])), 1):
            form[f"due-{n}"], form[f"amount-{n}"] = due.isoformat(), f"{cents // 100}.{cents % 100:02d}"
    return await _plan_form(page, site, form)


@router.post("/instalment-plans/new")
async def create_plan(page: SignedInPage) -> Response:
    form_data = await page.request.form()
    check_csrf(page, str(form_data.get("csrf_token") or ""))
    page.require(DUN_ARREARS)
    names = ["site", "unit_id", "note"] + [f"{part}-{n}" for n in range(1, PLAN_ROWS + 1) for part in ("due", "amount")]
    form = {name: str(form_data.get(name) or "").strip()[: 500 if name == "note" else 64] for name in names}
    site = form["site"]
    instalments = instalments_of(form)
    if instalments.errors:
        errors = {name: page.t(key) for name, key in instalments.errors.items()}
        return await _plan_form(page, site, form, errors, status_code=422)
    body: dict[str, Any] = {"site": site, "unit_id": form["unit_id"], "installments": instalments.body}
    if form["note"]:
        body["note"] = form["note"]
    try:
        plan = await services_of(page.request).post("billing", "/installment-plans", page.token, body)
    except ServiceError as exc:
        if exc.status and exc.status < 500:  # by the row, the schedule as a whole or the unit billing names
            name = plan_input(exc.field, instalments.rows)
            return await _plan_form(page, site, form, {name: exc.detail}, status_code=exc.status)
        return await _plan_form(page, site, form, error=exc)
    return redirect(f"/billing/instalment-plans?{urlencode({'site': site, 'created': plan['id']})}")


@router.post("/instalment-plans/{plan_id}/cancel")
async def cancel_plan(page: SignedInPage, plan_id: PlanId) -> Response:
    """End an active plan with the reason (billing records who and when); a refusal shows by the plan's row."""
    form_data = await page.request.form()
    check_csrf(page, str(form_data.get("csrf_token") or ""))
    page.require(DUN_ARREARS)
    site = str(form_data.get("site") or "")[:64]
    body = {"reason": str(form_data.get("reason") or "").strip()[:500]}
    try:
        await services_of(page.request).post("billing", f"/installment-plans/{quote(plan_id)}/cancel", page.token, body)
    except ServiceError as exc:
        if exc.status and exc.status < 500:
            response = await _plan_list(page, site, "", refused=plan_id, refusal=exc)
            response.status_code = exc.status
            return response
        return await _plan_list(page, site, "", refusal=exc)
    return redirect(f"/billing/instalment-plans?{urlencode({'site': site, 'cancelled': plan_id})}")
