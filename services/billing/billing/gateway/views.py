from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from billing.account.service import check_owner
from billing.config import billing_settings
from billing.gateway import service
from billing.gateway.models import GatewayCallback, PaymentOrder, PaymentOrderCreate, PaymentOrderRead
from billing.permissions import PAY_ONLINE
from pm_platform.app import SessionDep, UowDep
from pm_platform.auth import Principal, require
from pm_platform.db import get_in_scope
from pm_platform.problems import Problem

router = APIRouter(tags=["online payment"])
PayOnline = Annotated[Principal, Depends(require(PAY_ONLINE))]


async def order_in_scope(order_id: str, session: SessionDep, principal: PayOnline) -> PaymentOrder:
    order = await get_in_scope(session, PaymentOrder, order_id, principal, what="payment order")
    await check_owner(session, principal, order.unit_id)
    return order


OrderInScope = Annotated[PaymentOrder, Depends(order_in_scope)]


@router.post("/payment-orders", response_model=PaymentOrderRead, status_code=201)
async def create_order(body: PaymentOrderCreate, request: Request, uow: UowDep, principal: PayOnline) -> Any:
    """An order to pay online (an owner for their own unit): send the payer to ``pay_url``; the gateway's signed
    callback records the payment and its receipt."""
    settings = billing_settings()
    order = await service.create_order(uow, principal, body, settings)
    return await service.order_read(uow.session, order, service.pay_link(settings, str(request.base_url), order))


@router.get("/payment-orders/{order_id}", response_model=PaymentOrderRead)
async def get_order(order: OrderInScope, request: Request, session: SessionDep) -> Any:
    """The order's status (and its receipt once paid): what the payer's return page shows."""
    return await service.order_read(session, order, service.pay_link(billing_settings(), str(request.base_url), order))


@router.post(
    service.CALLBACK_PATH,
    responses={401: {"description": "The signature is missing or wrong: nothing was recorded"}},
)
async def gateway_callback(
    body: GatewayCallback,
    request: Request,
    uow: UowDep,
    x_gateway_signature: Annotated[str, Header(description="hex HMAC-SHA256 of the raw body")] = "",
) -> dict[str, str]:
    """The payment gateway's notification (no token: its signature is the authentication). Answered 200 for a
    settled order however often it is sent; the gateway retries anything else."""
    if not service.signature_ok(billing_settings().gateway_secret, await request.body(), x_gateway_signature):
        raise Problem(401, "the callback's signature does not match its body", field="x-gateway-signature")
    order = await service.settle(uow, body)
    return {"order_id": order.id, "status": order.status}
