"""The billing clerk's screens in a real Chromium against the real stack: accounts and an account's charges,
a payment's printable receipt (amount in figures and capitals), voiding it with billing's refusal in its words,
recording a payment through the form, arrears sorted by amount and age, and an agent kept out.

Billing's demo seed has units but no charges: each test issues a fee period through billing's API first (an
idempotent call: the second time only charges units without it) and pays with its own unique reference."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.console.helpers import screenshot, sign_in
from tests.e2e.conftest import Stack

PERIOD = "2025-03"  # a past month: its fee falls due the grace days after the issue, so later it is overdue


# The tests sign in as the second cashier: the console's sign-in tests lock clerk.harbour's account for a while.
CASHIER = "cashier.harbour"


def clerk_token(stack: Stack) -> dict[str, str]:
    return stack.token(CASHIER, ["billing_clerk"], ["harbour"])


def issue_period(stack: Stack, period: str = PERIOD) -> None:
    issued = httpx.post(
        stack.url("billing", "/billing-periods"), json={"site": "harbour", "period": period}, headers=clerk_token(stack)
    )
    assert issued.status_code in (200, 201), issued.text


def pay(stack: Stack, unit_id: str, amount_cents: int) -> dict[str, Any]:
    """A payment as billing's own tests record one: through its API, with a reference of its own."""
    body = {
        "site": "harbour",
        "unit_id": unit_id,
        "amount_cents": amount_cents,
        "method": "transfer",
        "reference": f"BANK-{uuid.uuid4().hex[:12]}",
    }
    response = httpx.post(stack.url("billing", "/payments"), json=body, headers=clerk_token(stack))
    assert response.status_code == 201, response.text
    payment: dict[str, Any] = response.json()
    return payment


def test_the_clerk_sees_harbours_accounts_and_opens_one_with_its_charges(
    page: Page, console_stack: Stack, tmp_path: Path
) -> None:
    issue_period(console_stack)
    sign_in(page, CASHIER)
    page.get_by_role("navigation").get_by_role("link", name="收费账户").click()
    expect(page.get_by_role("heading", name="收费账户")).to_be_visible()
    for unit in ("harbour-A-0101", "harbour-A-0102", "harbour-A-1201", "harbour-B-0301", "harbour-B-0302"):
        expect(page.locator(f"#account-{unit}")).to_be_visible()
    expect(page.locator("#account-harbour-A-0102")).to_contain_text("Wang Fang")

    # The unit search narrows the list in place.
    page.get_by_label("房号").fill("A-0102")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#account-harbour-A-0101")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"unit=A-0102"))
    page.get_by_role("link", name="harbour-A-0102").click()

    expect(page.get_by_role("heading", name="账户 harbour-A-0102")).to_be_visible()
    charges = page.get_by_role("table", name="应收费用")
    row = charges.get_by_role("row").filter(has_text=PERIOD)
    expect(row).to_contain_text("物业管理费")
    expect(row).to_contain_text("¥336.00")  # 120.00 m² x 2.80
    expect(page.locator("#arrears-status")).to_be_visible()
    expect(page.get_by_role("heading", name="收款记录")).to_be_visible()
    assert screenshot(page, "console-billing", tmp_path).stat().st_size < 100_000


