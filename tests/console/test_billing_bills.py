"""Fee items and bills in a real Chromium against the real stack: a manager adds a fee item and a rate version
(billing's refusals shown by the input they name) and stops and restarts it while a clerk only reads; a clerk issues
a period, finds a unit's bill and opens it as a printable statement; an owner opens their own bill in the portal,
is refused a neighbour's, and pays theirs online through the (sandbox) payment gateway. Beside the statement, the
staff and the owner each have billing's PDF of the bill, in the payer's language.

The fee item's rates start in 2030, so no period a test issues (billing issues at most a month ahead) charges it
and the other tests' accounts stay as they expect them."""

# Chinese labels use Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import APIResponse, Page, expect
from pypdf import PdfReader

from tests.console.helpers import household, screenshot, sign_in
from tests.console.test_billing import CASHIER, PERIOD, clerk_token, issue_period
from tests.console.test_portal import ask_for_code, sent_codes, wait_for_code
from tests.e2e.conftest import Stack, eventually, items


def bills_of(stack: Stack, unit_id: str, period: str = PERIOD) -> list[dict[str, Any]]:
    response = httpx.get(
        stack.url("billing", "/bills"),
        params={"site": "harbour", "period": period, "unit_id": unit_id},
        headers=clerk_token(stack),
    )
    assert response.status_code == 200, response.text
    return items(response.json())


def pdf_text(response: APIResponse) -> str:
    """A PDF the console served, as its text."""
    assert response.status == 200, response.text()
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_a_manager_adds_a_fee_item_and_a_rate_version_and_a_clerk_only_reads(page: Page, console_stack: Stack) -> None:
    issue_period(console_stack)  # PERIOD is issued: no rate may reach back into it
    code = "t" + uuid.uuid4().hex[:8]
    sign_in(page, "manager.harbour")
    page.get_by_role("navigation").get_by_role("link", name="收费项目", exact=True).click()
    expect(page.get_by_role("heading", name="收费项目")).to_be_visible()
    expect(page.locator("#fee-item-management_fee")).to_contain_text("按面积")  # the site's management fee
    page.get_by_role("link", name="新增收费项目").click()

    page.get_by_label("代码", exact=True).fill(code)
    page.get_by_label("名称", exact=True).fill("垃圾清运费")
    page.get_by_label("计费方式").select_option("per_household")
    page.get_by_label("计费周期").select_option("3")
    page.get_by_label("单价（元）").fill("-1")
    page.get_by_label("起始账期").fill("2030-01")
    page.get_by_role("button", name="创建收费项目").click()
    # Billing refuses a negative rate in its words, by the rate; the form keeps what was typed.
    expect(page.locator("#error-rate")).to_contain_text("greater than or equal to 0")
    expect(page.get_by_label("代码", exact=True)).to_have_value(code)
    expect(page.get_by_label("计费周期")).to_have_value("3")
    page.get_by_label("单价（元）").fill("30")
    page.get_by_label("办公", exact=True).fill("45")
    page.get_by_role("button", name="创建收费项目").click()

    expect(page.get_by_role("heading", name="收费项目 垃圾清运费")).to_be_visible()
    first = page.locator("#rate-2030-01")
    expect(first).to_have_attribute("data-state", "scheduled")
    expect(first).to_contain_text("30 元/户·月")
    expect(first).to_contain_text("办公 45")
    expect(first).to_contain_text("manager.harbour")

    # A version from a period already issued: billing's 409, by the period.
    page.get_by_label("起始账期").fill(PERIOD)
    page.get_by_label("单价（元）").fill("35")
    page.get_by_role("button", name="保存新单价").click()
    expect(page.locator("#error-effective_from")).to_contain_text(f"period {PERIOD} of harbour is issued already")
    expect(page.locator("#rates tbody tr")).to_have_count(1)
    page.get_by_label("起始账期").fill("2031-01")
    page.get_by_role("button", name="保存新单价").click()
    expect(page.locator("#rate-2031-01")).to_contain_text("35 元/户·月")
    expect(page.locator("#rate-2031-01")).to_have_attribute("data-state", "scheduled")
    expect(page.locator("#rates tbody tr")).to_have_count(2)

    # Stop it, then bill it again.
    page.get_by_role("button", name="停用此项目").click()
    expect(page.locator("#fee-item-state")).to_have_text("已停用")
    page.get_by_role("link", name="返回收费项目").click()
    row = page.locator(f"#fee-item-{code}")
    expect(row).to_have_attribute("data-active", "false")
    expect(row).to_contain_text("按入住户")
    expect(row).to_contain_text("按季")
    expect(row).to_contain_text("2030-01 起: 30 元/户·月")
    expect(row).to_contain_text("2031-01 起: 35 元/户·月")
    row.get_by_role("link", name="垃圾清运费").click()
    page.get_by_role("button", name="重新启用此项目").click()
    expect(page.locator("#fee-item-state")).to_have_text("计费中")

    # A clerk reads the item and its versions and changes nothing.
    page.context.clear_cookies()
    sign_in(page, CASHIER)
    page.goto(f"/billing/fee-items/{code}?site=harbour")
    expect(page.locator("#rate-2031-01")).to_be_visible()
    expect(page.get_by_role("button", name="保存新单价")).to_have_count(0)
    expect(page.get_by_role("button", name="停用此项目")).to_have_count(0)
    page.goto("/billing/fee-items")
    expect(page.locator(f"#fee-item-{code}")).to_be_visible()
    expect(page.get_by_role("link", name="新增收费项目")).to_have_count(0)
    refused = page.goto("/billing/fee-items/new")
    assert refused is not None and refused.status == 403


