"""What the browser tests share: signing in through the form and the README's screenshots."""

from __future__ import annotations

import os
import struct
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import httpx
from playwright.sync_api import Page

from console.seed import DEMO_PASSWORD
from pm_platform.settings import REPO_ROOT
from tests.e2e.conftest import Stack, eventually


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/signin")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def reload_until(page: Page, found: Callable[[], bool], timeout: float = 45) -> None:
    """Reload the page until the services' asynchronous step shows on it. Call it once the page has settled
    (an ``expect`` on what the last click rendered): a reload while a form's navigation is under way fails with
    "Not attached to an active page"."""

    def shown() -> bool:
        page.reload()
        return found()

    eventually(shown, timeout=timeout)


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


class Household(NamedTuple):
    building: str
    unit_id: str
    party_id: str
    phone: str


def household(stack: Stack) -> Household:
    """A building of one occupied unit and its owner (a phone no other test uses), made at intake and known to
    survey: a test that needs a follow-up or a survey invitation is then untouched by what other tests did to
    the demo owners' contact budgets."""
    manager = stack.token("manager.harbour", ["manager"], ["harbour"])
    building = "T" + uuid.uuid4().hex[:6]
    response = httpx.post(
        stack.url("intake", "/sites/harbour/buildings"),
        json={"code": building, "name": f"Test building {building}", "floors": 2},
        headers=manager,
    )
    assert response.status_code == 200, response.text
    unit = {"code": f"{building}-0101", "building": building, "floor": 1, "area_m2": "80.00", "occupied": True}
    response = httpx.post(stack.url("intake", "/sites/harbour/units"), json=unit, headers=manager)
    assert response.status_code == 200, response.text
    unit_id = response.json()["id"]
    phone = "139" + f"{uuid.uuid4().int % 10**8:08d}"
    owner = {"role": "owner", "name": "Zhao Lei", "phone": phone}
    response = httpx.post(stack.url("intake", f"/units/{unit_id}/parties"), json=owner, headers=manager)
    assert response.status_code == 201, response.text
    party_id = response.json()["id"]

    def known_to_survey() -> bool:
        budget = httpx.get(stack.url("survey", f"/parties/{party_id}/contact-budget"), headers=manager)
        coverage = httpx.get(stack.url("survey", "/visits/coverage"), params={"site": "harbour"}, headers=manager)
        return budget.status_code == 200 and unit_id in str(coverage.json())

    eventually(known_to_survey, timeout=30)
    return Household(building, unit_id, party_id, phone)


def small_png(path: Path) -> Path:
    """A 2x2 PNG written by hand (signature, IHDR, IDAT, IEND): a real image, a few dozen bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xd0\x40\x20" * 2 for _ in range(2))  # filter byte, then RGB pixels
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )
    return path
