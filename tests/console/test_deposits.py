"""Move-in deposits at the billing clerk's deposits screen, in a real Chromium against the real stack: a tenancy
deposit (an amount) and a key/card deposit (each key and card with its own) taken for a new household, a form the
console cannot read refused by its input, billing's refusal of a second tenancy deposit shown by the unit, and the
deposits listed by kind with their deposit receipts (held money, apart from payments)."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.console.helpers import household, sign_in
from tests.e2e.conftest import Stack, eventually


def test_a_clerk_takes_a_tenancy_and_a_key_deposit_at_a_move_in(page: Page, console_stack: Stack) -> None:
    home = household(console_stack)
    clerk = console_stack.token("clerk.harbour", ["billing_clerk"], ["harbour"])

    def billing_knows_the_payer() -> bool:
        found = httpx.get(
            console_stack.url("billing", f"/accounts/{home.unit_id}"), params={"site": "harbour"}, headers=clerk
        )
        return found.status_code == 200 and found.json()["payer"] is not None

    eventually(billing_knows_the_payer, timeout=60)
    sign_in(page, "clerk.harbour")
    page.get_by_role("navigation").get_by_role("link", name="押金", exact=True).click()
    page.get_by_text("收取入伙押金").click()
    form = page.locator("#take-deposit")
    form.get_by_label("房号").fill(home.unit_id)
    form.get_by_label("押金类别").select_option("tenancy")
    form.get_by_label("押金金额").fill("3000.005")
    form.get_by_role("button", name="收取押金").click()
    expect(page.locator("#error-amount")).to_contain_text("最多两位小数")
    expect(form.get_by_label("房号")).to_have_value(home.unit_id)  # the form comes back as it was sent
    form.get_by_label("押金金额").fill("3000")
    form.get_by_label("收款方式").select_option("transfer")
    form.get_by_role("button", name="收取押金").click()
    expect(page.locator("#received")).to_contain_text("押金已收取")
    receipt = (page.locator("#received").inner_text()).rsplit(" ", 1)[-1].rstrip("。")
    row = page.locator("tbody tr", has_text=home.unit_id)
    expect(row).to_have_attribute("data-status", "paid")
    expect(row).to_contain_text("¥3,000.00")
    expect(row).to_contain_text("租赁押金")
    expect(row).to_contain_text(receipt)

    # One tenancy deposit per party: billing's 409, shown by the unit.
    page.get_by_text("收取入伙押金").click()
    form.get_by_label("房号").fill(home.unit_id)
    form.get_by_label("押金金额").fill("100")
    form.get_by_role("button", name="收取押金").click()
    expect(page.locator("#error-unit_id")).to_contain_text("has a tenancy deposit already")

    # Keys and cards, each with its own deposit.
    form.get_by_label("押金类别").select_option("key_card")
    form.get_by_label("钥匙及门禁卡").fill(f"K-{home.building}-1 50\nC-{home.building}-9 20")
    form.get_by_role("button", name="收取押金").click()
    expect(page.locator("#received")).to_be_visible()
    row = page.locator("tbody tr", has_text=home.unit_id)
    expect(row).to_contain_text("¥70.00")
    expect(row).to_contain_text("钥匙及门禁卡押金")
    held = httpx.get(
        console_stack.url("billing", "/deposits"),
        params={"site": "harbour", "unit_id": home.unit_id, "status": "paid"},
        headers=clerk,
    ).json()["items"]
    assert sorted((d["purpose"], d["amount_cents"]) for d in held) == [("key_card", 7000), ("tenancy", 300000)]

    # A reader (a manager) sees the deposits but has no form to take one.
    page.context.clear_cookies()
    sign_in(page, "manager.harbour")
    page.goto("/decoration/deposits?purpose=tenancy&status=paid")
    expect(page.locator("tbody tr", has_text=home.unit_id)).to_be_visible()
    expect(page.locator("#take-deposit")).to_have_count(0)
