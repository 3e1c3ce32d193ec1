"""Paid services in a real Chromium against the real stack: a manager adds a service to the site's price list (a
price the console cannot read refused by its input, a code billing refuses shown by the code); an agent charges a
new household the service twice over, once only however often the same form is sent, and finds it on the unit's
account; a service taken off the list is no longer offered; a worker has no such screen."""

from __future__ import annotations

import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.console.helpers import household, sign_in
from tests.e2e.conftest import Stack, eventually

SCREEN = "有偿服务"


def test_a_manager_lists_a_service_and_the_desk_charges_it_once(page: Page, console_stack: Stack) -> None:
    home = household(console_stack)
    clerk = console_stack.token("clerk.harbour", ["billing_clerk"], ["harbour"])

    def account() -> dict[str, object] | None:
        found = httpx.get(
            console_stack.url("billing", f"/accounts/{home.unit_id}"), params={"site": "harbour"}, headers=clerk
        )
        return found.json() if found.status_code == 200 else None

    eventually(account, timeout=60)
    code = f"window_{uuid.uuid4().hex[:8]}"
    sign_in(page, "manager.harbour")
    page.get_by_role("navigation").get_by_role("link", name=SCREEN).click()
    expect(page.get_by_role("heading", name="有偿服务收费标准")).to_be_visible()
    page.get_by_text("新增服务项目").click()
    form = page.locator("#item-form")
    form.get_by_label("编码").fill("Bad Code")
    form.get_by_label("名称").fill(f"擦窗 {code}")
    form.get_by_label("单价").fill("x")
    form.get_by_label("计价单位").fill("扇")
    form.get_by_role("button", name="新增").click()
    expect(page.locator("#error-item-price")).to_contain_text("最多两位小数")
    form.get_by_label("单价").fill("35")
    form.get_by_role("button", name="新增").click()
    expect(page.locator("#error-item-code")).to_contain_text("pattern")  # billing's words, by the code
    form.get_by_label("编码").fill(code)
    form.get_by_role("button", name="新增").click()
    expect(page.locator("#services-notice")).to_be_visible()
    expect(page.locator(f"#service-{code}")).to_contain_text("¥35.00/扇")

    page.context.clear_cookies()
    sign_in(page, "agent.harbour")
    page.goto("/billing/services")
    charge = page.locator("#charge-form")
    charge.get_by_label("房号").fill(home.unit_id)
    charge.get_by_label("服务项目").select_option(code)
    charge.get_by_label("数量").fill("2")
    sent = charge.evaluate("form => form.outerHTML")  # the same form, to send again below
    charge.get_by_role("button", name="计入住户账户").click()
    expect(page.locator("#services-notice")).to_contain_text(f"已为 {home.unit_id} 记账 ¥70.00")
    page.evaluate("html => { document.body.insertAdjacentHTML('beforeend', html); }", sent)
    page.locator("body > form").last.locator("input[name=unit_id]").fill(home.unit_id)
    page.locator("body > form").last.locator("input[name=quantity]").fill("2")
    page.locator("body > form").last.locator("select[name=code]").select_option(code)
    page.locator("body > form").last.evaluate("form => form.submit()")
    expect(page.locator("#services-notice")).to_contain_text("¥70.00")
    charges = httpx.get(
        console_stack.url("billing", "/charges"), params={"site": "harbour", "unit_id": home.unit_id}, headers=clerk
    ).json()["items"]
    assert [c["amount_cents"] for c in charges if code in str(c)] == [7000]  # charged once

    # Taken off the list, the service is no longer offered to charge.
    page.context.clear_cookies()
    sign_in(page, "manager.harbour")
    page.goto("/billing/services")
    page.locator(f"#service-{code}").get_by_role("button", name="停用").click()
    expect(page.locator(f"#service-{code}")).to_have_attribute("data-active", "false")
    expect(page.locator("#charge-code option", has_text=code)).to_have_count(0)

    page.context.clear_cookies()
    sign_in(page, "eng.harbour")
    response = page.goto("/billing/services")
    assert response is not None and response.status == 403
