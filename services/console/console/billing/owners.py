"""An owner's bill in the portal: the same printable statement and PDF the billing staff see, and paying it online.
Billing shows an owner only their own unit's bills (a neighbour's is its 403, shown in its words); the list is on
我的账单 (/portal/account). Paying sends the owner to the payment gateway's page; the gateway tells billing, and
sends the owner back here with the order, whose status this page then shows."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import RedirectResponse, Response

from console.billing.bills import pdf_file, statement
from console.billing.views import render
from console.portal.views import OwnerPage
from console.services import ServiceError
from console.web import check_csrf, services_of

router = APIRouter(prefix="/portal/bills")


@router.get("/{bill_id}")
async def my_bill(
    page: OwnerPage,
    bill_id: Annotated[str, Path(max_length=64)],
    order_id: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    order = None
    if order_id:  # back from the gateway: what became of the payment
        try:
            order = await services_of(page.request).get("billing", f"/payment-orders/{order_id}", page.token)
        except ServiceError:
            order = None
    return await statement(page, bill_id, "billing/portal_bill.html", order=order)


@router.get("/{bill_id}/pdf")
async def my_bill_pdf(page: OwnerPage, bill_id: Annotated[str, Path(max_length=64)]) -> Response:
    """The owner's bill as billing's PDF, in their language (billing refuses a neighbour's)."""
    try:
        return await pdf_file(page, f"/bills/{quote(bill_id)}/pdf", f"bill-{bill_id}.pdf")
    except ServiceError as exc:
        return render(page, "billing/portal_bill.html", exc, bill=None)


@router.post("/{bill_id}/pay")
async def pay_online(
    page: OwnerPage,
    bill_id: Annotated[str, Path(max_length=64)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """An online payment of what the bill asks for: billing makes the order, the owner goes to the gateway."""
    check_csrf(page, csrf_token)
    services = services_of(page.request)
    back = str(page.request.url_for("my_bill", bill_id=bill_id))
    try:
        bill = await services.get("billing", f"/bills/{bill_id}", page.token)
        order = await services.post(
            "billing",
            "/payment-orders",
            page.token,
            {"site": bill["site"], "unit_id": bill["unit_id"], "bill_id": bill_id, "return_url": back},
        )
    except ServiceError as exc:
        return render(page, "billing/portal_bill.html", exc, bill=None)
    return RedirectResponse(order["pay_url"], status_code=303)
