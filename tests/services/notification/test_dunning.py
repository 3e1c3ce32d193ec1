"""notification.dunning: a dunning notice, reminder or formal letter (billing.dunning.step.v1) goes to the unit's
payer once, in their language; a call or a visit is staff work and sends nothing (on SQLite and PostgreSQL)."""

from __future__ import annotations

from notification.seed import seed
from tests.services.notification.helpers import apply, envelope, messages

STEP = "billing.dunning.step.v1"


async def test_the_payer_is_written_to_at_the_written_steps_only(notification) -> None:
    runtime, _ = notification
    await seed(runtime)
    reminder = envelope(runtime, STEP, "evt-dun-1")
    assert await apply(runtime, reminder) == "handled"
    assert await apply(runtime, envelope(runtime, STEP, "evt-dun-1-again")) == "handled"  # same step: deduped
    [told] = [m for m in await messages(runtime, template="dunning.reminder") if m.status != "suppressed"]
    assert told.party_id == "harbour-A-0101-owner"
    assert told.body == "【再次提醒】A-0101 逾期 16 天的费用 250.60 元仍未缴纳，请尽快缴纳或与我们商量分期方案。"  # noqa: RUF001

    call = envelope(runtime, STEP, "evt-dun-call", step_id="dun-call", action="call")
    assert await apply(runtime, call) == "handled"
    letter = envelope(
        runtime,
        STEP,
        "evt-dun-letter",
        step_id="dun-letter",
        action="letter",
        unit_id="harbour-B-0301",
        days_overdue=95,
    )
    assert await apply(runtime, letter) == "handled"
    [formal] = await messages(runtime, template="dunning.letter", party_id="harbour-B-0301-owner")
    assert formal.body.startswith("[Formal notice] B-0301 owes 250.60 yuan") and "(95 days)" in formal.body
    templates = {m.template for m in await messages(runtime)}
    assert not any(t.startswith("dunning.") and t not in ("dunning.reminder", "dunning.letter") for t in templates)
