"""notification.contact: party copies follow intake's events (on SQLite and PostgreSQL)."""

from __future__ import annotations

from notification.contact.models import Party
from tests.services.notification.helpers import apply, envelope, messages, party_upserted


async def test_party_copies_follow_intake_and_ignore_older_versions(notification) -> None:
    runtime, _ = notification
    await apply(runtime, party_upserted(runtime, updated_at="2026-11-23T09:00:00+00:00", phone="13811111111"))
    await apply(
        runtime,
        party_upserted(runtime, event_id="evt-old", updated_at="2026-11-23T08:00:00+00:00", phone="13800000000"),
    )
    await apply(
        runtime,
        party_upserted(
            runtime, event_id="evt-moved-out", updated_at="2026-11-23T10:00:00+00:00", phone="13811111111", active=False
        ),
    )
    await apply(runtime, envelope(runtime, "intake.unit.upserted.v1", "evt-unit"))
    async with runtime.sessionmaker() as session:
        party = await session.get(Party, "harbour-A-0101-owner")
    assert party is not None
    assert (party.phone, party.active, party.extra_care, party.email) == (
        "13811111111",
        False,
        "",
        "li.wei@example.com",
    )
    # A moved-out party is not invited to surveys any more.
    assert await apply(runtime, envelope(runtime, "survey.invitation.requested.v1", "evt-survey")) == "handled"
    assert await messages(runtime) == []
