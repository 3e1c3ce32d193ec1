"""A department follows its work orders with its own read-only NATS login, on the stack `make run` starts
(every service logged in with its generated user), and those events carry no owner contact data."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from queue import Empty, Queue
from typing import Any

import httpx
import nats
import pytest

from pm_platform import bus, natsauth
from tests.e2e.conftest import Stack, eventually, items

pytestmark = pytest.mark.timeout(180)

# Units the other end-to-end tests leave alone (a second repair on a unit would be a possible duplicate);
# their owners' names and phones, as in deploy/demo.yaml.
OWNERS = {
    "harbour-B-0301": ("Emily Chen", "13800000004", "emily.chen@example.com"),
    "harbour-A-1201": ("Zhang Min", "13800000003", None),
}


def post_repair(stack: Stack, unit: str) -> str:
    name, phone, _ = OWNERS[unit]
    repair = {
        "site": "harbour",
        "kind": "repair",
        "channel": "phone",
        "category": "water",
        "priority": "normal",
        "description": "Bathroom tap dripping",
        "unit_id": unit,
        "in_unit": True,
        "reporter": {"party_id": f"{unit}-owner", "name": name, "phone": phone},
    }
    response = httpx.post(
        stack.url("intake", "/requests"), json=repair, headers=stack.token("agent.harbour", ["agent"], ["harbour"])
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def work_order_of(stack: Stack, request_id: str) -> dict[str, Any]:
    worker = stack.token("eng.harbour", ["worker"], ["harbour"], department="engineering")

    def find() -> dict[str, Any] | None:
        listing = httpx.get(stack.url("dispatch", "/work-orders"), params={"site": "harbour"}, headers=worker)
        return next((w for w in items(listing.json()) if w["request_id"] == request_id), None)

    return dict(eventually(find))


async def department_events(stack: Stack, user: str, site: str, department: str) -> list[dict[str, Any]]:
    nc = await nats.connect(
        stack.nats_url,
        user=user,
        password=stack.nats_passwords[natsauth.password_variable(user)],
        inbox_prefix=natsauth.inbox_prefix(user),
    )
    try:
        subscription = await bus.watch_workorders(nc, site, department, history=True)
        events = []
        while True:
            try:
                message = await subscription.next_msg(timeout=2)
            except nats.errors.TimeoutError:
                return events
            events.append(json.loads(message.data))
    finally:
        await nc.close()


def test_department_events_carry_no_owner_contact_data(stack: Stack) -> None:
    request_id = post_repair(stack, "harbour-B-0301")
    order = work_order_of(stack, request_id)
    events = asyncio.run(department_events(stack, "dept-harbour-engineering", "harbour", "engineering"))
    mine = [e for e in events if e["data"].get("work_order_id") == order["id"]]
    assert any(e["type"] == "dispatch.workorder.created.v1" for e in mine)
    assert {(e["site"], e["department"]) for e in events} == {("harbour", "engineering")}
    name, phone, email = OWNERS["harbour-B-0301"]
    for event in mine:
        text = json.dumps(event, ensure_ascii=False)
        assert name not in text and phone not in text and str(email) not in text, text


def test_pm_watch_logs_in_as_the_department(stack: Stack) -> None:
    """`pm watch` finds the department's password in var/nats/credentials.env (as after `make run`)."""
    request_id = post_repair(stack, "harbour-A-1201")
    order = work_order_of(stack, request_id)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PM_NATS_")}
    env.update({"PM_VAR_DIR": str(stack.var_dir), "PM_NATS_URL": stack.nats_url})
    watcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pm_platform.cli",
            "watch",
            "--site",
            "harbour",
            "--department",
            "engineering",
            "--history",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: Queue[str] = Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in watcher.stdout or []], daemon=True).start()
    seen: list[str] = []
    try:
        while not any(order["id"][:8] in line and "created" in line for line in seen):
            try:
                seen.append(lines.get(timeout=30))
            except Empty:
                raise AssertionError(f"no line for {order['id'][:8]}: {seen}") from None
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)
    assert "as dept-harbour-engineering" in seen[0]
    assert not any(OWNERS["harbour-A-1201"][1] in line for line in seen)
