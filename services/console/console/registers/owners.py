"""The owners' side of the registers in the portal: authorise a release pass for one's own unit (intake records
the owner's own token as the authorisation) and see the parcels waiting at the front desk."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path
from fastapi.responses import Response

from console.portal.views import OwnerPage
from console.services import ServiceError
from console.web import Page, check_csrf, redirect, services_of

router = APIRouter(prefix="/portal/registers")


async def _owner_registers(page: Page, error: ServiceError | None = None, status_code: int = 200) -> Response:
    """My unit's release passes (those awaiting me first) and the parcels waiting for me."""
    services = services_of(page.request)
    passes: list[dict[str, Any]] = []
    parcels: list[dict[str, Any]] = []
    try:
        passes = (await services.get("intake", "/release-passes", page.token, {"limit": "50"}))["items"]
        parcels = (await services.get("intake", "/parcels", page.token, {"status": "received", "limit": "50"}))["items"]
    except ServiceError as exc:
        error = error or exc
    return page.render(
        "registers/portal.html",
        status_code=(error.status or 502) if error and status_code == 200 else status_code,
        passes=sorted(passes, key=lambda release: release["status"] != "requested"),
        parcels=parcels,
        error=error,
        done=page.request.query_params.get("done", ""),
    )


@router.get("")
async def owner_registers(page: OwnerPage) -> Response:
    return await _owner_registers(page)


@router.post("/release-passes/{number}/authorise")
async def authorise(
    page: OwnerPage,
    number: Annotated[str, Path(max_length=32)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """The owner authorises the pass with their own token (no method: it is them)."""
    check_csrf(page, csrf_token)
    try:
        await services_of(page.request).post("intake", f"/release-passes/{number}/authorise", page.token)
    except ServiceError as exc:
        return await _owner_registers(page, exc, status_code=exc.status or 502)
    return redirect("/portal/registers?done=authorise")
