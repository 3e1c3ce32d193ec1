"""Cash on site in a real Chromium against the real stack: the engineer who completed a paid repair opens it on the
phone, takes the cash (billing refuses more than is unpaid, by the amount) and shows the printable receipt; a clerk,
in English, finds the engineer's cash of the day, is refused a count that does not balance (by how much, next to the
count) and records the handover once it does."""

# Chinese labels use Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.console.helpers import screenshot, sign_in
from tests.console.test_billing import CASHIER, clerk_token
from tests.console.test_worker import engineer, record_repair, work_order_for
from tests.e2e.conftest import Stack, eventually, items


def completed_with_charge(stack: Stack) -> dict[str, Any]:
    """A repair in A-0101 the engineer claimed and completed with two tap cartridges (¥160.00), through dispatch."""
    order = work_order_for(stack, record_repair(stack, f"洗手盆龙头漏水 {uuid.uuid4().hex[:8]}"))
    for command, body in (
        ("claim", None),
        ("complete", {"result": "更换阀芯", "parts": ["阀芯"], "charge": {"code": "tap_cartridge", "quantity": 2}}),
    ):
        response = httpx.post(
            stack.url("dispatch", f"/work-orders/{order['id']}/{command}"), json=body, headers=engineer(stack)
        )
        assert response.status_code == 200, response.text
    return order


def repair_charge(stack: Stack, work_order_id: str) -> dict[str, Any]:
    def read() -> dict[str, Any] | None:
        response = httpx.get(
            stack.url("billing", "/charges"),
            params={"site": "harbour", "kind": "repair", "limit": "500"},
            headers=clerk_token(stack),
        )
        return next((c for c in items(response.json()) if c["work_order_id"] == work_order_id), None)

    found: dict[str, Any] = eventually(read, timeout=30)
    return found


def test_the_engineer_takes_a_repairs_cash_and_a_clerk_records_the_days_handover(
    phone: Page, page: Page, console_stack: Stack, tmp_path: Path
) -> None:
    order = completed_with_charge(console_stack)
    charge = repair_charge(console_stack, order["id"])
    assert charge["amount_cents"] == 16000

    sign_in(phone, "eng.harbour")
    phone.goto(f"/work/orders/{order['id']}")
    phone.get_by_role("link", name="收取本单维修费").tap()
    card = phone.locator(f"#cash-due-{charge['id']}")
    expect(card).to_contain_text("未付 ¥160.00")
    expect(card.get_by_label("实收现金（元）")).to_have_value("160.00")
    card.get_by_label("实收现金（元）").fill("999")
    card.get_by_role("button", name="收取现金并开具收据").tap()
    expect(phone.locator(f"#error-amount-{charge['id']}")).to_contain_text("more than the 160.00 outstanding")
    expect(phone.locator(f"#cash-due-{charge['id']}").get_by_label("实收现金（元）")).to_have_value("999")
    assert screenshot(phone, "console-cash", tmp_path).stat().st_size < 100_000

    phone.locator(f"#cash-due-{charge['id']}").get_by_label("实收现金（元）").fill("160")
    phone.locator(f"#cash-due-{charge['id']}").get_by_role("button", name="收取现金并开具收据").tap()
    expect(phone).to_have_url(re.compile(r"/work/cash/receipts/"))
    receipt = phone.get_by_role("article", name="收款收据")
    expect(receipt).to_contain_text("HARBOUR-")
    expect(phone.locator("#receipt-figures")).to_have_text("¥160.00")
    expect(phone.locator("#receipt-capitals")).to_have_text("壹佰陆拾元整")
    expect(phone.locator("#receipt-items")).to_contain_text("¥160.00")
    expect(receipt).to_contain_text("eng.harbour")  # the cashier on the receipt is the engineer
    receipt_no = (receipt.locator(".receipt-no").text_content() or "").split()[-1]
    phone.get_by_role("link", name="返回收现金").tap()
    expect(phone.locator(f"#cash-due-{charge['id']}")).to_have_count(0)  # paid: nothing left to take
    expect(phone.locator("#on-hand")).to_contain_text(receipt_no)

    # The clerk, in English: the engineer's cash of the day, counted.
    sign_in(page, CASHIER)
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    page.get_by_role("navigation").get_by_role("link", name="Cash handover").click()
    expect(page.get_by_role("heading", name="Cash handover", level=1)).to_be_visible()
    group = page.locator('tr.cash-group[data-worker="eng.harbour"]')
    expect(group).to_contain_text(receipt_no)
    expected = group.locator(".cash-expected").text_content() or ""
    total_cents = int(expected.replace("¥", "").replace(",", "").replace(".", ""))
    group.get_by_label("Counted (yuan)").fill(f"{(total_cents - 100) / 100:.2f}")
    group.get_by_role("button", name="Record handover").click()
    group = page.locator('tr.cash-group[data-worker="eng.harbour"]')
    expect(group.locator(".error")).to_contain_text("1.00 short")
    expect(page.locator("#recent-empty, #recent")).to_have_count(1)
    assert screenshot(page, "console-cash-handover", tmp_path).stat().st_size < 100_000

    group.get_by_label("Counted (yuan)").fill(f"{total_cents / 100:.2f}")
    group.get_by_role("button", name="Record handover").click()
    expect(page.locator("#handover-done")).to_have_text("Handover recorded.")
    expect(page.locator('tr.cash-group[data-worker="eng.harbour"]')).to_have_count(0)
    expect(page.locator("#recent")).to_contain_text("eng.harbour")

    phone.reload()
    expect(phone.locator("#on-hand-empty")).to_be_visible()
