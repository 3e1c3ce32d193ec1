"""Dunning (催缴) for the front office: the daily run of the site's ladder, and the steps waiting for people: the
agents' call list, home visits, formal letters (one to an extra-care household waits for a manager; each letter as
billing's PDF to print), each closed by logging the contact and its outcome. Billing decides every step; the page
shows them and passes on what was done."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response

from console.billing.bills import pdf_file
from console.billing.views import SiteQuery, chosen, render, site_choices
from console.permissions import APPROVE_LETTERS, DUN_ARREARS
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, fetch_list, redirect, services_of

router = APIRouter(prefix="/billing")

ACTIONS = ("call", "visit", "letter", "notice", "reminder")
CHANNELS = ("call", "sms", "visit", "letter", "in_person", "wechat")
OUTCOMES = ("reached", "no_answer", "promised", "refused", "paid", "disputed", "other")
StepPath = Annotated[str, Path(max_length=64)]


async def _dunning(
    page: Page, site: str, action: str, ran: str = "", error: ServiceError | None = None, status_code: int = 200
) -> Response:
    sites = await site_choices(page)
    site = chosen(site, sites)
    open_steps = waiting = None
    if site:
        filters = {"site": site, "status": "open", "limit": "200"}
        open_steps = await fetch_list(
            page, "billing", "/dunning-steps", **filters, **({"action": action} if action else {})
        )
        waiting = await fetch_list(page, "billing", "/dunning-steps", site=site, status="awaiting_approval")
        error = error or open_steps.error or waiting.error
    response = render(
        page,
        "billing/dunning.html",
        error,
        steps=open_steps.items if open_steps else [],
        waiting=waiting.items if waiting else [],
        site=site,
        sites=sites,
        action=action,
        actions=ACTIONS,
        channels=CHANNELS,
        outcomes=OUTCOMES,
        ran=ran,
        may_approve=page.may(APPROVE_LETTERS),
    )
    if error is None:
        response.status_code = status_code
    return response


@router.get("/dunning")
async def dunning(
    page: SignedInPage,
    site: SiteQuery = "",
    action: Annotated[str, Query(pattern=r"^(call|visit|letter|notice|reminder)?$")] = "call",
    ran: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    page.require(DUN_ARREARS)
    return await _dunning(page, site, action, ran)


@router.get("/dunning/{step_id}/pdf")
async def letter_pdf(page: SignedInPage, step_id: StepPath) -> Response:
    """A formal letter as billing's PDF, in the payer's language, to print and send (a draft while it waits for a
    manager, who reads it before approving)."""
    page.require(DUN_ARREARS)
    try:
        return await pdf_file(page, f"/dunning-steps/{quote(step_id)}/pdf", f"letter-{step_id}.pdf")
    except ServiceError as exc:
        return await _dunning(page, "", "letter", error=exc, status_code=exc.status or 502)


def _back(site: str, action: str = "call", **extra: str) -> Response:
    return redirect(f"/billing/dunning?{urlencode({'site': site, 'action': action, **extra})}")


@router.post("/dunning/run")
async def run(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Today's run of the ladder (run again the same day, it takes nothing twice)."""
    check_csrf(page, csrf_token)
    page.require(DUN_ARREARS)
    try:
        result = await services_of(page.request).post("billing", f"/sites/{quote(site)}/dunning-runs", page.token)
    except ServiceError as exc:
        return await _dunning(page, site, "call", error=exc, status_code=exc.status or 502)
    return _back(site, ran=str(len(result["steps"])))


@router.post("/dunning/{step_id}/contacts")
async def log_contact(
    page: SignedInPage,
    step_id: StepPath,
    site: Annotated[str, Form(max_length=64)],
    channel: Annotated[str, Form(max_length=16)],
    outcome: Annotated[str, Form(max_length=16)],
    promised_on: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    action: Annotated[str, Form(max_length=16)] = "call",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """The call made (or the visit, the letter delivered) and what came of it: the step is done."""
    check_csrf(page, csrf_token)
    page.require(DUN_ARREARS)
    body = {"channel": channel, "outcome": outcome, "note": note.strip() or None, "promised_on": promised_on or None}
    try:
        await services_of(page.request).post("billing", f"/dunning-steps/{quote(step_id)}/contacts", page.token, body)
    except ServiceError as exc:
        return await _dunning(page, site, action, error=exc, status_code=exc.status or 502)
    return _back(site, action)


@router.post("/dunning/{step_id}/approve")
async def approve_letter(
    page: SignedInPage,
    step_id: StepPath,
    site: Annotated[str, Form(max_length=64)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """A manager lets the formal letter go to an extra-care household."""
    check_csrf(page, csrf_token)
    page.require(APPROVE_LETTERS)
    try:
        await services_of(page.request).post("billing", f"/dunning-steps/{quote(step_id)}/approve", page.token)
    except ServiceError as exc:
        return await _dunning(page, site, "letter", error=exc, status_code=exc.status or 502)
    return _back(site, "letter")
