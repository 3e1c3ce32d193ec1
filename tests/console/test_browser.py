"""The console in a real Chromium: sign-in, the request list with a request created through intake's API,
refusals (wrong password, lockout, a POST without the CSRF token) and the language switch."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from console.seed import DEMO_PASSWORD
from tests.console.helpers import create_staff_account, screenshot, sign_in
from tests.e2e.conftest import Stack


def test_an_agent_signs_in_and_sees_a_request_recorded_through_intake(
    page: Page, console_stack: Stack, tmp_path: Path
) -> None:
    agent = console_stack.token("agent.harbour", ["agent"], ["harbour"])
    repair = {
        "site": "harbour",
        "kind": "repair",
        "channel": "phone",
        "category": "water",
        "priority": "urgent",
        "description": "厨房水龙头漏水 (console test)",
        # A unit the other tests leave alone, so the filtered list (and its screenshot) holds this request only.
        "unit_id": "harbour-B-0302",
        "in_unit": True,
        "reporter": {"name": "Li Wei", "phone": "13800000001"},
    }
    response = httpx.post(console_stack.url("intake", "/requests"), json=repair, headers=agent)
    assert response.status_code == 201, response.text
    request_id = response.json()["id"]
    # Dispatch routes a water repair at once: wait for the request to settle in progress, so the row's status
    # (and the filter below) cannot change under the test.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = httpx.get(console_stack.url("intake", f"/requests/{request_id}"), headers=agent).json()
        if found["status"] == "in_progress":
            break
        time.sleep(0.2)
    assert found["status"] == "in_progress", found

    sign_in(page, "agent.harbour", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="我的工作台")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="报事报修列表").click()
    row = page.locator(f"#request-{request_id}")
    expect(row).to_contain_text("厨房水龙头漏水")
    expect(row).to_contain_text("报修")
    expect(row).to_contain_text("紧急")
    expect(row).to_contain_text("处理中")
    expect(row).to_contain_text("回复截止")  # acknowledged by dispatch: the reply limit runs now

    # The filter updates the table in place (htmx) and keeps the address in step.
    page.get_by_label("状态").select_option("closed")
    with page.expect_request(lambda request: "status=closed" in request.url) as filtered:
        page.get_by_role("button", name="查询").click()
    assert filtered.value.headers.get("hx-request") == "true"  # htmx fetched the table alone
    expect(page.locator(f"#request-{request_id}")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"status=closed"))
    page.get_by_label("状态").select_option("in_progress")
    page.get_by_label("房号").fill("B-0302")
    page.get_by_role("button", name="查询").click()
    expect(page.locator(f"#request-{request_id}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"unit=B-0302"))
    assert screenshot(page, "console-requests", tmp_path).stat().st_size < 100_000  # small for the README


def test_a_service_refusal_is_shown_as_the_service_worded_it(page: Page) -> None:
    sign_in(page, "agent.harbour", DEMO_PASSWORD)
    page.goto("/front-desk/requests?site=elsewhere")  # not the agent's site: intake answers 403
    expect(page.locator("#service-error")).to_contain_text("intake")
    expect(page.locator("#service-error")).to_contain_text("403")


def test_an_agent_records_a_request_through_the_form_and_follows_it(page: Page) -> None:
    sign_in(page, "agent.harbour", DEMO_PASSWORD)
    page.goto("/front-desk/requests")
    page.get_by_role("link", name="登记新报事").click()
    expect(page.get_by_role("heading", name="登记报事报修")).to_be_visible()
    page.get_by_label("类型").select_option("repair")
    page.get_by_label("类别").select_option("water")  # the site's taxonomy, from intake
    page.get_by_label("房号").fill("A-0101")
    page.get_by_label("内容").fill("卫生间地漏堵塞 (console form test)")
    page.get_by_label("紧急程度").select_option("high")
    page.get_by_label("来源渠道").select_option("visit")
    page.get_by_label("报事人姓名").fill("Wang Fang")
    page.get_by_label("报事人电话").fill("13800000002")
    page.get_by_role("button", name="登记", exact=True).click()

    expect(page).to_have_url(re.compile(r"/front-desk/requests/[^/]+$"))
    request_id = page.url.rsplit("/", 1)[1]
    details = page.locator(f"#request-{request_id}")
    expect(details).to_contain_text("卫生间地漏堵塞")
    expect(details).to_contain_text("报修")
    expect(details).to_contain_text("高")
    expect(details).to_contain_text("来访")
    expect(details).to_contain_text("harbour-A-0101")
    expect(page.get_by_role("heading", name="处理记录")).to_be_visible()
    expect(page.locator("#timeline li")).not_to_have_count(0)  # intake notes the request's creation

    page.get_by_role("link", name="返回报事报修列表").click()
    row = page.locator(f"#request-{request_id}")
    expect(row).to_contain_text("卫生间地漏堵塞")
    row.get_by_role("link").click()  # the list links to the request's page
    expect(page).to_have_url(re.compile(rf"/front-desk/requests/{request_id}$"))


def test_a_field_intake_refuses_shows_intake_s_message_next_to_it(page: Page) -> None:
    sign_in(page, "agent.harbour", DEMO_PASSWORD)
    page.goto("/front-desk/requests/new")
    page.get_by_label("类别").select_option("water")
    page.get_by_label("房号").fill("Z-9999")  # no such unit at the site
    page.get_by_label("内容").fill("不存在的房号 (console form test)")
    page.get_by_label("报事人姓名").fill("Zhao Lei")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator("#error-unit_code")).to_contain_text("unit harbour-Z-9999 does not exist at site harbour")
    expect(page.get_by_label("内容")).to_have_value("不存在的房号 (console form test)")  # the input is kept
    expect(page).to_have_url(re.compile(r"/front-desk/requests/new$"))


def test_a_wrong_password_is_refused(page: Page) -> None:
    sign_in(page, "supervisor.harbour", "not-the-password")
    expect(page.locator("#signin-message")).to_have_text("用户名或密码错误。")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))


def test_the_account_locks_after_five_failures(page: Page, browser: Browser, console_stack: Stack) -> None:
    # An account of the test's own: a locked demo account would fail other tests that sign in with it.
    username = f"lock.{uuid.uuid4().hex[:8]}"
    head_office = browser.new_context(base_url=console_stack.url("console", "")).new_page()
    sign_in(head_office, "ho")
    create_staff_account(head_office, username, "a-long-password-0")
    head_office.context.close()
    for _ in range(4):
        sign_in(page, username, "wrong")
        expect(page.locator("#signin-message")).to_have_text("用户名或密码错误。")
    sign_in(page, username, "wrong")
    expect(page.locator("#signin-message")).to_contain_text("已锁定 15 分钟")
    sign_in(page, username, "a-long-password-0")  # the right password no longer opens it
    expect(page.locator("#signin-message")).to_contain_text("已锁定")


def test_a_post_without_the_csrf_token_is_refused(page: Page) -> None:
    sign_in(page, "manager.harbour", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="我的工作台")).to_be_visible()
    # The browser sends the session cookie, but a form from elsewhere cannot know the session's token.
    refused = page.request.post("/signout", form={"csrf_token": "forged"})
    assert refused.status == 403
    assert "表单已过期" in refused.text()
    missing = page.request.post("/language", form={"language": "en"})
    assert missing.status == 403
    page.goto("/")
    expect(page.get_by_role("heading", name="我的工作台")).to_be_visible()  # still signed in, still Chinese
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator("#signin-message")).to_have_text("您已退出登录。")


def test_the_language_switch_turns_the_page_to_english_and_stays(page: Page) -> None:
    sign_in(page, "agent.harbour", DEMO_PASSWORD)
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    expect(page.get_by_role("heading", name="My desk")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("main").get_by_role("link", name="Request list").click()
    expect(page.get_by_role("heading", name="Request list")).to_be_visible()
    page.reload()  # the cookie keeps the choice
    expect(page.get_by_label("Status")).to_be_visible()
    expect(page.get_by_role("button", name="Search")).to_be_visible()


def test_keyboard_only_sign_in(page: Page) -> None:
    page.goto("/signin")
    expect(page.get_by_label("用户名")).to_be_focused()  # the form is where the cursor starts
    page.keyboard.type("ops")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="我的工作台")).to_be_visible()
    # From the page's start, Tab reaches the skip link first, and it leads to the main content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳到主要内容")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_the_staff_sign_in_page_leads_owners_to_their_portal(page: Page) -> None:
    page.goto("/signin")
    page.get_by_role("link", name="业主请由此登录业主服务").click()
    expect(page).to_have_url(re.compile(r"/portal/signin$"))
    expect(page.get_by_label("手机号")).to_be_visible()
