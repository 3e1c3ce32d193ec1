"""Late fees, instalment plans, bank statements and meter readings in a real Chromium against the real stack: a
manager sets the site's late-fee terms (refusals by the input) and a clerk asks for a late fee to be waived, which
the manager grants; a clerk agrees an instalment plan from the proposed schedule; a clerk imports a bank statement
(refused whole with its bad rows first), records the matched transfers and an unmatched one by hand; a clerk adds
a shared meter and the engineer enters readings on the phone, imports a file, re-reads a flagged meter and reads
the building's split (公摊).

Each test works on units of its own (a new building at intake), so what it pays, waives or reads changes no other
test's accounts. Nothing is overdue on the day a period is issued, so the tests that need arrears move their unit's
charges' due date back, straight in billing's table (as the operations tests insert a dead letter)."""

# Chinese labels use Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

import re
import sqlite3
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page, expect

from tests.console.helpers import screenshot, sign_in
from tests.console.test_billing import CASHIER, clerk_token, issue_period
from tests.console.test_billing_bills import bills_of
from tests.e2e.conftest import Stack, eventually, items

MANAGER = "manager.harbour"


def manager_token(stack: Stack) -> dict[str, str]:
    return stack.token(MANAGER, ["manager"], ["harbour"])


def new_building(stack: Stack, areas: tuple[str, ...] = ("80.00",)) -> tuple[str, list[str]]:
    """A building of occupied units (each with an owner who pays) at intake: its code and its units' ids."""
    building = "C" + uuid.uuid4().hex[:6]
    response = httpx.post(
        stack.url("intake", "/sites/harbour/buildings"),
        json={"code": building, "name": f"Test building {building}", "floors": 2},
        headers=manager_token(stack),
    )
    assert response.status_code == 200, response.text
    unit_ids: list[str] = []
    for n, area in enumerate(areas, start=1):
        unit = {"code": f"{building}-010{n}", "building": building, "floor": 1, "area_m2": area, "occupied": True}
        response = httpx.post(stack.url("intake", "/sites/harbour/units"), json=unit, headers=manager_token(stack))
        assert response.status_code == 200, response.text
        unit_ids.append(response.json()["id"])
        owner = {"role": "owner", "name": "Sun Wei", "phone": "137" + f"{uuid.uuid4().int % 10**8:08d}"}
        response = httpx.post(
            stack.url("intake", f"/units/{unit_ids[-1]}/parties"), json=owner, headers=manager_token(stack)
        )
        assert response.status_code == 201, response.text
    return building, unit_ids


def billed_unit(stack: Stack) -> tuple[str, dict[str, Any]]:
    """A new unit (80.00 m²: ¥224.00 a month) and its bill of PERIOD."""
    _, [unit_id] = new_building(stack)

    def billed() -> list[dict[str, Any]]:
        issue_period(stack)  # again until billing knows the new unit and its paying owner
        return bills_of(stack, unit_id)

    return unit_id, eventually(billed, timeout=60)[0]


