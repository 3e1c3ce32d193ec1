"""Temporary parking at the gate in a real Chromium against the real stack: a manager sets the tariff (a form the
console cannot read refused by its input), registers a space and changes it in its row (billing's refusal shown
there); the guard records a car coming in (billing refuses the same plate twice, by the plate), sees what it would
pay leaving now and lets it out with the fee and billing's receipt; a fee that changed since it was shown is refused
by the car with billing's words; a worker has no such screen."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.console.helpers import household, reload_until, screenshot, sign_in
from tests.e2e.conftest import Stack, eventually

SCREEN = "临时停车"


def test_the_guard_lets_a_car_in_and_out_for_the_fee_the_manager_set(
    page: Page, console_stack: Stack, tmp_path: Path
) -> None:
    home = household(console_stack)  # its own unit: the space's fee goes on that unit's bills alone
    clerk = console_stack.token("clerk.harbour", ["billing_clerk"], ["harbour"])
    account = console_stack.url("billing", f"/accounts/{home.unit_id}")
    eventually(lambda: httpx.get(account, params={"site": "harbour"}, headers=clerk).status_code == 200, timeout=60)
    sign_in(page, "manager.harbour")
    page.get_by_role("navigation").get_by_role("link", name=SCREEN).click()
    expect(page.get_by_role("heading", name=SCREEN, exact=True)).to_be_visible()
    page.get_by_text("设定收费标准").click()
    tariff = page.locator("#tariff-form")
    tariff.get_by_label("免费时长").fill("0")
    tariff.get_by_label("每小时").fill("abc")
    tariff.get_by_label("每 24 小时封顶").fill("40")
    tariff.get_by_role("button", name="保存收费标准").click()
    expect(page.locator("#error-hourly")).to_contain_text("最多两位小数")
    tariff.get_by_label("每小时").fill("6")
    tariff.get_by_role("button", name="保存收费标准").click()
    expect(page.locator("#parking-notice")).to_contain_text("收费标准已保存")
    expect(page.locator("#tariff-terms")).to_contain_text("免费 0 分钟")
    expect(page.locator("#tariff-terms")).to_contain_text("¥6.00")

    # The register of spaces: a leased space for a unit, its fee billed monthly (a fee billing cannot read refused).
    space = f"B1-{uuid.uuid4().hex[:6]}"
    page.locator("summary", has_text="登记车位").click()
    register = page.locator("#space-form")
    register.get_by_label("类型").select_option("leased")
    register.get_by_label("车位号").fill(space)
    register.get_by_label("区域").fill("B1")
    register.get_by_label("使用房屋").fill(home.unit_id)
    register.get_by_label("每月费用").fill("三百")
    register.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator("#error-space-monthly_fee")).to_contain_text("最多两位小数")
    register.get_by_label("每月费用").fill("300")
    register.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator("#parking-notice")).to_contain_text("车位已登记")
    row = page.locator(f"#space-{space}")
    expect(row).to_contain_text("长期租用")
    expect(row).to_contain_text(home.unit_id)
    expect(row).to_contain_text("¥300.00")
    # The holder gives it up at the end of the year: the manager changes it in its row (a leased space without a fee
    # refused in billing's words, by the row).
    row.locator("summary", has_text="修改").click()
    change = row.locator("form")
    expect(change.get_by_label("每月费用")).to_have_value("300.00")
    change.get_by_label("每月费用").fill("")
    change.get_by_role("button", name="保存修改").click()
    row = page.locator(f"#space-{space}")
    expect(row.get_by_role("alert")).to_contain_text("monthly fee")
    change = row.locator("form")
    expect(change.get_by_label("每月费用")).to_have_value("")  # what was sent stays for the correction
    change.get_by_label("每月费用").fill("300")
    change.get_by_label("截止日").fill("2026-12-31")
    change.get_by_label("备注").fill("车主年底退租")
    change.get_by_role("button", name="保存修改").click()
    expect(page.locator("#parking-notice")).to_contain_text("车位已修改")
    row = page.locator(f"#space-{space}")
    expect(row).to_contain_text("2026-12-31")
    expect(row).to_contain_text("车主年底退租")
    expect(row).to_contain_text("¥300.00")

    page.context.clear_cookies()
    sign_in(page, "guard.harbour")
    page.goto("/billing/parking")
    expect(page.locator("#tariff-form")).to_have_count(0)  # the guard reads the tariff, a manager sets it
    plate = "沪A" + uuid.uuid4().hex[:5].upper()
    page.get_by_label("车牌").fill(plate.lower())
    page.get_by_role("button", name="登记入场").click()
    expect(page.locator("#parking-notice")).to_contain_text("已登记入场")
    car = page.locator(f"#car-{plate}")  # billing keeps the plate in capitals
    expect(car).to_contain_text("guard.harbour")
    # From its first second in, the first started hour is due.
    reload_until(page, lambda: "¥6.00" in car.inner_text())

    page.get_by_label("车牌").fill(plate)
    page.get_by_role("button", name="登记入场").click()
    expect(page.locator("#error-plate")).to_contain_text(f"{plate} is in since")

    # The fee shown is no longer the fee (another car's tariff changed under it): billing says so, by the car.
    manager = console_stack.token("manager.harbour", ["manager"], ["harbour"])
    higher = {"free_minutes": 0, "hourly_cents": 800, "daily_cap_cents": 4000}
    assert httpx.put(
        console_stack.url("billing", "/sites/harbour/parking-tariff"), json=higher, headers=manager
    ).is_success
    car.get_by_role("button", name="收费 ¥6.00 并放行").click()
    expect(page.locator(f"#error-exit-{plate}")).to_contain_text("the fee is now 800 fen")
    screenshot(page, "console-parking", tmp_path)
    car = page.locator(f"#car-{plate}")
    expect(car).to_contain_text("¥8.00")
    car.get_by_label("付款方式").select_option("card")
    car.get_by_role("button", name="收费 ¥8.00 并放行").click()
    expect(page.locator("#parking-notice")).to_contain_text("车辆已出场，收据")  # noqa: RUF001
    receipt = page.locator("#parking-notice").inner_text().rsplit(" ", 1)[-1].rstrip("。")
    expect(page.locator(f"#car-{plate}")).to_have_count(0)
    out = page.locator("#left tbody tr", has_text=plate)
    expect(out).to_contain_text("¥8.00")
    expect(out).to_contain_text(receipt)
    expect(out).to_contain_text("刷卡")

    # A department worker has no parking screen.
    page.context.clear_cookies()
    sign_in(page, "eng.harbour")
    response = page.goto("/billing/parking")
    assert response is not None and response.status == 403