def test_a_clerk_issues_a_period_and_opens_a_unit_s_bill_as_a_printable_statement(
    page: Page, console_stack: Stack, tmp_path: Path
) -> None:
    sign_in(page, CASHIER)
    page.get_by_role("navigation").get_by_role("link", name="账单", exact=True).click()
    expect(page.get_by_role("heading", name="账单", exact=True)).to_be_visible()
    # More than a month ahead: billing's refusal by the period.
    page.get_by_label("要开出的账期").fill("2099-01")
    page.get_by_role("button", name="开出账单").click()
    expect(page.locator("#error-issue-period")).to_contain_text("more than a month ahead")
    page.get_by_label("要开出的账期").fill(PERIOD)
    page.get_by_role("button", name="开出账单").click()
    expect(page.locator("#bills-issued")).to_contain_text(f"{PERIOD} 账单已开出")
    expect(page).to_have_url(re.compile(f"period={PERIOD}"))
    expect(page.locator("#bills tbody tr").first).to_be_visible()
    rows = page.locator("#bills tbody tr")
    assert all(period == PERIOD for period in rows.evaluate_all("rows => rows.map(r => r.cells[1].innerText)"))

    # The unit's bill, from its account page.
    page.goto("/billing/accounts/harbour-A-0102?site=harbour")
    page.locator("#account-bills").click()
    row = page.locator(f"#bill-harbour-A-0102-{PERIOD}")
    expect(row).to_contain_text("¥336.00")  # 120.00 m² x 2.80
    row.get_by_role("link", name=f"harbour-A-0102 {PERIOD} 收费通知单").click()

    statement = page.get_by_role("article", name="收费通知单")
    expect(statement).to_contain_text(f"账期 {PERIOD}")
    expect(page.locator("#statement-issuer")).to_contain_text("Harbour View Gardens")
    expect(page.locator("#statement-unit")).to_contain_text("harbour-A-0102")
    expect(page.locator("#statement-payer")).to_contain_text("Wang Fang")
    line = page.locator("#statement-lines tbody tr").filter(has_text="物业管理费")
    expect(line).to_contain_text("120.00 m²")
    expect(line).to_contain_text("¥336.00")
    expect(page.locator("#statement-charges")).to_have_text("¥336.00")
    expect(page.locator("#statement-due")).to_have_text(re.compile(r"^¥[\d,]+\.\d{2}$"))
    expect(page.locator("#statement-due-date")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    expect(page.locator("#statement-capitals")).to_have_text(re.compile(r"[元整分]$"))
    assert screenshot(page, "console-bill", tmp_path).stat().st_size < 100_000
    page.emulate_media(media="print")  # on paper: the statement alone
    expect(page.get_by_role("navigation")).to_be_hidden()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    for part in ("#statement-title", "#statement-lines", "#statement-due", "#statement-due-date"):
        expect(page.locator(part)).to_be_visible()
    page.emulate_media(media="screen")

    # Beside it, billing's PDF of the bill in the payer's language (Wang Fang reads Chinese).
    link = page.locator("#statement-pdf")
    href = link.get_attribute("href")
    assert href is not None and href.endswith("/pdf")
    text = pdf_text(page.request.get(href))
    assert "收费通知单" in text and "Wang Fang" in text and "¥336.00" in text
    assert page.locator("#statement-due").inner_text() in text


def test_an_owner_opens_their_bill_in_the_portal_and_not_a_neighbour_s(phone: Page, console_stack: Stack) -> None:
    home = household(console_stack)  # 80.00 m², occupied, its owner pays

    def billed() -> list[dict[str, Any]]:
        issue_period(console_stack)  # again until billing knows the new unit and its paying owner
        return bills_of(console_stack, home.unit_id)

    own = eventually(billed, timeout=60)[0]
    neighbour = bills_of(console_stack, "harbour-A-0102")[0]

    known = len(sent_codes(console_stack, home.phone))
    ask_for_code(phone, home.phone)
    phone.get_by_label("验证码").fill(wait_for_code(console_stack, home.phone, known))
    phone.get_by_role("button", name="登录", exact=True).click()
    phone.get_by_role("navigation", name="业主服务").get_by_role("link", name="我的账单").click()
    card = phone.locator(f"#bill-{PERIOD}")
    expect(card).to_contain_text("应缴 224.00 元")  # 80.00 m² x 2.80, nothing brought forward
    card.get_by_role("link", name=f"{PERIOD} 收费通知单").click()

    expect(phone).to_have_url(re.compile(f"/portal/bills/{own['id']}$"))
    expect(phone.get_by_role("article", name="收费通知单")).to_be_visible()
    expect(phone.locator("#statement-unit")).to_contain_text(home.unit_id)
    expect(phone.locator("#statement-payer")).to_contain_text("Zhao Lei")
    expect(phone.locator("#statement-lines")).to_contain_text("¥224.00")
    expect(phone.locator("#statement-due")).to_have_text("¥224.00")
    expect(phone.locator("#statement-capitals")).to_have_text("贰佰贰拾肆元整")
    phone.emulate_media(media="print")
    expect(phone.get_by_role("navigation", name="业主服务")).to_be_hidden()
    expect(phone.locator("#statement-lines")).to_be_visible()
    phone.emulate_media(media="screen")
    expect(phone.locator("#statement-pdf")).to_have_attribute("href", f"/portal/bills/{own['id']}/pdf")
    assert "¥224.00" in pdf_text(phone.request.get(f"/portal/bills/{own['id']}/pdf"))
    assert phone.request.get(f"/portal/bills/{neighbour['id']}/pdf").status == 403

    # A neighbour's bill: billing refuses the owner, and the portal says so in billing's words.
    refused = phone.goto(f"/portal/bills/{neighbour['id']}")
    assert refused is not None and refused.status == 403
    expect(phone.locator("#service-error")).to_contain_text("not a party of unit harbour-A-0102")
    expect(phone.get_by_role("article", name="收费通知单")).to_have_count(0)

    # Paying online: the gateway's page (billing's sandbox gateway in this stack), pay, and back to the bill, paid.
    phone.goto(f"/portal/bills/{own['id']}")
    phone.get_by_role("button", name="在线缴费").click()
    expect(phone.get_by_role("heading", name="沙箱支付 Sandbox payment")).to_be_visible()
    expect(phone.locator(".amount")).to_have_text("¥224.00")
    phone.get_by_role("button", name="支付 Pay").click()
    expect(phone).to_have_url(re.compile(f"/portal/bills/{own['id']}\\?order_id="))
    expect(phone.locator("#payment-status")).to_contain_text("支付成功：已收到 ¥224.00，收据 HARBOUR-")
    expect(phone.get_by_role("button", name="在线缴费")).to_have_count(0)  # nothing left to pay on it


def test_a_clerk_reads_the_month_end_and_downloads_it_for_finance(page: Page, console_stack: Stack) -> None:
    issue_period(console_stack)  # billed now: this month's
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    sign_in(page, CASHIER)
    page.get_by_role("navigation").get_by_role("link", name="月结", exact=True).click()
    expect(page.get_by_role("heading", name="月结", exact=True)).to_be_visible()
    page.get_by_label("月份").fill(month)
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#month-items")).to_contain_text("management_fee")
    expect(page.locator("#month-state")).to_contain_text("本月尚未结账")
    expect(page.get_by_role("button", name="结账（冻结本月）")).to_have_count(0)  # a manager's or finance's
    total = page.locator("#month-items tfoot td").first.inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 CSV").click()
    content = Path(download.value.path()).read_text(encoding="utf-8")
    [row] = [line for line in content.splitlines() if line.startswith("total,")]
    assert f"¥{int(row.split(',')[1]) / 100:,.2f}" == total  # the file says what the page says


def test_an_agent_runs_the_dunning_ladder_and_works_the_call_list(page: Page, console_stack: Stack) -> None:
    """The agents' screen: today's run (billing decides who reaches which step; run again the same day it takes
    nothing twice) and the open calls, each with its contact form. (Arrears that reach the call step take a month
    of the site's calendar: billing's own tests log contacts against them.)"""
    sign_in(page, "agent.harbour")
    page.get_by_role("navigation").get_by_role("link", name="催缴", exact=True).click()
    expect(page.get_by_role("heading", name="催缴", exact=True)).to_be_visible()
    page.get_by_role("button", name="执行今日催缴").click()
    expect(page.locator("#dunning-ran")).to_contain_text("已执行：新增")
    page.get_by_role("button", name="执行今日催缴").click()
    expect(page.locator("#dunning-ran")).to_have_text("已执行：新增 0 个催缴步骤。")  # nothing twice the same day
    expect(page.get_by_role("heading", name="待办：电话催缴")).to_be_visible()
    calls = page.locator("#dunning-steps li")
    expect(page.locator("#dunning-empty").or_(calls.first)).to_be_visible()
    for step in calls.all():  # each open call has its contact form
        expect(step.get_by_role("button", name="记录")).to_be_visible()
