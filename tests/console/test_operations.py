"""The operator's screen in a real browser against the real stack: the five services' readiness and consumer lag,
a poison message's dead letter (refused on replay, then discarded), a dead letter replayed after its cause is
gone, a request's trace across services, and an agent refused."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import insert

from dispatch.database import platform_tables
from pm_platform import bus, natsauth
from pm_platform.db import create_engine
from pm_platform.settings import REPO_ROOT
from tests.conftest import on_own_thread
from tests.console.helpers import screenshot, sign_in
from tests.e2e.conftest import Stack

SERVICES = ("intake", "dispatch", "billing", "survey", "notification")
CREATED = "intake.request.created.v1"
EXAMPLE = json.loads((REPO_ROOT / "contracts" / "examples" / f"{CREATED}.json").read_text())

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """An async step (nats-py, the async engine) from a sync Playwright test: on a loop of its own thread."""
    return on_own_thread(asyncio.run, coroutine)


def request_created(request_id: str, **data: Any) -> dict[str, Any]:
    """An intake.request.created envelope about a new request at harbour, its data changed as given."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "pm/intake",
        "type": CREATED,
        "subject": request_id,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "dataschema": f"urn:pm:contracts:{CREATED}",
        "site": "harbour",
        "correlationid": request_id,
        "data": {**EXAMPLE, "request_id": request_id, "unit_id": "harbour-A-0101", **data},
    }


async def publish_as_intake(stack: Stack, envelope: dict[str, Any]) -> None:
    """On intake's subject with intake's own NATS login (the only user that may publish there)."""
    password = stack.nats_passwords[natsauth.password_variable("intake")]
    nc = await bus.connect(stack.nats_url, "test-poison", "intake", password)
    try:
        await nc.jetstream().publish(f"{CREATED}.harbour", json.dumps(envelope).encode())
    finally:
        await nc.close()


async def record_dead_letter(stack: Stack, envelope: dict[str, Any], reason: str) -> int:
    """The row dispatch's consumer writes when an event failed on every attempt (a site's routing missing, say):
    waiting a real consumer's eight attempts with backoff would take a minute."""
    return await insert_dead_letter(
        stack,
        subject=f"{CREATED}.harbour",
        event_id=envelope["id"],
        event_type=CREATED,
        payload=json.dumps(envelope),
        kind="transient",
        reason=reason,
        deliveries=8,
    )


async def insert_dead_letter(stack: Stack, **values: Any) -> int:
    """A dead letter of dispatch-from-intake (stream INTAKE, sequence 1 unless given), straight into its table."""
    engine = create_engine(f"sqlite+aiosqlite:///{stack.var_dir / 'dispatch.db'}")
    defaults = {"consumer": "dispatch-from-intake", "stream": "INTAKE", "stream_sequence": 1, "headers": "{}"}
    try:
        async with engine.begin() as connection:
            result = await connection.execute(
                insert(platform_tables.dead_letters).values(
                    **{**defaults, **values}, status="open", created_at=datetime.now(UTC)
                )
            )
            return int(result.inserted_primary_key[0])
    finally:
        await engine.dispose()


def test_the_operator_sees_all_five_services_ready_and_their_consumers(
    page: Page, console_stack: Stack, tmp_path: Path
) -> None:
    sign_in(page, "ops")
    page.get_by_role("navigation").get_by_role("link", name="运维").click()
    expect(page.get_by_role("heading", name="运维", level=1)).to_be_visible()
    for service in SERVICES:
        row = page.locator(f"#health-{service}")
        expect(row).to_have_attribute("data-ready", "yes")
        expect(row.get_by_role("cell", name="就绪", exact=True)).to_be_visible()
    lag = page.locator("#lag-dispatch-from-intake")
    expect(lag.get_by_role("cell").nth(2)).to_have_text(re.compile(r"^\d+$"))  # pending, a count
    expect(page.get_by_role("heading", name="消费积压")).to_be_visible()
    expect(page.get_by_role("button", name="查看追踪")).to_be_visible()
    assert screenshot(page, "console-operations", tmp_path).stat().st_size < 100_000


def test_a_poison_message_shows_up_is_refused_on_replay_and_is_discarded(page: Page, console_stack: Stack) -> None:
    poison = request_created(str(uuid.uuid4()), kind="no-such-kind", description=f"poison {uuid.uuid4()}")
    run(publish_as_intake(console_stack, poison))
    sign_in(page, "ops")
    page.goto("/operations")
    row = page.locator(f'tr[data-event-id="{poison["id"]}"][data-service="dispatch"]')
    expect(row).to_be_visible(timeout=30_000)  # the list refreshes itself: it shows up once a consumer refused it
    expect(row).to_contain_text("违反契约")
    row.get_by_role("link").click()

    expect(page.get_by_role("heading", name="死信", level=1)).to_be_visible()
    expect(page.locator("#dead-letter")).to_contain_text("dispatch-from-intake")
    expect(page.locator("pre.payload")).to_contain_text(poison["data"]["description"])
    page.get_by_role("button", name="重放").click()
    # The service's own words: the message still breaks its contract, so it stays open.
    expect(page.get_by_role("alert")).to_contain_text("the message still breaks its contract")
    expect(page.locator("#dead-letter")).to_have_attribute("data-status", "open")

    page.get_by_role("button", name="丢弃").click()
    expect(page.get_by_role("status")).to_have_text("已丢弃。")
    expect(page.locator("#dead-letter")).to_have_attribute("data-status", "discarded")
    expect(page.get_by_role("button", name="重放")).to_have_count(0)
    page.get_by_role("link", name="返回运维").click()
    expect(page.locator(f'tr[data-event-id="{poison["id"]}"][data-service="dispatch"]')).to_have_count(0)


