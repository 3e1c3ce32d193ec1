"""The incoming-call screen: who is calling (intake's lookup by phone), their unit's requests, payment status
(billing) and timeline, and a prefilled new request for them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from console.frontdesk import rules
from console.permissions import TAKE_CALLS
from console.services import ServiceError, Services
from console.web import Page, SignedInPage, services_of

router = APIRouter()


async def _unit_context(services: Services, token: str, unit: dict[str, Any]) -> dict[str, Any]:
    """The unit's account at billing and its timeline at intake; either refusal is shown in its own words."""
    context: dict[str, Any] = {"account": None, "account_error": None, "timeline": [], "timeline_error": None}
    try:
        context["account"] = await services.get("billing", f"/accounts/{unit['id']}", token, {"site": unit["site"]})
    except ServiceError as exc:
        context["account_error"] = exc
    try:
        context["timeline"] = await services.get("intake", f"/units/{unit['id']}/timeline", token, {"limit": "20"})
    except ServiceError as exc:
        context["timeline_error"] = exc
    return context


@router.get("/call")
async def incoming_call(page: SignedInPage, phone: Annotated[str, Query(max_length=32)] = "") -> Response:
    page.require(TAKE_CALLS)
    services = services_of(page.request)
    phone = phone.strip()
    matches: list[dict[str, Any]] = []
    error: ServiceError | None = None
    if phone:
        try:
            found = await services.get("intake", "/lookup", page.token, {"phone": phone})
            for match in found["matches"]:
                unit = match.get("unit")
                extra = await _unit_context(services, page.token, unit) if unit else {}
                party = match.get("party")
                site = unit["site"] if unit else (party or {}).get("site") or _first_site(page)
                link = rules.new_request_link(site, unit["id"] if unit else None, party, phone)
                matches.append({**match, **extra, "new_request": link})
        except ServiceError as exc:
            error = exc
    return page.render(
        "frontdesk/call.html",
        status_code=(error.status or 502) if error else 200,
        phone=phone,
        matches=matches,
        error=error,
        yuan=rules.yuan,
        time_limit=rules.time_limit,
    )


def _first_site(page: Page) -> str:
    """An unknown caller's request goes to the person's own (first) site until they choose another."""
    sites = page.account.sites if page.account else []
    return next((s for s in sites if s != "*"), "")