def test_a_receipt_shows_the_amount_in_figures_and_capitals_and_a_void_shows_on_it(
    page: Page, console_stack: Stack
) -> None:
    issue_period(console_stack)
    payment = pay(console_stack, "harbour-A-1201", 1_234_505)  # ¥12,345.05
    sign_in(page, CASHIER)
    page.goto("/billing/payments")
    page.locator(f"#payment-{payment['id']}").get_by_role("link", name=payment["receipt_no"]).click()
    expect(page.get_by_role("heading", name=f"收款 {payment['receipt_no']}")).to_be_visible()
    page.get_by_role("link", name="打印收据").click()

    receipt = page.get_by_role("article", name="收款收据")
    expect(receipt).to_contain_text(f"No. {payment['receipt_no']}")
    expect(page.locator("#receipt-figures")).to_have_text("¥12,345.05")
    expect(page.locator("#receipt-capitals")).to_have_text("壹万贰仟叁佰肆拾伍元零伍分")
    expect(page.locator("#receipt-payer")).to_have_text("Zhang Min")
    expect(page.locator("#receipt-unit")).to_contain_text("harbour-A-1201")
    expect(page.locator("#receipt-issuer")).to_contain_text("Harbour View Gardens")
    expect(page.locator("#receipt-items tbody tr").first).to_be_visible()
    expect(page.locator("#receipt-date")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    page.emulate_media(media="print")  # on paper the console's bars are gone, the receipt stays
    expect(page.get_by_role("navigation")).to_be_hidden()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    for part in ("#receipt-issuer", "#receipt-title", "#receipt-items", "#receipt-capitals"):
        expect(page.locator(part)).to_be_visible()
    page.emulate_media(media="screen")

    # Void it: billing refuses a reason too short, in its own words, next to the reason.
    page.get_by_role("link", name="返回收款").click()
    page.get_by_label("作废原因").fill("no")
    page.get_by_role("button", name="作废").click()
    expect(page.locator("#error-reason")).to_contain_text("reason")
    expect(page.locator("#payment-state")).to_have_text("有效")
    page.get_by_label("作废原因").fill("Entered against the wrong unit")
    page.get_by_role("button", name="作废").click()
    expect(page.locator("#payment-state")).to_have_text("已作废")
    expect(page.locator("#void-reason")).to_have_text("Entered against the wrong unit")
    expect(page.get_by_role("button", name="作废")).to_have_count(0)
    page.get_by_role("link", name="打印收据").click()
    expect(page.locator("#void-stamp")).to_be_visible()
    page.goto("/billing/payments")
    expect(page.locator(f"#payment-{payment['id']}")).to_contain_text("已作废")


def test_the_clerk_records_a_payment_and_billing_refuses_a_reused_reference_in_its_words(
    page: Page, console_stack: Stack
) -> None:
    issue_period(console_stack)
    reference = f"CASH-{uuid.uuid4().hex[:10]}"
    sign_in(page, CASHIER)
    page.goto("/billing/accounts/harbour-B-0301?site=harbour")
    page.get_by_role("link", name="登记收款").click()
    expect(page.get_by_label("房号")).to_have_value("harbour-B-0301")
    page.get_by_label("金额").fill("fifty")
    page.get_by_label("付款方式").select_option("cash")
    page.get_by_label("交易/凭证号").fill(reference)
    page.get_by_role("button", name="登记").click()
    expect(page.locator("#error-amount")).to_contain_text("最多两位小数")

    page.get_by_label("金额").fill("50.5")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("heading", name=re.compile(r"^收款 HARBOUR-\d{6}$"))).to_be_visible()
    expect(page.locator("dl.billing-facts")).to_contain_text("¥50.50")
    expect(page.locator("dl.billing-facts")).to_contain_text("现金")

    # The same reference for another amount is another payment: billing's 409, shown by the reference.
    page.goto("/billing/payments/new?site=harbour&unit_id=harbour-B-0301")
    page.get_by_label("金额").fill("60")
    page.get_by_label("交易/凭证号").fill(reference)
    page.get_by_role("button", name="登记").click()
    expect(page.locator("#error-reference")).to_contain_text(f"reference {reference} was already used")