def make_overdue(stack: Stack, unit_id: str, due: str = "2025-04-10") -> None:
    """The unit's charges fall due long ago: billing counts them overdue (and owing late fees) from then."""
    with sqlite3.connect(stack.var_dir / "billing.db") as database:
        changed = database.execute("UPDATE charges SET due_date = ? WHERE unit_id = ?", (due, unit_id)).rowcount
    assert changed >= 1


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def test_a_manager_sets_the_late_fee_terms_and_waives_a_fee_a_clerk_asks_to(page: Page, console_stack: Stack) -> None:
    unit_id, _ = billed_unit(console_stack)
    make_overdue(console_stack, unit_id)
    try:
        sign_in(page, MANAGER)
        page.get_by_role("navigation").get_by_role("link", name="违约金", exact=True).click()
        expect(page.get_by_role("heading", name="违约金", exact=True)).to_be_visible()
        page.get_by_label("计收方式").select_option("daily")
        page.get_by_label("宽限天数").fill("0")
        page.get_by_label("日费率（万分之）").fill("五")
        page.get_by_role("button", name="保存条款").click()
        expect(page.locator("#error-daily_rate")).to_contain_text("请填写每日万分之几")  # the page's own check
        page.get_by_label("日费率（万分之）").fill("300")
        page.get_by_role("button", name="保存条款").click()
        expect(page.locator("#error-daily_rate")).to_contain_text("less than or equal to 0.01")  # billing's
        expect(page.get_by_label("宽限天数")).to_have_value("0")
        page.get_by_label("日费率（万分之）").fill("5")
        page.get_by_label("上限（占该笔费用的 %）").fill("10")
        page.get_by_role("button", name="保存条款").click()
        expect(page.locator("#policy-saved")).to_be_visible()
        expect(page.locator("#policy-terms")).to_contain_text("每日万分之 5")
        expect(page.locator("#policy-terms")).to_contain_text("10%")

        issue_period(console_stack, "2025-04")  # the run assesses the unit's late fee: ¥22.40, the cap
        page.context.clear_cookies()
        sign_in(page, CASHIER)
        page.goto("/billing/late-fees")
        expect(page.locator("#policy-form")).to_have_count(0)  # the clerk reads the terms
        page.get_by_label("房号").fill(unit_id)
        page.get_by_role("button", name="查看违约金").click()
        fee = page.locator("#late-fees tbody tr").first
        expect(fee).to_contain_text("¥22.40")
        fee.get_by_label("减免理由").fill("no")
        fee.get_by_role("button", name="提交减免申请").click()
        expect(page.locator("#late-fees [role=alert]")).to_contain_text("at least 3 characters")
        fee = page.locator("#late-fees tbody tr").first
        fee.get_by_label("减免理由").fill("业主住院，已补缴本金")
        fee.get_by_role("button", name="提交减免申请").click()
        expect(page.locator("#waiver-asked")).to_be_visible()
        expect(page.locator("#late-fees tbody tr").first).to_contain_text("减免申请待审批")
        waiver = page.locator("#waivers tbody tr").filter(has_text=unit_id)
        expect(waiver).to_have_attribute("data-status", "requested")
        expect(waiver.get_by_role("button", name="批准减免")).to_have_count(0)  # a manager decides

        page.context.clear_cookies()
        sign_in(page, MANAGER)
        page.goto("/billing/late-fees")
        waiver = page.locator("#waivers tbody tr").filter(has_text=unit_id)
        waiver.get_by_label("审批意见").fill("同意")
        waiver.get_by_role("button", name="批准减免").click()
        expect(page.locator("#waivers tbody tr").filter(has_text=unit_id)).to_have_count(0)
        page.get_by_label("状态").select_option("approved")
        page.locator("form[aria-labelledby=waivers-heading]").get_by_role("button", name="查询").click()
        expect(page.locator("#waivers tbody tr").filter(has_text=unit_id)).to_contain_text("已减免")
        charges = httpx.get(
            console_stack.url("billing", "/charges"),
            params={"site": "harbour", "unit_id": unit_id, "kind": "late_fee"},
            headers=clerk_token(console_stack),
        )
        assert [charge["waived_at"] is not None for charge in items(charges.json())] == [True]
    finally:  # the other tests bill harbour with no late fee
        reset = httpx.put(
            console_stack.url("billing", "/sites/harbour/late-fee-policy"),
            json={"mode": "none"},
            headers=manager_token(console_stack),
        )
        assert reset.status_code == 200, reset.text


