"""The front desk's registers reach residents: a parcel received and still waiting, a document ready to collect,
to the party named or else every active resident of the unit, each by their own preferences and in their
language (SQLite and PostgreSQL)."""

# ruff: noqa: RUF001

from __future__ import annotations

import pytest

from notification.message.handlers import PartyNotYetKnown
from notification.seed import seed
from tests.services.notification.helpers import NIGHT, apply, envelope, messages, party_upserted


async def test_a_parcel_received_tells_the_named_resident_once(notification) -> None:
    runtime, _ = notification
    await seed(runtime)
    received = envelope(runtime, "intake.parcel.received.v1", "evt-parcel")
    assert await apply(runtime, received) == "handled"
    assert await apply(runtime, received) == "duplicate"
    (message,) = await messages(runtime, template="parcel.received")
    assert message.party_id == "harbour-A-0101-owner" and message.channel == "sms" and message.status == "queued"
    assert message.category == "service" and message.language == "zh-CN"
    assert message.body == "您有一件快递包裹（SF Express，收件人 Li Wei）已到服务中心前台（货架 B-3），请凭签名领取"


async def test_a_parcel_for_the_unit_tells_every_active_resident_in_their_language(notification) -> None:
    runtime, _ = notification
    await seed(runtime)
    tenant = party_upserted(
        runtime, "harbour-B-0301-tenant", unit_id="harbour-B-0301", role="tenant", name="Tom Li", phone="13800000044"
    )
    assert await apply(runtime, tenant) == "handled"
    mail = envelope(
        runtime,
        "intake.parcel.uncollected.v1",
        "evt-reminder",
        unit_id="harbour-B-0301",
        party_id=None,
        addressee=None,
        kind="mail",
        shelf=None,
        days_waiting=5,
        reminder=2,
    )
    assert await apply(runtime, mail) == "handled"
    rows = {m.party_id: m for m in await messages(runtime, template="parcel.reminder")}
    assert set(rows) == {"harbour-B-0301-owner", "harbour-B-0301-tenant"}
    assert rows["harbour-B-0301-owner"].language == "en"
    assert rows["harbour-B-0301-owner"].body == (
        "Your letter (SF Express) has waited 5 days at the front desk; please collect it soon"
    )
    # The same reminder delivered as another event is a duplicate; the next reminder is a message of its own.
    again = envelope(
        runtime,
        "intake.parcel.uncollected.v1",
        "evt-reminder-again",
        unit_id="harbour-B-0301",
        party_id=None,
        reminder=2,
    )
    assert await apply(runtime, again) == "handled"
    third = envelope(
        runtime, "intake.parcel.uncollected.v1", "evt-reminder-3", unit_id="harbour-B-0301", party_id=None, reminder=3
    )
    assert await apply(runtime, third) == "handled"
    statuses = sorted((m.status, m.reason or "") for m in await messages(runtime, template="parcel.reminder"))
    assert statuses == [("queued", "")] * 4 + [("suppressed", "duplicate")] * 2


async def test_a_document_ready_waits_out_quiet_hours_and_names_where_to_collect_it(notification, clock) -> None:
    runtime, _ = notification
    await seed(runtime)
    clock.now = NIGHT
    ready = envelope(runtime, "intake.document.ready.v1", "evt-doc", pickup_location=None)
    assert await apply(runtime, ready) == "handled"
    (message,) = await messages(runtime, template="document.ready")
    assert message.body == "您办理的Property ownership certificate已办好，请到服务中心前台领取"
    assert message.deferred_until is not None  # routine service news: not at night


async def test_a_register_event_naming_a_party_not_yet_known_is_retried(notification) -> None:
    runtime, _ = notification
    unknown = envelope(runtime, "intake.document.ready.v1", "evt-doc-2", party_id="harbour-A-0101-tenant")
    with pytest.raises(PartyNotYetKnown):
        await apply(runtime, unknown)
    moved_out = party_upserted(runtime, active=False)
    assert await apply(runtime, moved_out) == "handled"
    gone = envelope(runtime, "intake.parcel.received.v1", "evt-parcel-2")
    assert await apply(runtime, gone) == "handled"
    assert await messages(runtime, template="parcel.received") == []
