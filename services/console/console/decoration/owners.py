"""Owners' decoration permits in the portal: their permits, each with its status, dates, deposit and the timeline
from application to refund (intake shows an owner only their own), and an application for their own unit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from console.billing.rules import money
from console.decoration.calls import application_errors, apply_with_plan
from console.decoration.rules import permit_body
from console.portal.views import OwnerPage
from console.services import ServiceError
from console.web import Page, check_csrf, redirect, services_of

router = APIRouter(prefix="/portal/decoration")


@router.get("")
async def my_permits(page: OwnerPage) -> Response:
    items: list[dict[str, Any]] = []
    error: ServiceError | None = None
    try:
        items = (await services_of(page.request).get("intake", "/decoration-permits", page.token))["items"]
    except ServiceError as exc:
        error = exc
    return page.render("decoration/portal_permits.html", items=items, error=error)


def _new_form(
    page: Page,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    error: ServiceError | None = None,
    status_code: int = 200,
) -> Response:
    return page.render(
        "decoration/portal_permit_new.html", status_code=status_code, form=form, errors=errors or {}, error=error
    )


@router.get("/new")
async def new_permit(page: OwnerPage) -> Response:
    return _new_form(page, {})


@router.post("/new")
async def apply(page: OwnerPage) -> Response:
    """The owner applies for their own unit (intake knows which party they are)."""
    submitted = await page.request.form()
    check_csrf(page, str(submitted.get("csrf_token", "")))
    form = {name: value for name, value in submitted.items() if isinstance(value, str) and name != "csrf_token"}
    assert page.owner is not None
    body = permit_body({**form, "unit_id": page.owner.unit_id or "", "party_id": ""})
    try:
        created, plan_error = await apply_with_plan(page, body, submitted.get("plan"))
    except ServiceError as exc:
        errors = application_errors(exc)
        return _new_form(page, form, errors, None if errors else exc, status_code=exc.status or 502)
    refused = "?plan=refused" if plan_error is not None else ""
    return redirect(f"/portal/decoration/{created['id']}{refused}")


@router.get("/{permit_id}")
async def my_permit(page: OwnerPage, permit_id: Annotated[str, Path(max_length=64)]) -> Response:
    services = services_of(page.request)
    try:
        permit = await services.get("intake", f"/decoration-permits/{permit_id}", page.token)
        timeline = await services.get("intake", f"/decoration-permits/{permit_id}/timeline", page.token)
    except ServiceError as exc:
        return page.render(
            "decoration/portal_permit.html", status_code=exc.status or 502, permit=None, timeline=[], error=exc
        )
    return page.render("decoration/portal_permit.html", permit=permit, timeline=timeline, error=None, money=money)
