"""notification.onetime: a sign-in code texted at once for the console, logged without the code."""

from __future__ import annotations

import json

from notification.message.models import Status
from pm_platform.problems import PROBLEM_JSON
from tests.services.notification.helpers import NIGHT, auth, messages

CONSOLE = {"roles": ("operator",), "sites": ("*",), "sub": "console"}
CODE = {"site": "harbour", "phone": "13800000001", "code": "493817", "party_id": "harbour-A-0101-owner"}


async def test_a_code_goes_out_at_once_even_in_quiet_hours_and_the_log_does_not_hold_it(
    notification, clock, tmp_path
) -> None:
    runtime, client = notification
    clock.now = NIGHT  # quiet hours do not hold back a code the owner is waiting for
    sent = await client.post("/one-time-codes", json={**CODE, "language": "en"}, headers=auth(runtime, **CONSOLE))
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == Status.sent
    [line] = (tmp_path / "notifications" / "sink.jsonl").read_text(encoding="utf-8").splitlines()
    delivered = json.loads(line)
    assert (delivered["recipient"], delivered["template"], delivered["language"]) == (
        "13800000001",
        "sign_in.code",
        "en",
    )
    assert "493817" in delivered["body"]
    [logged] = await messages(runtime)
    assert logged.id == sent.json()["message_id"] and logged.status == Status.sent
    assert "493817" not in logged.body and "******" in logged.body
    assert (logged.party_id, logged.audience, logged.recipient) == ("harbour-A-0101-owner", "owner", "13800000001")


async def test_only_the_console_service_identity_may_text_codes_and_only_codes(notification) -> None:
    runtime, client = notification
    agent = await client.post("/one-time-codes", json=CODE, headers=auth(runtime))
    assert agent.status_code == 403 and agent.headers["content-type"] == PROBLEM_JSON
    owner = auth(runtime, roles=("owner",), party_id="harbour-A-0101-owner", sub="harbour-A-0101-owner")
    assert (await client.post("/one-time-codes", json=CODE, headers=owner)).status_code == 403
    other_site = auth(runtime, roles=("operator",), sites=("riverside",), sub="console")
    assert (await client.post("/one-time-codes", json=CODE, headers=other_site)).status_code == 403
    text = await client.post("/one-time-codes", json={**CODE, "code": "call 123"}, headers=auth(runtime, **CONSOLE))
    assert text.status_code == 422 and text.json()["field"] == "code"
    assert await messages(runtime) == []
