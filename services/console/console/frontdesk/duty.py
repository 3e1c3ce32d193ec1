"""The duty log (值班记录) and the shift handover (交接): intake's duty API, as the person at the desk."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response

from console.frontdesk import rules
from console.permissions import KEEP_DUTY
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter()


def _sites(page: Page) -> list[str]:
    return [s for s in (page.account.sites if page.account else []) if s != "*"]


async def _duty_page(
    page: Page, site: str, errors: dict[str, ServiceError] | None = None, form: dict[str, str] | None = None
) -> Response:
    """The site's log of the day, the open items a handover would carry, and the recent handovers."""
    errors = dict(errors or {})
    sites = _sites(page)
    site = site or (sites[0] if sites else "")
    services = services_of(page.request)
    found: dict[str, Any] = {"entries": [], "open_items": [], "handovers": []}
    reads = {"entries": "/duty-log", "open_items": "/handovers/open-items", "handovers": "/handovers"}
    for name, path in reads.items():
        try:
            found[name] = await services.get("intake", path, page.token, {"site": site})
        except ServiceError as exc:
            errors.setdefault("read", exc)
    refused = next(iter(errors.values()), None)
    return page.render(
        "frontdesk/duty.html",
        status_code=(refused.status or 502) if refused else 200,
        site=site,
        sites=sites,
        errors=errors,
        form=form or {},
        kinds=rules.DUTY_KINDS,
        me=page.account.username if page.account else "",
        **found,
    )


@router.get("/duty")
async def duty(page: SignedInPage, site: Annotated[str, Query(max_length=64)] = "") -> Response:
    page.require(KEEP_DUTY)
    return await _duty_page(page, site)


@router.post("/duty/log")
async def write_log(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)],
    note: Annotated[str, Form(max_length=4000)],
    kind: Annotated[str, Form(max_length=16)] = "note",
    request_id: Annotated[str, Form(max_length=64)] = "",
    unit_code: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(KEEP_DUTY)
    body: dict[str, Any] = {"site": site, "kind": kind, "note": note.strip()}
    if request_id.strip():
        body["request_id"] = request_id.strip()
    if unit_code.strip():
        body["unit_id"] = rules.unit_id_of(site, unit_code.strip())
    try:
        await services_of(page.request).post("intake", "/duty-log", page.token, body)
    except ServiceError as exc:
        form = {"note": note, "kind": kind, "request_id": request_id, "unit_code": unit_code}
        return await _duty_page(page, site, {"log": exc}, form)
    return redirect(f"/front-desk/duty?site={site}")


@router.post("/duty/handover")
async def hand_over(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)],
    to_agent: Annotated[str, Form(max_length=128)],
    notes: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(KEEP_DUTY)
    # Each open item's next step comes as next_step.<request id>; intake derives what is left blank.
    submitted = await page.request.form()
    steps = {
        str(key).removeprefix("next_step."): str(value)
        for key, value in submitted.multi_items()
        if str(key).startswith("next_step.")
    }
    items = rules.handover_items(steps)
    body = {"site": site, "to_agent": to_agent.strip(), "notes": notes.strip(), "items": items}
    try:
        await services_of(page.request).post("intake", "/handovers", page.token, body)
    except ServiceError as exc:
        return await _duty_page(page, site, {"handover": exc}, {"to_agent": to_agent, "notes": notes})
    return redirect(f"/front-desk/duty?site={site}")


@router.post("/duty/handovers/{handover_id}/accept")
async def accept_handover(
    page: SignedInPage,
    handover_id: Annotated[str, Path(max_length=64)],
    site: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(KEEP_DUTY)
    try:
        await services_of(page.request).post("intake", f"/handovers/{handover_id}/accept", page.token)
    except ServiceError as exc:
        return await _duty_page(page, site, {f"accept-{handover_id}": exc})
    return redirect(f"/front-desk/duty?site={site}")