def test_a_clerk_agrees_an_instalment_plan_from_the_proposed_schedule(page: Page, console_stack: Stack) -> None:
    unit_id, _ = billed_unit(console_stack)
    make_overdue(console_stack, unit_id)  # ¥224.00 overdue
    sign_in(page, CASHIER)
    page.get_by_role("navigation").get_by_role("link", name="分期还款").click()
    expect(page.get_by_role("heading", name="分期还款")).to_be_visible()
    page.get_by_role("link", name="新建分期计划").click()
    page.get_by_label("房号").fill(unit_id)
    page.get_by_label("期数").fill("2")
    page.get_by_role("button", name="生成建议分期").click()
    expect(page.locator("#plan-overdue")).to_contain_text("¥224.00")
    expect(page.get_by_label("第 1 期缴款日")).to_have_value(today())
    expect(page.get_by_label("第 1 期金额")).to_have_value("112.00")
    expect(page.get_by_label("第 2 期金额")).to_have_value("112.00")
    expect(page.get_by_label("第 3 期金额")).to_have_value("")

    page.get_by_label("第 2 期金额").fill("1.234")
    page.get_by_role("button", name="建立分期计划").click()
    expect(page.locator("#error-row-2")).to_contain_text("最多两位小数")
    page.get_by_label("第 2 期金额").fill("100")
    page.get_by_role("button", name="建立分期计划").click()
    expect(page.locator("#error-installments")).to_contain_text("must cover what is overdue")  # billing's words
    page.get_by_label("第 2 期金额").fill("112")
    page.get_by_label("备注").fill("业主失业，分两期")
    page.get_by_role("button", name="建立分期计划").click()

    expect(page.locator("#plan-created")).to_be_visible()
    plan = page.locator("#plans tbody tr.created")
    expect(plan).to_have_attribute("data-status", "active")
    expect(plan).to_contain_text(unit_id)
    expect(plan).to_contain_text("¥224.00")
    expect(plan).to_contain_text("履约中")
    expect(plan).to_contain_text("业主失业，分两期")

    # One active plan per unit: billing's 409, by the unit.
    page.goto(f"/billing/instalment-plans/new?unit_id={unit_id}&count=2")
    page.get_by_role("button", name="建立分期计划").click()
    expect(page.locator("#error-unit_id")).to_contain_text("has an active instalment plan already")

    # The owner asks for other terms: the clerk cancels the plan with the reason, and may agree another.
    page.goto(f"/billing/instalment-plans?unit={unit_id}")
    row = page.locator("#plans tbody tr", has_text=unit_id)
    plan_id = (row.get_attribute("id") or "").removeprefix("plan-")
    row.get_by_label("取消原因").fill("业主申请改为三期")
    stale = page.locator(f"#reason-{plan_id}").evaluate("input => input.form.outerHTML")  # to send again below
    row.get_by_role("button", name="取消计划").click()
    expect(page.locator("#plan-cancelled")).to_be_visible()
    row = page.locator(f"#plan-{plan_id}")
    expect(row).to_have_attribute("data-status", "cancelled")
    expect(row).to_contain_text("已取消")
    expect(row).to_contain_text(f"{CASHIER} 于")
    expect(row).to_contain_text("业主申请改为三期")
    expect(row.get_by_role("button", name="取消计划")).to_have_count(0)
    # The same form sent again (a second tab): billing's 409 by the plan's row.
    page.evaluate("html => { document.body.insertAdjacentHTML('beforeend', html); }", stale)
    page.locator("form.plan-cancel").last.locator("input[name=reason]").fill("再次取消")
    page.locator("form.plan-cancel").last.evaluate("form => form.submit()")
    expect(page.locator(f"#error-cancel-{plan_id}")).to_contain_text("only an active plan is cancelled")
    page.goto(f"/billing/instalment-plans/new?unit_id={unit_id}&count=3")
    page.get_by_role("button", name="建立分期计划").click()
    expect(page.locator("#plan-created")).to_be_visible()


