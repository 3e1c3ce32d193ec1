"""Other income in a real Chromium against the real stack: a manager signs an advertising contract with an outside
renter (a form the console cannot read refused by its input) and ends it early in its row (an end before its start
refused there); the clerk takes the rent of an unpaid month with billing's receipt (the same month again is refused
by the contract, in billing's words) and prints it, finds the receipt among the month's and voids it with the reason
(printed again, it says void); an agent has no such screen."""

# Chinese labels use Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

import uuid
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.console.helpers import sign_in
from tests.e2e.conftest import Stack

SCREEN = "经营收入"


def test_a_manager_signs_a_contract_and_the_clerk_takes_and_voids_its_rent(page: Page, console_stack: Stack) -> None:
    tag = uuid.uuid4().hex[:6]
    month_start = date.today().replace(day=1)
    sign_in(page, "manager.harbour")
    page.get_by_role("navigation").get_by_role("link", name=SCREEN).click()
    expect(page.get_by_role("heading", name=SCREEN, exact=True)).to_be_visible()
    page.get_by_text("签订租赁合同").click()
    form = page.locator("#contract-form")
    form.get_by_label("类别").select_option("advertising")
    form.get_by_label("租赁物").fill(f"A座1号梯轿厢广告位 {tag}")
    form.get_by_label("外部承租方名称").fill(f"Acme Media {tag}")
    form.get_by_label("起租日").fill(month_start.isoformat())
    form.get_by_label("到期日").fill(month_start.replace(year=month_start.year + 1).isoformat())
    form.get_by_label("每周期租金").fill("1,500.5x")
    form.get_by_role("button", name="签订合同").click()
    expect(page.locator("#error-rent")).to_contain_text("最多两位小数")
    expect(form.get_by_label("外部承租方名称")).to_have_value(f"Acme Media {tag}")  # the form comes back as sent
    form.get_by_label("每周期租金").fill("1,500")
    form.get_by_role("button", name="签订合同").click()
    expect(page.locator("#income-notice")).to_contain_text("合同已签订")
    contract = page.locator("#contracts tbody tr", has_text=tag)
    expect(contract).to_contain_text("¥1,500.00")
    expect(contract).to_contain_text(f"{month_start:%Y-%m}")  # this month's rent is unpaid
    # The renter leaves early: the manager ends the contract in its row (an end before its start refused by billing,
    # in the row, with what was sent).
    contract.locator("summary", has_text="变更").click()
    contract.get_by_label("到期日").fill("2000-01-31")
    contract.get_by_label("备注").fill(f"提前解约 {tag}")
    contract.get_by_role("button", name="保存变更").click()
    contract = page.locator("#contracts tbody tr", has_text=tag)
    expect(contract.get_by_role("alert")).to_contain_text("ends on or after its first day")
    expect(contract.get_by_label("备注")).to_have_value(f"提前解约 {tag}")
    ends = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)  # this month's last
    contract.get_by_label("到期日").fill(ends.isoformat())
    contract.get_by_role("button", name="保存变更").click()
    expect(page.locator("#income-notice")).to_contain_text("租约已变更")
    contract = page.locator("#contracts tbody tr", has_text=tag)
    expect(contract).to_contain_text(f"{month_start.isoformat()} – {ends.isoformat()}")
    expect(contract).to_contain_text(f"提前解约 {tag}")

    page.context.clear_cookies()
    sign_in(page, "cashier.harbour")
    page.goto("/billing/income")
    contract = page.locator("#contracts tbody tr", has_text=tag)
    stale = contract.locator("form").evaluate("form => form.outerHTML")  # to send again below
    contract.get_by_label("周期").select_option(f"{month_start:%Y-%m}")
    contract.get_by_label("付款方式").select_option("card")
    contract.get_by_role("button", name="收取租金").click()
    expect(page.locator("#income-notice")).to_contain_text("已收款，收据")
    receipt_no = page.locator("#income-notice").inner_text().rsplit(" ", 1)[-1].rstrip("。")
    receipt = page.locator(f"#receipt-{receipt_no}")
    expect(receipt).to_contain_text("¥1,500.00")
    expect(receipt).to_contain_text(f"Acme Media {tag}")
    expect(receipt).to_contain_text("cashier.harbour")
    contract = page.locator("#contracts tbody tr", has_text=tag)
    expect(contract).to_contain_text("已缴清")

    # The receipt to print or hand over: the renter as the payer, the month's rent, no unit.
    receipt.get_by_role("link", name=f"打印收据 {receipt_no}").click()
    expect(page.locator("#receipt")).to_have_attribute("data-state", "valid")
    expect(page.locator(".receipt-no")).to_contain_text(receipt_no)
    expect(page.locator("#receipt-payer")).to_have_text(f"Acme Media {tag}")
    expect(page.locator("#receipt-items")).to_contain_text(f"{month_start:%Y-%m}")
    expect(page.locator("#receipt-figures")).to_contain_text("¥1,500.00")
    expect(page.locator("#receipt-capitals")).to_have_text("壹仟伍佰元整")
    expect(page.locator("#receipt-unit")).to_have_count(0)
    expect(page.locator("#receipt")).not_to_contain_text("None")
    page.get_by_role("link", name="返回经营收入").click()
    expect(page.get_by_role("heading", name=SCREEN, exact=True)).to_be_visible()

    # The same month again (a form open in another tab): billing refuses it, by the contract.
    page.evaluate("html => { document.body.insertAdjacentHTML('beforeend', html); }", stale)
    page.locator("body > form").last.evaluate("form => form.submit()")
    error = page.locator("#contracts tbody tr", has_text=tag).locator(".error")
    expect(error).to_contain_text(f"{month_start:%Y-%m}")

    receipt = page.locator(f"#receipt-{receipt_no}")
    receipt.get_by_label("作废原因").fill("收错了付款方式")
    receipt.get_by_role("button", name="作废").click()
    expect(page.locator("#income-notice")).to_contain_text("收据已作废")
    expect(page.locator(f"#receipt-{receipt_no}")).to_have_class("voided")
    expect(page.locator(f"#receipt-{receipt_no}")).to_contain_text("已于")
    page.locator(f"#receipt-{receipt_no}").get_by_role("link").click()  # printed again, it says void
    expect(page.locator("#receipt")).to_have_attribute("data-state", "void")
    expect(page.locator("#void-stamp")).to_be_visible()
    expect(page.locator("#receipt")).to_contain_text("收错了付款方式")

    page.context.clear_cookies()
    sign_in(page, "agent.harbour")
    response = page.goto("/billing/income")
    assert response is not None and response.status == 403
