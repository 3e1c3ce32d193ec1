"""Staff sign-in through an OpenID Connect provider, end to end: the test provider (real HTTP), intake verifying
the provider's RS256 access tokens through its JWKS, and the console in Chromium handing that token on."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from pm_platform.devstack import (
    console_env,
    prepare,
    prepare_console,
    secure_nats,
    start_services,
    stop_all,
    wait_ready,
)
from pm_platform.natsserver import NatsServer, free_port
from pm_platform.settings import REPO_ROOT
from tests.console.oidc_provider import AUDIENCE, CLIENT_ID, CLIENT_SECRET, LocalProvider, Person


@pytest.fixture(scope="module")
def oidc_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, LocalProvider]]:
    base = tmp_path_factory.mktemp("oidc-stack")
    provider = LocalProvider(free_port(), Person("li.na@harbour", "李娜 (SSO)", ["agent"], ["harbour"])).start()
    (base / "var" / "nats").mkdir(parents=True)
    config, passwords = secure_nats(base / "var", REPO_ROOT / "deploy", REPO_ROOT / "contracts")
    nats = NatsServer(base / "nats", config_file=config, env=passwords).start()
    services = {"intake": free_port()}
    console_port = free_port()
    console_url = f"http://127.0.0.1:{console_port}"
    env = dict(os.environ)
    for key in ("PM_NATS_USER", "PM_NATS_PASSWORD", "PM_DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        env.pop(key, None)
    env.update(
        {
            "PM_VAR_DIR": str(base / "var"),
            "PM_NATS_URL": nats.url,
            # The services (and the console, checking the token as they will) trust the provider's keys.
            "PM_JWT_JWKS_URL": f"{provider.issuer}/jwks",
            "PM_JWT_ISSUER": provider.issuer,
            "PM_JWT_AUDIENCE": AUDIENCE,
            "PM_CONSOLE_OIDC_ISSUER": provider.issuer,
            "PM_CONSOLE_OIDC_CLIENT_ID": CLIENT_ID,
            "PM_CONSOLE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "PM_CONSOLE_OIDC_REDIRECT_URL": f"{console_url}/signin/oidc/callback",
        }
    )
    processes: dict[str, Any] = {}
    try:
        prepare(env, services, passwords=passwords)
        prepare_console(env)
        processes = start_services(env, base / "logs", services, passwords=passwords)
        processes.update(start_services(console_env(env, services), base / "logs", {"console": console_port}))
        ready = wait_ready({**services, "console": console_port}, timeout=60)
        assert all(ready.values()), f"not ready: {ready}; logs in {base / 'logs'}"
        yield console_url, provider
    finally:
        stop_all(processes)
        nats.stop()
        provider.stop()


@pytest.fixture
def sso_page(browser: Browser, oidc_stack: tuple[str, LocalProvider]) -> Iterator[Page]:
    context = browser.new_context(base_url=oidc_stack[0], viewport={"width": 1100, "height": 560})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def test_staff_sign_in_through_the_provider_and_intake_accepts_its_token(sso_page: Page) -> None:
    sso_page.goto("/signin")
    # Passwords are off: a token the console minted would not pass the services' JWKS check.
    expect(sso_page.get_by_label("密码")).to_have_count(0)
    sso_page.get_by_role("link", name="使用统一身份认证登录").click()
    expect(sso_page.get_by_role("heading", name="我的工作台")).to_be_visible()
    expect(sso_page.locator("header")).to_contain_text("李娜 (SSO)")
    sso_page.get_by_role("main").get_by_role("link", name="报事报修列表").click()
    # Intake answered the list with the provider's access token (a refused token shows the service's error).
    expect(sso_page.get_by_role("heading", name="报事报修列表")).to_be_visible()
    expect(sso_page.locator("#service-error")).to_have_count(0)
    expect(sso_page.locator("#requests-empty")).to_be_visible()
    # And a request recorded with it: intake takes the provider's token for a write too.
    sso_page.get_by_role("link", name="登记新报事").click()
    sso_page.get_by_label("类型").select_option("inquiry")
    sso_page.get_by_label("类别").select_option("water")
    sso_page.get_by_label("内容").fill("停水通知何时发布 (SSO test)")
    sso_page.get_by_label("报事人姓名").fill("Zhang Wei")
    sso_page.get_by_role("button", name="登记", exact=True).click()
    expect(sso_page).to_have_url(re.compile(r"/front-desk/requests/[^/]+$"))
    expect(sso_page.get_by_role("main")).to_contain_text("停水通知何时发布")


def test_a_callback_this_console_did_not_start_is_refused(sso_page: Page) -> None:
    response = sso_page.goto("/signin/oidc/callback?code=stolen&state=forged")
    assert response is not None and response.status == 401
    expect(sso_page.locator("#signin-message")).to_contain_text("统一身份认证登录失败")
    sso_page.goto("/")
    expect(sso_page.get_by_role("heading", name="员工登录")).to_be_visible()  # nobody was signed in