def test_arrears_sort_by_amount_and_by_age_with_the_collection_rate(page: Page, console_stack: Stack) -> None:
    issue_period(console_stack)
    issue_period(console_stack, "2025-04")
    # Issued today, the fees fall due after the grace days: two months on, every unpaid unit is overdue.
    later = (date.today() + timedelta(days=60)).isoformat()
    sign_in(page, "manager.harbour")
    page.get_by_role("navigation").get_by_role("link", name="欠费与收缴率").click()
    page.get_by_label("截至日期").fill(later)
    page.get_by_label("排序").select_option("amount")
    page.get_by_role("button", name="查询").click()
    rows = page.locator("#arrears tbody tr")
    expect(rows.first).to_be_visible()
    overdue = [int(value) for value in rows.evaluate_all("rows => rows.map(r => r.dataset.overdue)")]
    assert overdue == sorted(overdue, reverse=True) and overdue[0] > 0

    page.get_by_role("link", name="逾期天数").click()
    expect(page.get_by_role("columnheader", name="逾期天数")).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"sort=age"))
    days = [int(value) for value in rows.evaluate_all("rows => rows.map(r => r.dataset.days)")]
    assert days == sorted(days, reverse=True) and days[0] >= 1
    expect(page.locator("#arrears-summary")).to_contain_text(later)
    expect(page.get_by_role("table", name="各月收缴率")).to_be_visible()


def test_an_agent_cannot_open_the_billing_screens(page: Page) -> None:
    sign_in(page, "agent.harbour")
    expect(page.get_by_role("heading", name="我的工作台")).to_be_visible()
    expect(page.get_by_role("link", name="收费账户")).to_have_count(0)
    for path in ("/billing", "/billing/accounts", "/billing/payments", "/billing/arrears"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path


def test_head_office_picks_any_site_and_a_manager_reads_without_recording(page: Page, console_stack: Stack) -> None:
    sign_in(page, "ho")
    page.goto("/billing/accounts")
    page.get_by_label("项目").select_option("riverside")  # head office's sites come from intake
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#account-riverside-T1-1501")).to_contain_text("Zhao Lei")
    expect(page.locator("#account-harbour-A-0101")).to_have_count(0)
    page.get_by_role("button", name="退出登录").click()

    sign_in(page, "manager.harbour")
    page.goto("/billing/accounts/harbour-A-0101?site=harbour")
    expect(page.get_by_role("heading", name="账户 harbour-A-0101")).to_be_visible()
    expect(page.get_by_role("link", name="登记收款")).to_have_count(0)  # recording a payment is the clerk's
    refused = page.goto("/billing/payments/new")
    assert refused is not None and refused.status == 403


def test_a_clerk_asks_for_a_refund_and_a_manager_approves_it_in_the_queue(page: Page, console_stack: Stack) -> None:
    payment = pay(console_stack, "harbour-A-0102", 20_000)  # ¥200.00
    sign_in(page, CASHIER)
    page.goto(f"/billing/payments/{payment['id']}")
    expect(page.locator("#no-refunds")).to_be_visible()
    form = page.locator("#refund-form")
    # More than was paid: billing's refusal, in its words, by the amount.
    form.get_by_label("金额").fill("250.00")
    form.get_by_label("退款原因").fill("Paid twice: by transfer and in cash")
    form.get_by_role("button", name="提交退款申请").click()
    expect(page.locator("#error-refund-amount")).to_contain_text("at most 20000")
    form.get_by_label("金额").fill("50.00")
    form.get_by_role("button", name="提交退款申请").click()
    row = page.locator("#payment-refunds tbody tr").first
    expect(row).to_have_attribute("data-status", "requested")
    expect(row).to_contain_text("Paid twice: by transfer and in cash")

    page.context.clear_cookies()
    sign_in(page, "manager.harbour")
    page.get_by_role("navigation").get_by_role("link", name="退款审批").click()
    queued = page.locator("#refund-table tr", has_text=payment["receipt_no"])
    expect(queued).to_have_attribute("data-status", "requested")
    queued.get_by_label("审批意见").fill("Checked the bank statement")
    queued.get_by_role("button", name="批准退款").click()
    expect(page.locator("#refund-table tr", has_text=payment["receipt_no"])).to_have_count(0)  # out of the queue
    page.get_by_label("状态").select_option("approved")
    page.get_by_role("button", name="查询").click()
    approved = page.locator("#refund-table tr", has_text=payment["receipt_no"])
    expect(approved).to_contain_text("已批准")
    expect(approved).to_contain_text("manager.harbour")
    approved.get_by_role("link", name="harbour-A-0102").click()
    expect(page.locator("#account-refunded")).to_contain_text("50.00")