def test_a_dead_letter_is_replayed_from_the_screen_once_its_cause_is_gone(page: Page, console_stack: Stack) -> None:
    request_id = str(uuid.uuid4())
    envelope = request_created(request_id, description=f"replayed {request_id}")
    letter = run(record_dead_letter(console_stack, envelope, "RoutingError: site harbour has no routing rule"))
    sign_in(page, "ops")
    page.goto("/operations")
    page.locator(f"#open-dispatch-{letter}").click()
    expect(page.locator("#dead-letter")).to_have_attribute("data-status", "open")
    page.get_by_role("button", name="重放").click()

    expect(page.get_by_role("status")).to_contain_text("消费者已处理该消息")
    expect(page.locator("#dead-letter")).to_have_attribute("data-status", "replayed")
    # Its effect: dispatch opened the request's work order.
    worker = console_stack.token("eng.harbour", ["worker"], ["harbour"], department="engineering")
    listing = httpx.get(
        console_stack.url("dispatch", "/work-orders"),
        params={"site": "harbour", "request_id": request_id},
        headers=worker,
    )
    assert [order["request_id"] for order in listing.json()["items"]] == [request_id]


def test_a_server_advisory_shows_with_its_stream_sequence_and_cannot_be_replayed(
    page: Page, console_stack: Stack
) -> None:
    """What pm_platform.advisories records when the server gave up on a message dispatch never recorded
    (tests/platform/test_advisories.py produces it on a real server)."""
    subject = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.INTAKE.dispatch-from-intake"
    letter = run(
        insert_dead_letter(
            console_stack,
            stream_sequence=424242,
            subject=subject,
            payload="",
            kind="max_deliveries",
            reason="server advisory: max deliveries reached (20 deliveries, never acknowledged); the original is "
            "stream INTAKE sequence 424242",
            deliveries=20,
        )
    )
    sign_in(page, "ops")
    page.goto("/operations")
    row = page.locator(f"#dead-letter-dispatch-{letter}")
    expect(row).to_contain_text("达到最大投递次数")
    expect(row).to_contain_text(subject)
    expect(row.get_by_role("cell").last).to_have_text("20")
    row.get_by_role("link").click()

    expect(page.locator("#dead-letter")).to_contain_text("INTAKE #424242")
    expect(page.get_by_role("button", name="重放")).to_have_count(0)
    expect(page.locator("#dead-letter-hint")).to_contain_text("pm stream-message INTAKE 424242")
    page.get_by_role("button", name="丢弃").click()
    expect(page.locator("#dead-letter")).to_have_attribute("data-status", "discarded")


def test_the_trace_of_a_request_shows_spans_of_several_services(page: Page, console_stack: Stack) -> None:
    agent = console_stack.token("agent.harbour", ["agent"], ["harbour"])
    body = {
        "site": "harbour",
        "kind": "repair",
        "channel": "phone",
        "category": "water",
        "priority": "normal",
        "description": f"trace me {uuid.uuid4()}",
        "unit_id": "harbour-A-0101",
        "in_unit": True,
        "reporter": {"party_id": "harbour-A-0101-owner", "name": "Li Wei", "phone": "13800000001"},
    }
    response = httpx.post(console_stack.url("intake", "/requests"), json=body, headers=agent)
    assert response.status_code == 201, response.text
    request_id = response.json()["id"]

    sign_in(page, "ops")
    page.goto("/operations")
    page.get_by_label("请求编号或追踪编号").fill(request_id)
    page.get_by_role("button", name="查看追踪").click()
    # Services write spans in batches every few seconds; the page asks again until they are there.
    spans = page.locator("ol.waterfall li.span")
    expect(spans.filter(has=page.locator(".service-intake")).first).to_be_visible(timeout=30_000)
    expect(spans.filter(has=page.locator(".service-dispatch")).first).to_be_visible(timeout=30_000)
    expect(page.locator("section.trace").first.get_by_role("heading", level=2)).to_contain_text("追踪")


def test_an_agent_cannot_open_operations(page: Page, console_stack: Stack) -> None:
    sign_in(page, "agent.harbour")
    expect(page.get_by_role("navigation").get_by_role("link", name="运维")).to_have_count(0)
    response = page.goto("/operations")
    assert response is not None and response.status == 403
    expect(page.get_by_text("您的角色无权查看此页面")).to_be_visible()
