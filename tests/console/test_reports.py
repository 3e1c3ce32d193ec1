"""The reports screen in a real Chromium: a site manager's daily report with its chart and table (a request recorded
through intake's API first, so the numbers are not all zero), the month's reports, the CSV of the same numbers,
head office's sites side by side, and an agent refused."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.console.helpers import screenshot, sign_in
from tests.e2e.conftest import Stack


def _value(table: Locator, row: str, column: int = 0) -> Locator:
    """The cell of a report table in the row headed `row` (the first series: the first site)."""
    return (
        table.locator("tr", has=table.page.get_by_role("rowheader", name=row, exact=True))
        .get_by_role("cell")
        .nth(column)
    )


def test_a_manager_reads_the_daily_report_of_harbour_as_a_chart_and_a_table(page: Page, console_stack: Stack) -> None:
    agent = console_stack.token("agent.harbour", ["agent"], ["harbour"])
    suggestion = {
        "site": "harbour",
        "kind": "suggestion",
        "channel": "email",
        "category": "cleaning",
        "location": "A座大堂",
        "description": f"大堂加装座椅 (reports test {uuid.uuid4().hex[:8]})",
        "reporter": {"name": "Li Wei", "phone": "13800000001"},
    }
    response = httpx.post(console_stack.url("intake", "/requests"), json=suggestion, headers=agent)
    assert response.status_code == 201, response.text
    manager = console_stack.token("manager.harbour", ["manager"], ["harbour"])
    daily = httpx.get(console_stack.url("intake", "/reports/daily"), params={"site": "harbour"}, headers=manager)
    assert daily.status_code == 200, daily.text
    report = daily.json()
    assert report["created"] >= 1 and report["created_by_kind"]["suggestion"] >= 1

    sign_in(page, "manager.harbour")
    page.get_by_role("navigation", name="功能导航").get_by_role("link", name="报表").click()
    expect(page.get_by_role("heading", name="工作日报")).to_be_visible()
    expect(page.locator("#report-showing")).to_contain_text(report["day"])

    glance = page.get_by_role("table", name="当日概况")
    expect(glance.get_by_role("columnheader", name="harbour")).to_be_visible()
    expect(_value(glance, "新登记")).to_have_text(str(report["created"]))
    expect(_value(page.get_by_role("table", name="按类型登记的报事"), "建议")).to_have_text(
        str(report["created_by_kind"]["suggestion"])
    )
    # Chart.js drew the chart beside the table (the canvas is named after the figure; aria-describedby: the table).
    chart = page.get_by_role("img", name="当日概况 图表")
    expect(chart).to_have_attribute("data-drawn", "true")
    # Every service's report has its section.
    for heading in ("部门工单及时率", "收缴率", "月度收款", "满意度", "走访覆盖"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()

    # The CSV holds the same numbers.
    export = page.request.get(page.get_by_role("link", name="导出本页数据为 CSV").get_attribute("href") or "")
    assert export.ok and export.headers["content-type"].startswith("text/csv")
    assert f"工作日报,当日概况,新登记,harbour,{report['created']}" in export.text()

    # The month's reports come in place (htmx) and the address keeps the choice.
    page.get_by_label("期间", exact=True).select_option("month")
    with page.expect_request(lambda request: "period=month" in request.url) as chosen:
        page.get_by_role("button", name="查看").click()
    assert chosen.value.headers.get("hx-request") == "true"
    expect(page.get_by_role("heading", name="每月投诉汇总及分析")).to_be_visible()
    expect(page.get_by_role("table", name="投诉与重开")).to_be_visible()
    expect(page).to_have_url(re.compile("period=month"))


def test_head_office_compares_every_site_side_by_side(page: Page, console_stack: Stack, tmp_path: Path) -> None:
    sign_in(page, "ho")
    page.goto("/reports")
    glance = page.get_by_role("table", name="当日概况")
    for site in ("harbour", "riverside", "lakeside"):
        expect(glance.get_by_role("columnheader", name=site)).to_be_visible()
    expect(page.get_by_role("img", name="当日概况 图表")).to_have_attribute("data-drawn", "true")
    coverage = page.get_by_role("table", name="住户走访与经理每周走访")
    expect(coverage.get_by_role("columnheader", name="riverside")).to_be_visible()

    # One site alone, chosen in the site chooser.
    page.get_by_label("项目", exact=True).select_option("riverside")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#report-showing")).to_contain_text("riverside")
    expect(glance.get_by_role("columnheader", name="harbour")).to_have_count(0)
    expect(glance.get_by_role("columnheader", name="riverside")).to_be_visible()

    page.get_by_label("项目", exact=True).select_option("")
    page.get_by_role("button", name="查看").click()
    expect(glance.get_by_role("columnheader", name="lakeside")).to_be_visible()
    expect(page.get_by_role("img", name="当日概况 图表")).to_have_attribute("data-drawn", "true")
    picture = screenshot(page, "console-reports", tmp_path)
    assert picture.stat().st_size < 100_000


def test_an_agent_cannot_open_the_reports(page: Page, console_stack: Stack) -> None:
    sign_in(page, "agent.harbour")
    expect(page.get_by_role("heading", name="我的工作台")).to_be_visible()
    expect(page.get_by_role("link", name="报表")).to_have_count(0)
    response = page.goto("/reports")
    assert response is not None and response.status == 403
    expect(page.get_by_text("您的角色无权查看此页面。")).to_be_visible()
