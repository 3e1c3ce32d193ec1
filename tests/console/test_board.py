"""The supervisor's board in a real Chromium against the real stack: a request recorded through intake's API
appears without a reload, a status change moves it, a worker is refused; and the live stream (console.live)
of a person at one site carries nothing of another site."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.console.helpers import screenshot, sign_in
from tests.e2e.conftest import Stack

LIVE_ON = "实时更新已连接。"


def record_inquiry(stack: Stack, site: str, description: str) -> str:
    """An inquiry: no department works it, so it stays new until someone moves it."""
    agent = stack.token(f"agent.{site}", ["agent"], [site])
    body = {
        "site": site,
        "kind": "inquiry",
        "channel": "phone",
        "category": "parking",
        "priority": "normal",
        "description": description,
        "location": "north gate car park",
        "reporter": {"name": "Wang Fang", "phone": "13800000002"},
    }
    response = httpx.post(stack.url("intake", "/requests"), json=body, headers=agent, timeout=10)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def change_status(stack: Stack, request_id: str, status: str, reason: str) -> None:
    agent = stack.token("agent.harbour", ["agent"], ["harbour"])
    response = httpx.post(
        stack.url("intake", f"/requests/{request_id}/status"),
        json={"status": status, "reason": reason},
        headers=agent,
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_a_new_request_appears_on_the_board_without_reload_and_moves_when_cancelled(
    page: Page, console_stack: Stack, tmp_path: Path
) -> None:
    sign_in(page, "supervisor.harbour")
    page.get_by_role("navigation").get_by_role("link", name="主管看板").click()
    expect(page.get_by_role("heading", name="主管看板 · harbour")).to_be_visible()
    expect(page.get_by_role("heading", name="按状态查看报事")).to_be_visible()
    departments = page.get_by_role("region", name="部门队列与工作量")
    expect(departments.get_by_role("rowheader", name="Engineering")).to_be_visible()  # dispatch's own name
    for part in ("时限", "不合格单", "待回访"):
        expect(page.get_by_role("region", name=part, exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(LIVE_ON)
    page.evaluate("window.boardNotReloaded = true")

    description = f"车位咨询 board {uuid.uuid4().hex[:8]}"
    request_id = record_inquiry(console_stack, "harbour", description)
    new_column = page.get_by_role("region", name="新建")
    expect(new_column.get_by_role("link", name=description)).to_be_visible(timeout=2000)

    change_status(console_stack, request_id, "cancelled", "owner found the answer (board test)")
    cancelled_column = page.get_by_role("region", name="已取消")
    expect(cancelled_column.get_by_role("link", name=description)).to_be_visible(timeout=2000)
    expect(new_column.get_by_role("link", name=description)).to_have_count(0)
    assert page.evaluate("window.boardNotReloaded") is True  # the same page all along: no reload

    path = screenshot(page, "console-board", tmp_path)
    assert path.stat().st_size < 100_000


def test_a_time_limit_event_adds_an_alert_naming_the_request(page: Page, console_stack: Stack) -> None:
    """The alert list's wiring without waiting minutes for a real limit: the SSE extension's own event, as
    it fires for a live ``timelimits`` event, with what console.live forwards of intake's time-limit event."""
    description = f"车位咨询 alert {uuid.uuid4().hex[:8]}"
    request_id = record_inquiry(console_stack, "harbour", description)
    sign_in(page, "supervisor.harbour")
    page.goto("/board?site=harbour")
    expect(page.get_by_role("status")).to_have_text(LIVE_ON)
    event = {
        "type": "intake.request.timelimit.v1",
        "site": "harbour",
        "request_id": request_id,
        "limit": "acknowledge",
        "stage": "warning",
        "due_at": "2026-12-02T10:00:00+00:00",
    }
    page.evaluate(
        "data => htmx.trigger('#board-alerts', 'sse:timelimits', {data: data})", json.dumps(event, ensure_ascii=False)
    )
    alerts = page.get_by_role("list", name="实时预警与超时")
    expect(alerts.get_by_role("listitem")).to_contain_text("预警")
    expect(alerts.get_by_role("listitem")).to_contain_text("受理时限")
    expect(alerts.get_by_role("listitem")).to_contain_text("2026-12-02 18:00")  # 10:00 UTC in Shanghai
    expect(alerts.get_by_role("link", name=description)).to_have_attribute("href", f"/front-desk/requests/{request_id}")
    # An event naming what the person cannot see, or another site, adds nothing.
    for forged in ({**event, "request_id": "no-such-request"}, {**event, "site": "riverside"}):
        answer = page.request.get("/board/alert", params={"site": "harbour", "event": json.dumps(forged)})
        assert answer.status == 204


def test_a_worker_cannot_open_the_board_nor_its_live_requests(page: Page, console_stack: Stack) -> None:
    sign_in(page, "eng.harbour")
    expect(page.get_by_role("navigation").get_by_role("link", name="主管看板")).to_have_count(0)
    response = page.goto("/board?site=harbour")
    assert response is not None and response.status == 403
    expect(page.get_by_text("您的角色无权查看此页面")).to_be_visible()
    assert page.request.get("/board/sections/requests?site=harbour").status == 403
    assert page.request.get("/live?topic=requests&site=harbour").status == 403


def test_head_office_chooses_the_site_of_the_board(page: Page, console_stack: Stack) -> None:
    sign_in(page, "ho")
    page.get_by_role("navigation").get_by_role("link", name="主管看板").click()
    page.get_by_label("项目代码").fill("harbour")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("heading", name="主管看板 · harbour")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(LIVE_ON)


def read_events(lines: Iterator[str], until: str, seconds: float = 15.0) -> list[tuple[str, dict[str, Any]]]:
    """SSE events (name, data) as they come, up to the first named ``until`` or whose data names it."""
    events: list[tuple[str, dict[str, Any]]] = []
    name = ""
    deadline = time.monotonic() + seconds
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = json.loads(line.removeprefix("data: "))
            events.append((name, data))
            if until in data.values() or until == name:
                return events
        assert time.monotonic() < deadline, f"no event naming {until} in {events}"
    raise AssertionError(f"the stream ended before an event naming {until}: {events}")


def test_a_live_stream_at_one_site_receives_nothing_from_another(page: Page, console_stack: Stack) -> None:
    sign_in(page, "supervisor.harbour")
    expect(page.get_by_role("heading", name="我的工作台")).to_be_visible()
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    live = console_stack.url("console", "/live")
    with httpx.Client(cookies=cookies, timeout=httpx.Timeout(10, read=20)) as client:
        # Another site than the person's is refused outright.
        assert client.get(live, params={"topic": "requests", "site": "riverside"}).status_code == 403
        with client.stream("GET", live, params={"topic": "requests"}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.iter_lines()
            assert read_events(lines, "ready") == [("ready", {})]
            elsewhere = record_inquiry(console_stack, "riverside", f"riverside board {uuid.uuid4().hex[:8]}")
            here = record_inquiry(console_stack, "harbour", f"harbour board {uuid.uuid4().hex[:8]}")
            events = read_events(lines, here)
    # intake publishes in commit order, so the other site's event would have come first.
    assert events and all(data["site"] == "harbour" for _, data in events), events
    assert all(elsewhere not in data.values() for _, data in events)
    created = [data for name, data in events if name == "requests" and data.get("request_id") == here]
    assert created == [{"type": "intake.request.created.v1", "site": "harbour", "request_id": here}]
