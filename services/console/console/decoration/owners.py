"""Owners' decoration permits in the portal: their permits, each with its status, dates, deposit and the timeline
from application to refund (read only; intake shows an owner only their own)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from console.billing.rules import money
from console.portal.views import OwnerPage
from console.services import ServiceError
from console.web import services_of

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
