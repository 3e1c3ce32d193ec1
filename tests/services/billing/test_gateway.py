"""billing.gateway: an owner pays online; the gateway's signed callback records the payment exactly once, whatever
it retries (on SQLite and PostgreSQL; the last test against billing on a real port and its sandbox gateway)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from billing.config import billing_settings
from billing.gateway.service import canonical, sign
from billing.main import create
from billing.period.service import period_of, shift_period
from pm_platform.auth import mint_token
from pm_platform.envelope import utcnow
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.sitetime import local_date
from tests.platform.harness import served
from tests.services.billing.helpers import HARBOUR_FEES, UNIT, auth

CALLBACK = "/payment-gateway/callback"
FEE = HARBOUR_FEES[UNIT]


def owner(runtime: Runtime, unit: str = UNIT) -> dict[str, str]:
    token = mint_token(runtime.settings, f"owner.{unit}", ["owner"], ["harbour"], party_id=f"{unit}-owner")
    return {"Authorization": f"Bearer {token}"}


def signed(callback: dict[str, Any], secret: str | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(callback).encode()
    signature = sign(secret or billing_settings().gateway_secret, body)
    return body, {"Content-Type": "application/json", "X-Gateway-Signature": signature}


def paid(order: dict[str, Any], txn: str = "TXN-1", **changes: Any) -> dict[str, Any]:
    return {
        "order_id": order["id"],
        "txn_id": txn,
        "status": "paid",
        "amount_cents": order["amount_cents"],
        "currency": "CNY",
        "paid_at": (utcnow() - timedelta(minutes=5)).isoformat(),
    } | changes


async def issue_next_period(client: httpx.AsyncClient, runtime: Runtime) -> None:
    """Next month's fees, issued today (payments are taken now: the ledger is read as of today)."""
    period = shift_period(period_of(local_date(utcnow(), "Asia/Shanghai")), 1)
    issued = await client.post("/billing-periods", json={"site": "harbour", "period": period}, headers=auth(runtime))
    assert issued.status_code == 201, issued.text


async def account(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, Any]:
    body: dict[str, Any] = (
        await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=auth(runtime))
    ).json()
    return body


