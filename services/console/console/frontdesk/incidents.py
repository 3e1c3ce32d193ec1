"""Incidents (many requests on one building and category: a burst pipe, a power cut): intake's incidents, a
broadcast to the owners through intake, and each broadcast's progress as notification reports it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response

from console.frontdesk import rules
from console.permissions import HANDLE_INCIDENTS
from console.services import ServiceError, Services
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter()


@router.get("/incidents")
async def incident_list(
    page: SignedInPage,
    site: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=16)] = "open",
) -> Response:
    page.require(HANDLE_INCIDENTS)
    params = {k: v for k, v in {"site": site, "status": status}.items() if v}
    items: list[dict[str, Any]] = []
    error: ServiceError | None = None
    try:
        items = await services_of(page.request).get("intake", "/incidents", page.token, params)
    except ServiceError as exc:
        error = exc
    return page.render(
        "frontdesk/incidents.html",
        status_code=(error.status or 502) if error else 200,
        items=items,
        error=error,
        status=status,
    )


async def _progress(services: Services, token: str, broadcasts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each broadcast intake asked for, with notification's progress (same id); None until notification has it."""
    shown = []
    for broadcast in broadcasts:
        progress: dict[str, Any] | None = None
        error: ServiceError | None = None
        try:
            found = await services.get("notification", f"/broadcasts/{broadcast['id']}", token)
            progress = {"state": found["state"], **found["progress"]}
        except ServiceError as exc:
            if exc.status != 404:  # 404: the event has not reached notification yet
                error = exc
        shown.append({**broadcast, "progress": progress, "progress_error": error})
    return shown


async def _incident_page(
    page: Page, incident_id: str, errors: dict[str, ServiceError] | None = None, form: dict[str, str] | None = None
) -> Response:
    errors = errors or {}
    services = services_of(page.request)
    try:
        incident = await services.get("intake", f"/incidents/{incident_id}", page.token)
    except ServiceError as exc:
        return page.render("frontdesk/incident.html", status_code=exc.status or 502, incident=None, error=exc)
    broadcasts = await _progress(services, page.token, incident["broadcasts"])
    refused = next(iter(errors.values()), None)
    template = page.fragment("frontdesk/incident.html", "frontdesk/broadcasts.html")
    return page.render(
        template,
        status_code=(refused.status or 502) if refused else 200,
        incident=incident,
        broadcasts=broadcasts,
        still_sending=any(b["progress"] is None or not b["progress"]["final"] for b in broadcasts),
        error=None,
        errors=errors,
        form=form or {},
        urgencies=rules.BROADCAST_URGENCIES,
        time_limit=rules.time_limit,
    )


@router.get("/incidents/{incident_id}")
async def incident_page(page: SignedInPage, incident_id: Annotated[str, Path(max_length=64)]) -> Response:
    """The incident, its requests and broadcasts; htmx polls the broadcasts alone while they are being sent."""
    page.require(HANDLE_INCIDENTS)
    return await _incident_page(page, incident_id)


@router.post("/incidents/{incident_id}/broadcast")
async def broadcast(
    page: SignedInPage,
    incident_id: Annotated[str, Path(max_length=64)],
    message: Annotated[str, Form(max_length=1000)],
    urgency: Annotated[str, Form(max_length=16)] = "normal",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(HANDLE_INCIDENTS)
    body = {"message": message.strip(), "urgency": urgency}
    try:
        await services_of(page.request).post("intake", f"/incidents/{incident_id}/broadcast", page.token, body)
    except ServiceError as exc:
        return await _incident_page(page, incident_id, {"broadcast": exc}, {"message": message, "urgency": urgency})
    return redirect(f"/front-desk/incidents/{incident_id}")


@router.post("/incidents/{incident_id}/close")
async def close(
    page: SignedInPage,
    incident_id: Annotated[str, Path(max_length=64)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(HANDLE_INCIDENTS)
    try:
        await services_of(page.request).post("intake", f"/incidents/{incident_id}/close", page.token)
    except ServiceError as exc:
        return await _incident_page(page, incident_id, {"close": exc})
    return redirect(f"/front-desk/incidents/{incident_id}")
