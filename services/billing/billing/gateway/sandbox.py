"""The sandbox payment gateway (development, `make run`): it plays a real gateway's part so that an owner can pay
online end to end with nothing outside this machine. The pay link opens a page to pay or decline; the choice is
sent to billing's callback, signed with the shared secret, exactly as a gateway would, then the payer goes back.
It is off (404) as soon as a real gateway is configured (PM_BILLING_GATEWAY_URL)."""

from __future__ import annotations

import asyncio
import html
import json
from typing import Any
from urllib.parse import parse_qsl

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from billing.config import billing_settings
from billing.gateway.service import SANDBOX_PATH, canonical, sign, signature_ok
from pm_platform.envelope import new_id, utcnow
from pm_platform.money import yuan
from pm_platform.problems import Problem

router = APIRouter(tags=["sandbox gateway"], include_in_schema=False)
CALLBACK_ATTEMPTS = 3


def _checked(params: dict[str, str]) -> dict[str, str]:
    settings = billing_settings()
    if settings.gateway_url:
        raise Problem(404, "the sandbox gateway is off: a real gateway is configured")
    if not signature_ok(settings.gateway_secret, canonical(params), params.get("sign", "")):
        raise Problem(400, "the pay link's signature does not match it", field="sign")
    return params


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,"WenQuanYi Micro Hei",sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}
.amount{{font-size:2rem;font-weight:600}} button{{font-size:1.1rem;padding:.5rem 1.5rem;margin-right:.5rem}}
.note{{color:#666;font-size:.85rem}}</style></head><body><main>{body}</main></body></html>"""
    )


@router.get(SANDBOX_PATH)
async def pay_page(request: Request) -> HTMLResponse:
    params = _checked(dict(request.query_params))
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
    )
    return _page(
        "沙箱支付 Sandbox payment",
        f"""<h1>沙箱支付 Sandbox payment</h1>
<p>订单 Order <code>{html.escape(params["order_id"])}</code></p>
<p class="amount">¥{yuan(int(params["amount_cents"]))}</p>
<form method="post">{hidden}
<button name="outcome" value="paid">支付 Pay</button><button name="outcome" value="failed">拒绝 Decline</button></form>
<p class="note">This page stands in for a payment gateway (development only): no money moves.</p>""",
    )


@router.post(SANDBOX_PATH)
async def pay(request: Request) -> Response:
    form = dict(parse_qsl((await request.body()).decode()))
    outcome = form.pop("outcome", "paid")
    params = _checked(form)
    callback: dict[str, Any] = {
        "order_id": params["order_id"],
        "txn_id": "SBX" + new_id()[:24],
        "status": "paid" if outcome == "paid" else "failed",
        "amount_cents": int(params["amount_cents"]),
        "currency": params["currency"],
        "paid_at": utcnow().isoformat(),
    }
    answer = await notify(params["notify_url"], json.dumps(callback).encode())
    if params.get("return_url"):
        separator = "&" if "?" in params["return_url"] else "?"
        return RedirectResponse(f"{params['return_url']}{separator}order_id={params['order_id']}", status_code=303)
    done = "已支付 Paid" if callback["status"] == "paid" and answer == 200 else "未支付 Not paid"
    return _page(done, f"<h1>{done}</h1><p>billing answered {answer}</p>")


async def notify(url: str, body: bytes) -> int:
    """Post the signed callback as a gateway does: again after a failure, a few times."""
    headers = {"Content-Type": "application/json", "X-Gateway-Signature": sign(billing_settings().gateway_secret, body)}
    status = 0
    async with httpx.AsyncClient(timeout=10) as client:
        for attempt in range(CALLBACK_ATTEMPTS):
            try:
                status = (await client.post(url, content=body, headers=headers)).status_code
            except httpx.HTTPError:
                status = 0
            if status == 200:
                break
            await asyncio.sleep(0.2 * (attempt + 1))
    return status