async def test_the_gateway_callback_records_the_payment_once_whatever_it_retries(seeded) -> None:
    runtime, client = seeded
    await issue_next_period(client, runtime)
    [bill] = (await client.get("/bills", params={"site": "harbour", "unit_id": UNIT}, headers=owner(runtime))).json()[
        "items"
    ]

    created = await client.post(
        "/payment-orders", json={"site": "harbour", "unit_id": UNIT, "bill_id": bill["id"]}, headers=owner(runtime)
    )
    assert created.status_code == 201, created.text
    order = created.json()
    assert (order["amount_cents"], order["status"], order["bill_id"]) == (FEE, "created", bill["id"])
    link = urlsplit(order["pay_url"])
    params = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert link.path == "/sandbox-gateway/pay" and params["notify_url"].endswith(CALLBACK)
    assert params["sign"] == sign(billing_settings().gateway_secret, canonical(params))  # nobody changes the amount

    # A forged callback records nothing.
    body, headers = signed(paid(order), secret="not-the-secret")
    forged = await client.post(CALLBACK, content=body, headers=headers)
    assert forged.status_code == 401 and forged.headers["content-type"] == PROBLEM_JSON
    assert (await account(client, runtime))["paid_cents"] == 0

    # The gateway sends its callback five times at once, then once more: one payment, one receipt.
    body, headers = signed(paid(order))
    answers = await asyncio.gather(*(client.post(CALLBACK, content=body, headers=headers) for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert (await client.post(CALLBACK, content=body, headers=headers)).json() == {
        "order_id": order["id"],
        "status": "paid",
    }
    after = await account(client, runtime)
    assert (after["paid_cents"], after["balance_cents"]) == (FEE, 0)
    [payment] = after["payments"]
    assert (payment["method"], payment["reference"]) == ("online", "GW-TXN-1")
    read = (await client.get(f"/payment-orders/{order['id']}", headers=owner(runtime))).json()
    assert (read["status"], read["receipt_no"], read["pay_url"]) == ("paid", payment["receipt_no"], None)

    # Another transaction for the paid order is refused (the gateway must refund it), and records nothing.
    body, headers = signed(paid(order, txn="TXN-2"))
    twice = await client.post(CALLBACK, content=body, headers=headers)
    assert twice.status_code == 409 and twice.json()["field"] == "txn_id"
    assert (await account(client, runtime))["paid_cents"] == FEE


async def test_an_order_is_the_owners_own_and_the_gateway_must_agree_on_the_amount(seeded) -> None:
    runtime, client = seeded
    await issue_next_period(client, runtime)
    neighbour = await client.post(
        "/payment-orders", json={"site": "harbour", "unit_id": "harbour-A-0102"}, headers=owner(runtime)
    )
    assert neighbour.status_code == 403
    # A clerk makes an order for a payer at the counter: the unit's balance by default.
    clerk = await client.post("/payment-orders", json={"site": "harbour", "unit_id": UNIT}, headers=auth(runtime))
    assert clerk.status_code == 201 and clerk.json()["amount_cents"] == FEE
    advance = await client.post(
        "/payment-orders", json={"site": "harbour", "unit_id": UNIT, "amount_cents": 50000}, headers=owner(runtime)
    )
    order = advance.json()
    assert (
        await client.get(f"/payment-orders/{order['id']}", headers=owner(runtime, "harbour-A-0102"))
    ).status_code == 403

    body, headers = signed(paid(order, amount_cents=100))
    short = await client.post(CALLBACK, content=body, headers=headers)
    assert short.status_code == 409 and short.json()["field"] == "amount_cents"
    body, headers = signed(paid(order, txn="TXN-DECLINED", status="failed"))
    assert (await client.post(CALLBACK, content=body, headers=headers)).json()["status"] == "failed"
    # The payer tries again and pays: money taken is recorded, even on an order that failed before.
    body, headers = signed(paid(order, txn="TXN-OK"))
    assert (await client.post(CALLBACK, content=body, headers=headers)).json()["status"] == "paid"
    after = await account(client, runtime)
    assert (after["paid_cents"], after["balance_cents"]) == (50000, FEE - 50000)  # paid in advance

    for bad, field in (({"site": "harbour", "unit_id": UNIT, "amount_cents": 0}, "amount_cents"),):
        invalid = await client.post("/payment-orders", json=bad, headers=owner(runtime))
        assert invalid.status_code == 422 and invalid.json()["field"] == field
    unknown = await client.post(CALLBACK, content=signed(paid(order | {"id": "nothing"}))[0], headers=headers)
    assert unknown.status_code == 401  # the body changed: the old signature does not fit it
    body, headers = signed(paid(order | {"id": "nothing"}))
    assert (await client.post(CALLBACK, content=body, headers=headers)).status_code == 404


async def test_an_owner_pays_through_the_sandbox_gateway_end_to_end(seeded) -> None:
    """Billing on a real port: the owner's pay link opens the sandbox gateway's page; paying there posts the
    signed callback back to billing over HTTP and sends the payer back with the order."""
    runtime, _ = seeded
    async with served(create(runtime)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        await issue_next_period(client, runtime)
        order = (
            await client.post(
                "/payment-orders",
                json={"site": "harbour", "unit_id": UNIT, "return_url": "http://portal.example/bills"},
                headers=owner(runtime),
            )
        ).json()
        page = await client.get(order["pay_url"])
        assert page.status_code == 200 and f"¥{FEE // 100}.{FEE % 100:02d}" in page.text
        form = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        tampered = await client.post(
            "/sandbox-gateway/pay", data=form | {"amount_cents": "1", "outcome": "paid"}, follow_redirects=False
        )
        assert tampered.status_code == 400  # the link's signature covers the amount
        back = await client.post("/sandbox-gateway/pay", data=form | {"outcome": "paid"}, follow_redirects=False)
        assert back.status_code == 303
        assert back.headers["location"] == f"http://portal.example/bills?order_id={order['id']}"
        read = (await client.get(f"/payment-orders/{order['id']}", headers=owner(runtime))).json()
        assert read["status"] == "paid" and read["receipt_no"].startswith("HARBOUR-")
        balance = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=auth(runtime))).json()
        assert balance["balance_cents"] == 0
