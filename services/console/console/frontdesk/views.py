"""The front desk's request list: intake's GET /requests with the person's own token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from console.permissions import SEE_REQUEST_LIST
from console.services import ServiceError
from console.web import SignedInPage, services_of

router = APIRouter(prefix="/front-desk")

STATUSES = ("new", "acknowledged", "in_progress", "resolved", "followed_up", "closed", "reopened", "cancelled")


def time_limit(item: dict[str, Any]) -> tuple[str, str | None, bool]:
    """The limit a request is running against now: (message key, due time, breached)."""
    if item.get("acknowledged_at") is None and item.get("ack_due_at"):
        return "requests.due_ack", item["ack_due_at"], bool(item.get("ack_breached"))
    if item.get("replied_at") is None and item.get("reply_due_at"):
        return "requests.due_reply", item["reply_due_at"], bool(item.get("reply_breached"))
    return "requests.no_limit", None, False


@router.get("/requests")
async def request_list(
    page: SignedInPage,
    site: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    assert page.account is not None and page.session is not None
    if not set(page.account.roles) & {str(role) for role in SEE_REQUEST_LIST.roles}:
        raise HTTPException(status_code=403, detail="forbidden")
    params = {"limit": "100"}
    if site:
        params["site"] = site
    if status:
        params["status"] = status
    body: dict[str, Any] = {"items": [], "total": 0}
    error: ServiceError | None = None
    try:
        body = await services_of(page.request).get("intake", "/requests", page.session.service_token, params)
    except ServiceError as exc:
        error = exc
    # htmx asks for the table alone when the filter changes; a plain request gets the whole page.
    template = "requests_table.html" if page.request.headers.get("HX-Request") else "requests.html"
    return page.render(
        template,
        items=body.get("items", []),
        total=body.get("total", 0),
        error=error,
        site=site,
        status=status,
        statuses=STATUSES,
        time_limit=time_limit,
        sites=[s for s in page.account.sites if s != "*"],
    )