def test_a_clerk_imports_a_bank_statement_and_records_an_unmatched_transfer_by_hand(
    page: Page, console_stack: Stack, tmp_path: Path
) -> None:
    unit_id, bill = billed_unit(console_stack)
    tag = uuid.uuid4().hex[:8]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"date,amount,reference,memo,payer\n{today()},abc,{tag}-1,,\n03/12/2026,10.00,{tag}-2,,\n")
    good = tmp_path / "statement.csv"
    good.write_text(
        "date,amount,reference,memo,payer\n"
        f"{today()},100.00,{tag}-1,物业费 {bill['id']},孙伟\n"
        f"{today()},24.00,{tag}-2,{unit_id} 余款,孙伟\n"
        f"{today()},50.00,{tag}-3,代缴,某某\n"
    )
    sign_in(page, CASHIER)
    page.get_by_role("navigation").get_by_role("link", name="银行流水").click()
    expect(page.get_by_role("heading", name="银行流水")).to_be_visible()
    page.get_by_label("流水文件（CSV）").set_input_files(bad)
    page.get_by_role("button", name="预览匹配结果").click()
    expect(page.locator("#error-file")).to_contain_text("2 bad rows: nothing was imported")
    expect(page.locator("#bad-row-2")).to_contain_text("amount 'abc' is not a number")
    expect(page.locator("#bad-row-3")).to_contain_text("is not YYYY-MM-DD")

    page.get_by_label("流水文件（CSV）").set_input_files(good)
    page.get_by_role("button", name="预览匹配结果").click()
    expect(page.get_by_role("heading", name="预览（尚未登记）")).to_be_visible()
    expect(page.locator("#statement-row-2")).to_have_attribute("data-status", "to_record")
    expect(page.locator("#statement-row-2")).to_contain_text("按账单号")
    expect(page.locator("#statement-row-3")).to_contain_text("按房号")
    expect(page.locator("#statement-row-4")).to_have_attribute("data-status", "unmatched")
    page.get_by_role("button", name="登记 2 笔已匹配转账（¥124.00）").click()

    expect(page.get_by_role("heading", name="登记结果")).to_be_visible()
    for line in (2, 3):
        expect(page.locator(f"#statement-row-{line}")).to_have_attribute("data-status", "recorded")
        expect(page.locator(f"#statement-row-{line}")).to_contain_text("收据")
    expect(page.locator("#statement-summary")).to_contain_text("本次登记 2 笔")

    # The unmatched transfer: the clerk knows whose it is and records it through the filled payment form.
    page.locator("#statement-row-4").get_by_role("link", name="手工登记").click()
    expect(page.get_by_label("金额")).to_have_value("50.00")
    expect(page.get_by_label("交易/凭证号")).to_have_value(f"BANK-{tag}-3")
    page.get_by_label("房号").fill(unit_id)
    page.get_by_role("button", name="登记").click()
    expect(page).to_have_url(re.compile(r"/billing/payments/[^/]+$"))

    # The same statement again: every transfer is recorded already, none twice.
    page.goto("/billing/bank-statements")
    page.get_by_label("流水文件（CSV）").set_input_files(good)
    page.get_by_role("button", name="预览匹配结果").click()
    for line in (2, 3, 4):
        expect(page.locator(f"#statement-row-{line}")).to_have_attribute("data-status", "already_recorded")
    expect(page.locator("#nothing-to-record")).to_be_visible()
    paid = httpx.get(
        console_stack.url("billing", "/payments"),
        params={"site": "harbour", "unit_id": unit_id},
        headers=clerk_token(console_stack),
    )
    assert sorted(p["amount_cents"] for p in items(paid.json())) == [2_400, 5_000, 10_000]


