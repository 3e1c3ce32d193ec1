"""Head office manages the staff accounts in Chromium: create one that then signs in, refusals next to their
field, unlock after a lockout, and disabling that ends the person's live session."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.console.helpers import screenshot, sign_in
from tests.e2e.conftest import Stack


def _unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


def _create(
    page: Page, username: str, name: str, roles: list[str], sites: str, password: str, department: str = ""
) -> None:
    page.goto("/staff-accounts/new")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("姓名", exact=True).fill(name)
    for role in roles:
        page.get_by_label(role, exact=True).check()
    page.get_by_label("管理处", exact=True).fill(sites)
    if department:
        page.get_by_label("部门").fill(department)
    page.get_by_label("初始密码").fill(password)
    page.get_by_role("button", name="创建账号").click()


def test_head_office_creates_an_account_that_signs_in(
    page: Page, browser: Browser, console_stack: Stack, tmp_path: Path
) -> None:
    username = _unique("li.na")
    sign_in(page, "ho")
    page.get_by_role("navigation").get_by_role("link", name="员工账号").click()
    expect(page.locator("#account-agent\\.harbour")).to_be_visible()  # the demo accounts are listed
    _create(page, username, "李娜", ["客服专员"], "harbour", "a-long-password-1")
    expect(page.locator("#saved")).to_have_text("账号已创建。")
    expect(page.locator("#account-state")).to_contain_text("启用")
    page.get_by_role("link", name="返回员工账号列表").click()
    expect(page.locator(f"#account-{username.replace('.', chr(92) + '.')}")).to_contain_text("客服专员")
    screenshot(page, "console-staff-accounts", tmp_path)

    other = browser.new_context(base_url=console_stack.url("console", ""))
    try:
        person = other.new_page()
        sign_in(person, username, "a-long-password-1")
        expect(person.get_by_role("heading", name="我的工作台")).to_be_visible()
        expect(person.locator("header")).to_contain_text("李娜")
        person.goto("/staff-accounts")  # an agent does not manage accounts
        expect(person.get_by_text("您的角色无权查看此页面。")).to_be_visible()
    finally:
        other.close()


def test_refusals_show_next_to_their_field(page: Page) -> None:
    sign_in(page, "ho")
    _create(page, "agent.harbour", "重名", ["客服专员"], "harbour", "a-long-password-1")  # taken
    expect(page.locator("#username-error")).to_contain_text("agent.harbour")
    _create(page, _unique("wu.gang"), "吴刚", ["部门员工"], "harbour", "a-long-password-1")  # no department
    expect(page.locator("#form-error")).to_contain_text("部门员工须填写部门")
    _create(page, _unique("zhou.li"), "周丽", ["客服专员"], "*", "a-long-password-1")  # every site, as an agent
    expect(page.locator("#form-error")).to_contain_text("* 仅限总部与运维")
    _create(page, _unique("xu.jie"), "徐杰", ["客服专员"], "harbour", "short")
    expect(page.locator("#password-error")).to_have_text("密码至少 12 个字符。")


def test_head_office_unlocks_a_locked_account(page: Page, browser: Browser, console_stack: Stack) -> None:
    username = _unique("he.ping")
    sign_in(page, "ho")
    _create(page, username, "何平", ["收费员"], "harbour", "a-long-password-2")
    expect(page.locator("#saved")).to_be_visible()

    other = browser.new_context(base_url=console_stack.url("console", ""))
    try:
        person = other.new_page()
        for _ in range(5):
            sign_in(person, username, "wrong-password")
        expect(person.locator("#signin-message")).to_contain_text("已锁定")

        page.reload()
        expect(page.locator("#account-state")).to_contain_text("已锁定")
        page.get_by_role("button", name="解除锁定").click()
        expect(page.locator("#saved")).to_have_text("账号已解除锁定。")

        sign_in(person, username, "a-long-password-2")
        expect(person.get_by_role("heading", name="我的工作台")).to_be_visible()
    finally:
        other.close()


def test_disabling_an_account_ends_its_session_and_refuses_sign_in(
    page: Page, browser: Browser, console_stack: Stack
) -> None:
    username = _unique("gao.yan")
    sign_in(page, "ho")
    _create(page, username, "高燕", ["客服专员"], "harbour", "a-long-password-3")
    expect(page.locator("#saved")).to_be_visible()

    other = browser.new_context(base_url=console_stack.url("console", ""))
    try:
        person = other.new_page()
        sign_in(person, username, "a-long-password-3")
        expect(person.get_by_role("heading", name="我的工作台")).to_be_visible()

        page.get_by_role("button", name="停用账号").click()
        expect(page.locator("#saved")).to_contain_text("账号已停用")

        person.goto("/front-desk/requests")
        expect(person.get_by_role("heading", name="员工登录")).to_be_visible()  # the session has ended
        sign_in(person, username, "a-long-password-3")
        expect(person.locator("#signin-message")).to_contain_text("此账号已停用")
    finally:
        other.close()


def test_head_office_cannot_disable_its_own_account(page: Page) -> None:
    sign_in(page, "ho")
    page.goto("/staff-accounts/ho")
    page.get_by_role("button", name="停用账号").click()
    expect(page.locator("#form-error")).to_contain_text("your own account")
