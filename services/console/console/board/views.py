"""The supervisor's board (/board?site=...): requests by status, time limits, department queues, nonconformance
slips and follow-ups due, each section re-fetched when a live event (console.live) says it changed."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response

from console.board import service
from console.board.rules import Alert, alert_of
from console.permissions import SEE_BOARD
from console.services import ServiceError
from console.web import Page, SignedInPage, redirect, services_of

router = APIRouter(prefix="/board")

SiteParam = Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")]


def _site_or_refuse(page: Page, site: str) -> None:
    """A site the person works at (the services would refuse the rest too; this says so before calling)."""
    assert page.account is not None
    if "*" not in page.account.sites and site not in page.account.sites:
        raise HTTPException(status_code=403, detail="forbidden")


@router.get("")
async def board(page: SignedInPage, site: SiteParam = "") -> Response:
    page.require(SEE_BOARD)
    assert page.account is not None
    own_sites = [s for s in page.account.sites if s != "*"]
    if not site:
        if own_sites:
            return redirect(f"/board?site={own_sites[0]}")
        return page.render("board/choose_site.html")  # head office: all sites, none by default
    _site_or_refuse(page, site)
    sections = await service.load(services_of(page.request), page.token, site)
    return page.render("board/board.html", site=site, sites=own_sites, sections=sections, statuses=service.STATUSES)


@router.get("/sections/{name}")
async def section(page: SignedInPage, name: Annotated[str, Path(max_length=32)], site: SiteParam) -> Response:
    """One section alone: what htmx swaps in when an event arrives (a plain request gets it too)."""
    page.require(SEE_BOARD)
    if name not in service.SECTIONS or not site:
        raise HTTPException(status_code=404, detail="not found")
    _site_or_refuse(page, site)
    found = await service.load(services_of(page.request), page.token, site, (name,))
    return page.render(f"board/{name}.html", site=site, section=found[name], statuses=service.STATUSES)


@router.get("/alert")
async def alert(page: SignedInPage, site: SiteParam, event: Annotated[str, Query(max_length=2000)] = "{}") -> Response:
    """One line for the board's alert list from a live time-limit event: the event names the request or work
    order, and the service (with the person's token) says what it is, so a forged event shows nothing."""
    page.require(SEE_BOARD)
    _site_or_refuse(page, site)
    try:
        data: Any = json.loads(event)
    except ValueError:
        data = None
    found: Alert | None = alert_of(data) if isinstance(data, dict) else None
    if found is None or found.site != site:
        return Response(status_code=204)
    services = services_of(page.request)
    try:
        if found.work_order_id:
            subject = await services.get("dispatch", f"/work-orders/{found.work_order_id}", page.token)
        else:
            subject = await services.get("intake", f"/requests/{found.request_id}", page.token)
    except ServiceError:
        return Response(status_code=204)
    return page.render("board/alert.html", alert=found, subject=subject)
