"""What the browser tests share: signing in through the form and the README's screenshots."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page

from console.seed import DEMO_PASSWORD
from pm_platform.settings import REPO_ROOT


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/signin")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def screenshot(page: Page, name: str, tmp_path: Path) -> Path:
    """docs/<name>.png for the README, rewritten only when asked (PM_TEST_SCREENSHOTS=1) so a test run leaves the
    working tree clean; otherwise the picture is still taken (the page renders) into the test's tmp_path."""
    target = REPO_ROOT / "docs" / f"{name}.png"
    path = target if os.environ.get("PM_TEST_SCREENSHOTS") else tmp_path / target.name
    page.screenshot(path=str(path), type="png")
    return path


def create_staff_account(
    page: Page, username: str, password: str, role: str = "客服专员", site: str = "harbour"
) -> None:
    """Head office's form (the page is signed in as `ho`): a test's own account, so a lockout or a disabled
    account never touches a demo account another test signs in with."""
    page.goto("/staff-accounts/new")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("姓名", exact=True).fill(username)
    page.get_by_label(role, exact=True).check()
    page.get_by_label("管理处", exact=True).fill(site)
    page.get_by_label("初始密码").fill(password)
    page.get_by_role("button", name="创建账号").click()
    page.locator("#saved").wait_for()
