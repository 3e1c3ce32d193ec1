"""The billing clerk's decoration deposits (押金): those to receive (billing's ``/deposits?status=requested``) with
the receive form (method, reference), and those held or returned with their deductions. Billing keeps deposits
apart from payments and decides every rule; a manager and head office read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response

from console.billing.rules import money
from console.billing.views import METHODS, chosen, site_choices
from console.permissions import RECORD_PAYMENT, SEE_BILLING
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter()
DEPOSIT_STATUSES = ("requested", "paid", "returned")


async def _deposits(
    page: Page, site: str, status: str, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    sites = await site_choices(page)
    site = chosen(site, sites)
    params = {"purpose": "decoration", "status": status, "limit": "200"}
    if site:
        params["site"] = site
    items: list[dict[str, Any]] = []
    error: ServiceError | None = None
    try:
        items = (await services_of(page.request).get("billing", "/deposits", page.token, params))["items"]
    except ServiceError as exc:
        error = exc
    return page.render(
        "decoration/deposits.html",
        status_code=(error.status or 502) if error else status_code,
        items=items,
        error=error,
        errors=errors or {},
        site=site,
        sites=sites,
        status=status,
        statuses=DEPOSIT_STATUSES,
        methods=METHODS,
        may_receive=page.may(RECORD_PAYMENT),
        received=page.request.query_params.get("received", ""),
        money=money,
    )


@router.get("/deposits")
async def deposit_list(
    page: SignedInPage,
    site: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(pattern=r"^(requested|paid|returned)$")] = "requested",
) -> Response:
    page.require(SEE_BILLING)
    return await _deposits(page, site, status)


@router.post("/deposits/{deposit_id}/receive")
async def receive(
    page: SignedInPage,
    deposit_id: Annotated[str, Path(max_length=64)],
    method: Annotated[str, Form(max_length=16)],
    reference: Annotated[str, Form(max_length=64)] = "",
    site: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """The clerk received the deposit; billing issues its deposit receipt."""
    check_csrf(page, csrf_token)
    page.require(RECORD_PAYMENT)
    body: dict[str, Any] = {"method": method}
    if reference.strip():
        body["reference"] = reference.strip()
    try:
        received = await services_of(page.request).post("billing", f"/deposits/{deposit_id}/receive", page.token, body)
    except ServiceError as exc:
        detail = exc.detail if exc.status else page.t("error.service_unavailable", service=exc.service)
        return await _deposits(page, site, "requested", {deposit_id: detail}, status_code=exc.status or 502)
    return redirect(f"/decoration/deposits?site={site}&status=requested&received={received['receipt_no'] or ''}")
