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
