"""notification.preference: opt-outs and quiet hours an owner sets (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from notification.config import NotificationSettings
from notification.contact.models import Party
from notification.message import service as message_service
from notification.preference.models import Preference
from notification.preference.service import default_channels, effective
from notification.seed import seed
from notification.times import quiet_until
from pm_platform.problems import PROBLEM_JSON
from tests.services.notification.helpers import MORNING, NIGHT, apply, auth, envelope, messages, request_created, utc


async def test_optional_categories_can_be_opted_out_of_and_service_critical_ones_cannot(notification) -> None:
    runtime, client = notification
    await seed(runtime)
    owner = auth(runtime, roles=("owner",), party_id="harbour-A-0101-owner", sub="harbour-A-0101-owner")
    url = "/preferences/harbour-A-0101-owner"
    default = await client.get(url, headers=owner)
    assert default.status_code == 200
    assert default.json() | {"updated_at": None} == {
        "party_id": "harbour-A-0101-owner",
        "site": "harbour",
        "channels": ["sms"],
        "language": "zh-CN",
        "opt_outs": [],
        "quiet_hours": True,
        "quiet_start": "22:00",
        "quiet_end": "08:00",
        "timezone": "Asia/Shanghai",
        "customised": False,
        "updated_at": None,
    }

    refused = await client.put(url, json={"opt_outs": ["surveys", "service"]}, headers=owner)
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM_JSON
    assert refused.json()["field"] == "opt_outs"
    assert "service messages cannot be opted out of" in refused.text
    assert (await client.put(url, json={"opt_outs": ["emergency"]}, headers=owner)).status_code == 422
    assert (await client.put(url, json={"channels": []}, headers=owner)).status_code == 422
    # An owner manages only their own preferences.
    assert (await client.get("/preferences/harbour-A-0102-owner", headers=owner)).status_code == 404

    changed = await client.put(
        url, json={"opt_outs": ["surveys", "events"], "channels": ["sms", "push"]}, headers=owner
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["opt_outs"], changed.json()["channels"]) == (["events", "surveys"], ["sms", "push"])

    await apply(runtime, envelope(runtime, "survey.invitation.requested.v1", "evt-survey"))
    await apply(runtime, request_created(runtime, party_id="harbour-A-0101-owner"))
    rows = {(m.template, m.channel): (m.status, m.reason, m.recipient) for m in await messages(runtime)}
    assert rows == {
        ("survey.invitation", "sms"): ("suppressed", "opt_out", "13800000001"),
        ("survey.invitation", "push"): ("suppressed", "opt_out", "harbour-A-0101-owner"),
        ("request.acknowledged", "sms"): ("queued", None, "13800000001"),  # service-critical: still sent
        ("request.acknowledged", "push"): ("queued", None, "harbour-A-0101-owner"),
    }


async def test_an_owner_may_turn_quiet_hours_off_or_move_them(notification, clock) -> None:
    runtime, client = notification
    await seed(runtime)
    agent = auth(runtime)
    await client.put("/preferences/harbour-A-0101-owner", json={"quiet_hours": False}, headers=agent)
    moved = await client.put(
        "/preferences/harbour-A-0102-owner", json={"quiet_start": "23:30", "quiet_end": "06:00"}, headers=agent
    )
    assert (moved.json()["quiet_start"], moved.json()["quiet_end"]) == ("23:30", "06:00")
    clock.now = NIGHT  # 23:00: inside the default window, outside 23:30-06:00
    notice = message_service.Notice(
        template="broadcast.notice",
        category=message_service.Category.service,
        site="harbour",
        source_event_id="evt-x",
        correlation_id="c",
        localised={"title": {"zh-CN": "停水"}, "message": {"zh-CN": "明天停水"}},
    )
    async with runtime.uow() as uow:
        for party_id in ("harbour-A-0101-owner", "harbour-A-0102-owner", "harbour-A-1201-owner"):
            party = await uow.session.get(Party, party_id)
            assert party is not None
            recipient = await message_service.party_recipient(uow.session, party, NotificationSettings())
            await message_service.notify(uow, notice, recipient)
        await uow.commit()
    deferred = {m.party_id: utc(m.deferred_until) for m in await messages(runtime)}
    assert deferred == {"harbour-A-0101-owner": None, "harbour-A-0102-owner": None, "harbour-A-1201-owner": MORNING}


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


SHANGHAI = "Asia/Shanghai"  # UTC+8: 22:00 there is 14:00 UTC, 08:00 is 00:00 UTC


@pytest.mark.unit
def test_unit_quiet_hours_span_midnight_in_the_sites_time_and_end_at_their_end() -> None:
    night, morning = time(22, 0), time(8, 0)
    assert quiet_until(datetime(2026, 11, 23, 13, 59, tzinfo=UTC), night, morning, SHANGHAI) is None
    assert quiet_until(datetime(2026, 11, 23, 14, 0, tzinfo=UTC), night, morning, SHANGHAI) == datetime(
        2026, 11, 24, 0, 0, tzinfo=UTC
    )
    assert quiet_until(datetime(2026, 11, 23, 20, 0, tzinfo=UTC), night, morning, SHANGHAI) == datetime(
        2026, 11, 24, 0, 0, tzinfo=UTC
    )
    assert quiet_until(datetime(2026, 11, 24, 0, 0, tzinfo=UTC), night, morning, SHANGHAI) is None
    # A daytime quiet period, and none at all when it starts where it ends.
    assert quiet_until(datetime(2026, 11, 23, 5, 0, tzinfo=UTC), time(12, 0), time(14, 0), SHANGHAI) == datetime(
        2026, 11, 23, 6, 0, tzinfo=UTC
    )
    assert quiet_until(datetime(2026, 11, 23, 14, 0, tzinfo=UTC), night, night, SHANGHAI) is None


@pytest.mark.unit
def test_unit_the_default_channel_is_sms_with_a_phone_email_without_and_none_without_either() -> None:
    assert default_channels("13800000001", "li@example.com") == ("sms",)
    assert default_channels(None, "li@example.com") == ("email",)
    assert default_channels(None, None) == ()


@pytest.mark.unit
def test_unit_a_partys_choices_override_the_defaults() -> None:
    config = NotificationSettings()
    party = Party(party_id="p-1", site="harbour", phone="13800000001", email="li@example.com", language="en-GB")
    defaults = effective(party, None, config)
    assert (defaults.channels, defaults.language, defaults.opt_outs) == (("sms",), "en", frozenset())
    assert (defaults.quiet, defaults.customised) == ((config.quiet_start, config.quiet_end), False)
    chosen = Preference(
        party_id="p-1",
        channels=["email"],
        language="zh-CN",
        opt_outs=["survey"],
        quiet_hours=True,
        quiet_start="23:30",
        quiet_end=None,
    )
    mine = effective(party, chosen, config)
    assert (mine.channels, mine.language, mine.opt_outs) == (("email",), "zh-CN", frozenset({"survey"}))
    assert (mine.quiet, mine.customised) == ((time(23, 30), config.quiet_end), True)
    no_quiet = Preference(party_id="p-1", channels=None, language=None, opt_outs=[], quiet_hours=False)
    assert effective(party, no_quiet, config).quiet is None
    assert effective(party, no_quiet, config).channels == ("sms",)