def test_the_engineer_reads_the_meters_on_the_phone_and_sees_the_building_s_split(
    page: Page, phone: Page, console_stack: Stack, tmp_path: Path
) -> None:
    period = "2031-06"  # far ahead: no test's billing run closes it to readings
    building, units = new_building(console_stack, ("80.00", "120.00"))
    serials = {unit_id: f"W-{building}-{n}" for n, unit_id in enumerate(units, start=1)}

    def add_unit_meters() -> bool:
        for n, unit_id in enumerate(units):
            body = {
                "kind": "water",
                "serial": serials[unit_id],
                "unit_id": unit_id,
                "opening_reading": str(100 * (1 - n)),
            }
            response = httpx.post(
                console_stack.url("billing", "/sites/harbour/meters"), json=body, headers=manager_token(console_stack)
            )
            if response.status_code == 422:  # billing does not know the new unit yet
                return False
            assert response.status_code in (201, 409), response.text
        return True

    eventually(add_unit_meters, timeout=30)  # the first opens at 100.00, the second at 0
    first, second = serials[units[0]], serials[units[1]]

    # A clerk adds the building's meter: its number taken already (billing's 409 by the number), then its own.
    sign_in(page, CASHIER)
    page.goto(f"/billing/meters?period={period}")
    form = page.locator("#new-meter-form")
    form.get_by_label("表号").fill(first)
    form.get_by_label("计量范围").select_option("building")
    form.get_by_label("楼栋").fill(building)
    form.get_by_role("button", name="新增表具").click()
    expect(page.locator("#error-serial")).to_contain_text(f"has a meter {first} already")
    form.get_by_label("表号").fill(f"W-{building}-B")
    form.get_by_role("button", name="新增表具").click()
    expect(page.locator(f"#meter-W-{building}-B")).to_contain_text("未抄")

    engineer = phone
    sign_in(engineer, "eng.harbour")
    engineer.get_by_role("navigation").get_by_role("link", name="抄表", exact=True).click()
    engineer.get_by_label("账期").fill(period)
    engineer.get_by_label("表具类型").select_option("water")
    engineer.locator("form[role=search]").get_by_role("button", name="查询").click()
    expect(engineer.get_by_role("heading", name=f"{period} 读数", exact=True)).to_be_visible()
    # By hand: the first meter below its opening reading, the second not a number.
    engineer.get_by_label(f"表 {first} 的读数").fill("90")
    engineer.get_by_label(f"表 {second} 的读数").fill("twenty")
    engineer.get_by_role("button", name="保存读数").click()
    expect(engineer.locator("#readings-saved")).to_contain_text("已保存 1 个读数")
    expect(engineer.locator(f"#meter-{second} [role=alert]")).to_be_visible()  # billing's words by the meter
    expect(engineer.get_by_label(f"表 {second} 的读数")).to_have_value("twenty")
    engineer.get_by_label(f"表 {second} 的读数").fill("20")
    engineer.get_by_role("button", name="保存读数").click()
    expect(engineer.locator(f"#meter-{second}")).to_contain_text("正常")
    assert screenshot(engineer, "console-meters", tmp_path).stat().st_size < 150_000

    # The flagged one waits for a re-read.
    flagged = engineer.locator(f"#flagged-{first}")
    expect(flagged).to_have_attribute("data-status", "below_last")
    flagged.get_by_label("复抄读数").fill("110")
    flagged.get_by_role("button", name="保存复抄").click()
    expect(engineer.locator(f"#flagged-{first}")).to_have_count(0)
    expect(engineer.locator(f"#meter-{first} .consumption")).to_have_text("10")

    # A file with bad rows is refused whole, every row named; then the building meter's reading imports.
    bad = tmp_path / "bad.csv"
    bad.write_text(f"serial,value\nW-{building}-B,x\nNO-SUCH-{building},5\n")
    engineer.get_by_label("读数文件（CSV）").set_input_files(bad)
    engineer.get_by_role("button", name="导入").click()
    expect(engineer.locator("#error-file")).to_contain_text("nothing was imported")
    expect(engineer.locator("#bad-row-2-value")).to_be_visible()
    expect(engineer.locator("#bad-row-3-serial")).to_contain_text(f"no meter NO-SUCH-{building}")
    good = tmp_path / "readings.csv"
    good.write_text(f"serial,value\nW-{building}-B,50\n")
    engineer.get_by_label("读数文件（CSV）").set_input_files(good)
    engineer.get_by_role("button", name="导入").click()
    expect(engineer.locator("#readings-imported")).to_contain_text("已导入 1 个读数")

    # 50 through the building's meter, 10 + 20 through the units': 20 shared by area, 80 : 120.
    engineer.get_by_role("link", name="公摊分摊").click()
    engineer.get_by_label("楼栋").fill(building)
    engineer.get_by_role("button", name="查询").click()
    split = engineer.locator(f"#split-W-{building}-B")
    expect(split).to_have_attribute("data-status", "apportioned")
    expect(split.locator(".split-shared")).to_have_text("20.00")
    expect(engineer.locator(f"#part-W-{building}-B-{units[0]}")).to_contain_text("8.00")
    expect(engineer.locator(f"#part-W-{building}-B-{units[1]}")).to_contain_text("12.00")
