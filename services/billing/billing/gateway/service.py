"""Online payment: orders, the signed pay link, and the gateway's callback that settles an order exactly once.

Why HMAC-SHA256 over the raw body, by hand: it is the scheme payment gateways use (Alipay and WeChat Pay sign their
notifications; a shared-secret HMAC is their simplest form); hmac.compare_digest keeps the check constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.service import check_owner, site_currency, unit_ledger
from billing.bill.models import Bill
from billing.config import BillingSettings
from billing.directory.models import Unit
from billing.gateway.models import GatewayCallback, OrderStatus, PaymentOrder, PaymentOrderCreate, PaymentOrderRead
from billing.payment.models import Payment, PaymentCreate
from billing.payment.service import insert_payment
from pm_platform.auth import Principal
from pm_platform.envelope import as_utc, new_id, utcnow
from pm_platform.errors import Conflict, Invalid, NotFound
from pm_platform.uow import UnitOfWork

SANDBOX_PATH = "/sandbox-gateway/pay"
CALLBACK_PATH = "/payment-gateway/callback"


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_ok(secret: str, message: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, message), signature)


def canonical(params: dict[str, str]) -> bytes:
    """The pay link's parameters as they are signed: sorted by name, form-encoded."""
    return urlencode(sorted((k, v) for k, v in params.items() if k != "sign")).encode()


def pay_link(settings: BillingSettings, base_url: str, order: PaymentOrder) -> str:
    """Where the payer pays: the gateway's page, with the order, the amount, where to call back and where to return,
    signed so that nobody changes the amount on the way."""
    public = (settings.public_url or base_url).rstrip("/")
    params = {
        "order_id": order.id,
        "amount_cents": str(order.amount_cents),
        "currency": order.currency,
        "notify_url": public + CALLBACK_PATH,
    }
    if order.return_url:
        params["return_url"] = order.return_url
    params["sign"] = sign(settings.gateway_secret, canonical(params))
    return (settings.gateway_url or public + SANDBOX_PATH) + "?" + urlencode(params)


def status_of(order: PaymentOrder, now: datetime) -> OrderStatus:
    if order.status == OrderStatus.created and now >= as_utc(order.expires_at):
        return OrderStatus.expired
    return OrderStatus(order.status)


async def order_read(session: AsyncSession, order: PaymentOrder, pay_url: str | None = None) -> PaymentOrderRead:
    status = status_of(order, utcnow())
    payment = await session.get(Payment, order.payment_id) if order.payment_id else None
    return PaymentOrderRead(
        id=order.id,
        site=order.site,
        unit_id=order.unit_id,
        bill_id=order.bill_id,
        amount_cents=order.amount_cents,
        currency=order.currency,
        status=status,
        created_at=order.created_at,
        expires_at=order.expires_at,
        payment_id=order.payment_id,
        receipt_no=payment.receipt_no if payment else None,
        pay_url=pay_url if status == OrderStatus.created else None,
    )


async def create_order(
    uow: UnitOfWork, principal: Principal, request: PaymentOrderCreate, settings: BillingSettings
) -> PaymentOrder:
    """An order to pay online: the amount asked, or the bill's amount due, or the unit's balance."""
    principal.check_site(request.site)
    await check_owner(uow.session, principal, request.unit_id)
    unit = await uow.session.get(Unit, request.unit_id)
    if unit is None or unit.site != request.site:
        raise NotFound(f"unit {request.unit_id} is not known at site {request.site}", field="unit_id")
    amount = request.amount_cents
    if request.bill_id:
        bill = await uow.session.get(Bill, request.bill_id)
        if bill is None or bill.unit_id != request.unit_id:
            raise NotFound(f"bill {request.bill_id} of unit {request.unit_id}", field="bill_id")
        amount = amount or bill.amount_due_cents
    if amount is None:
        amount = (await unit_ledger(uow.session, request.site, request.unit_id)).balance_cents
    if amount <= 0:
        raise Invalid("nothing is owed: give the amount to pay in advance", field="amount_cents")
    now = utcnow()
    order = PaymentOrder(
        id=new_id(),
        site=request.site,
        unit_id=request.unit_id,
        bill_id=request.bill_id,
        return_url=request.return_url,
        amount_cents=amount,
        currency=await site_currency(uow.session, request.site),
        status=OrderStatus.created.value,
        created_by=principal.subject,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.order_minutes),
    )
    uow.session.add(order)
    await uow.commit()
    return order


async def settle(uow: UnitOfWork, callback: GatewayCallback) -> PaymentOrder:
    """The gateway's (signature-checked) callback: a paid order records its payment once, whatever the gateway
    retries; a second transaction for a paid order, or another amount, is refused and recorded nowhere."""
    order = await uow.session.get(PaymentOrder, callback.order_id, with_for_update=True)
    if order is None:
        raise NotFound("payment order", callback.order_id, field="order_id")
    if order.status == OrderStatus.paid:
        if order.gateway_txn_id != callback.txn_id:
            raise Conflict(
                f"order {order.id} was paid by transaction {order.gateway_txn_id}: refund {callback.txn_id}",
                field="txn_id",
            )
        return order  # the gateway retried: settled already
    if (callback.amount_cents, callback.currency) != (order.amount_cents, order.currency):
        raise Conflict(
            f"order {order.id} is for {order.amount_cents} {order.currency}, the gateway says "
            f"{callback.amount_cents} {callback.currency}",
            field="amount_cents",
        )
    now = utcnow()
    if callback.status == "failed":
        order.status, order.settled_at = OrderStatus.failed.value, now
        await uow.commit()
        return order
    # Paid, even after the order expired or failed before: the money was taken, so it is recorded.
    gateway = Principal(subject="payment-gateway", roles=frozenset(), sites=frozenset({order.site}))
    request = PaymentCreate(
        site=order.site,
        unit_id=order.unit_id,
        amount_cents=order.amount_cents,
        currency=order.currency,
        method="online",
        reference=f"GW-{callback.txn_id}",
        note=f"online order {order.id}" + (f", bill {order.bill_id}" if order.bill_id else ""),
    )
    received_at = min(callback.paid_at or now, now)
    try:
        payment = await insert_payment(uow, gateway, request, received_at, now)
        order.status, order.settled_at = OrderStatus.paid.value, now
        order.gateway_txn_id, order.payment_id = callback.txn_id, payment.id
        await uow.commit()
    except IntegrityError:
        # A concurrent delivery of the same callback settled it first (SQLite has no row lock to wait on).
        await uow.session.rollback()
        settled = (await uow.session.scalars(select(PaymentOrder).where(PaymentOrder.id == callback.order_id))).one()
        await uow.session.refresh(settled)
        if settled.status != OrderStatus.paid or settled.gateway_txn_id != callback.txn_id:
            raise
        return settled
    return order
