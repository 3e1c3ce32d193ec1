"""The console and the five services as real processes (as tests/e2e starts them: nats-server from the bundled
binary, the devstack's prepare and start functions), on SQLite, and a headless Debian Chromium driven by Playwright.
One stack serves the module; each test signs in with its own browser context."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from pm_platform.devstack import (
    SERVICES,
    console_env,
    prepare,
    prepare_console,
    secure_nats,
    start_services,
    stop_all,
    wait_ready,
)
from pm_platform.natsserver import NatsServer, free_port
from pm_platform.settings import REPO_ROOT, Settings
from tests.e2e.conftest import Stack

CHROMIUM = "/usr/bin/chromium"  # Debian's package (.ci/run installs it); `playwright install` cannot download here
# An assertion waits as long as an action does (Playwright's default for expect is 5 s): on a loaded 2-core CI
# machine a page that follows an event can take longer than that to show it.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="package")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("console-stack")
    env = dict(os.environ)
    (base / "var" / "nats").mkdir(parents=True)
    config, passwords = secure_nats(base / "var", REPO_ROOT / "deploy", REPO_ROOT / "contracts")
    nats = NatsServer(base / "nats", config_file=config, env=passwords).start()
    services = {name: free_port() for name in SERVICES}
    ports = {**services, "console": free_port()}
    env.update({"PM_VAR_DIR": str(base / "var"), "PM_NATS_URL": nats.url})
    for key in ("PM_NATS_USER", "PM_NATS_PASSWORD", "PM_DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        env.pop(key, None)
    processes: dict[str, Any] = {}
    try:
        prepare(env, services, passwords=passwords)
        prepare_console(env)
        processes = start_services(env, base / "logs", services, passwords=passwords)
        processes.update(
            start_services(
                console_env(env, services), base / "logs", {"console": ports["console"]}, passwords=passwords
            )
        )
        ready = wait_ready(ports, timeout=60)
        assert all(ready.values()), f"not ready: {ready}; logs in {base / 'logs'}"
        yield Stack(base / "var", ports, Settings(service="test"), nats.url, passwords)
    finally:
        stop_all(processes)
        nats.stop()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # Never skipped: without Chromium the browser tests fail and say how to install it.
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium"
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page(browser: Browser, console_stack: Stack) -> Iterator[Page]:
    """A fresh browser context per test (its own cookies), desktop-sized; phone tests make their own."""
    context = browser.new_context(base_url=console_stack.url("console", ""), viewport={"width": 1100, "height": 560})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


# A phone: the worker's and the owner's screens are laid out for it first.
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def phone(browser: Browser, console_stack: Stack) -> Iterator[Page]:
    """A fresh phone-sized, touch browser context (its own cookies)."""
    context = browser.new_context(base_url=console_stack.url("console", ""), **PHONE)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()
