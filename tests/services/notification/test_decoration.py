"""notification.decoration: a permit's neighbours hear of the works within quiet hours, the applicant of the
permit's decisive steps, the payer of the deposit's return with each deduction (on SQLite and PostgreSQL,
intake's and billing's events applied through notification's inbox). Also: a decoration inspection's work order
tells the department on duty and never looks for a reporter."""

from __future__ import annotations

from notification.message.sender import send_pending
from notification.seed import seed
from tests.services.notification.helpers import (
    MORNING,
    NIGHT,
    apply,
    envelope,
    messages,
    outbox_events,
    sink,
    utc,
)

APPROVED = "intake.decoration.approved.v1"
STATUS = "intake.decoration.status_changed.v1"
RETURNED = "billing.deposit.returned.v1"


async def test_an_approval_tells_the_neighbours_once_and_waits_out_their_quiet_hours(notification, clock) -> None:
    runtime, _ = notification
    await seed(runtime)
    event = envelope(runtime, APPROVED, "evt-approved", neighbour_unit_ids=["harbour-A-0102", "harbour-B-0301"])
    assert await apply(runtime, event) == "handled"
    assert await apply(runtime, event) == "duplicate"
    # The same approval again (another event id): the notice's dedupe key holds.
    assert await apply(runtime, envelope(runtime, APPROVED, "evt-approved-again")) == "handled"

    told = await messages(runtime, template="decoration.neighbours", status="queued")
    assert sorted(m.party_id for m in told) == ["harbour-A-0102-owner", "harbour-B-0301-owner"]
    by_party = {m.party_id: m.body for m in told}
    assert by_party["harbour-A-0102-owner"] == (
        "【装修通知】A-0101 将于 2026-12-07 至 2027-01-31 装修，每日施工时间 08:00-18:00，"  # noqa: RUF001
        "施工单位：Harbour Renovation Co.。其他时间请勿施工，如有噪音扰民请致电客服中心。"  # noqa: RUF001
    )
    assert by_party["harbour-B-0301-owner"].startswith("[Renovation notice] A-0101 is being renovated from 2026-12-07")
    assert not await messages(runtime, party_id="harbour-A-0101-owner")  # the applicant is no neighbour

    clock.now = NIGHT
    late = envelope(runtime, APPROVED, "evt-night", permit_id="dp-night", neighbour_unit_ids=["harbour-A-0102"])
    await apply(runtime, late)
    [held] = await messages(runtime, source_event_id="evt-night")
    assert (held.status, utc(held.deferred_until), utc(held.next_attempt_at)) == ("queued", MORNING, MORNING)


async def test_the_applicant_hears_of_the_decisive_steps_in_their_language(notification) -> None:
    runtime, _ = notification
    await seed(runtime)
    await apply(runtime, envelope(runtime, STATUS, "evt-approve"))
    await apply(runtime, envelope(runtime, STATUS, "evt-approve"))
    await apply(
        runtime,
        envelope(runtime, STATUS, "evt-review", from_status="applied", to_status="under_review", action="start_review"),
    )
    await apply(
        runtime,
        envelope(
            runtime,
            STATUS,
            "evt-stop",
            from_status="in_works",
            to_status="stopped",
            action="stop",
            reason="Noisy work at 21:30",
            changed_at="2026-12-12T13:40:00+00:00",
        ),
    )
    told = sorted(await messages(runtime, template="decoration.status"), key=lambda m: m.source_event_id)
    assert [(m.party_id, m.source_event_id) for m in told] == [
        ("harbour-A-0101-owner", "evt-approve"),
        ("harbour-A-0101-owner", "evt-stop"),
    ]
    assert told[0].body == (
        "您的装修申请 dp-7f3a（A-0101）已批准，缴纳装修押金和管理费后即可开工："  # noqa: RUF001
        "No work on the bathroom's waterproofing without a 48-hour water test."
    )
    assert told[1].body == "您的装修申请 dp-7f3a（A-0101）已被责令停工：Noisy work at 21:30"  # noqa: RUF001

    # In English for an English-speaking applicant, named by the event.
    await apply(
        runtime,
        envelope(
            runtime,
            STATUS,
            "evt-reject",
            unit_id="harbour-B-0301",
            permit_id="dp-b",
            from_status="under_review",
            to_status="rejected",
            action="reject",
            reason="Plan moves a load-bearing wall",
            applicant_party_id="harbour-B-0301-owner",
        ),
    )
    [rejected] = await messages(runtime, source_event_id="evt-reject")
    assert rejected.body == "Your decoration permit dp-b (B-0301) was not approved: Plan moves a load-bearing wall"
    assert await send_pending(runtime, sink(runtime)) == 3
    assert len(await outbox_events(runtime)) == 3


async def test_the_payer_hears_of_the_deposits_return_and_every_deduction(notification) -> None:
    runtime, _ = notification
    await seed(runtime)
    # No paying tenant: the unit's owner hears of it.
    event = envelope(runtime, RETURNED, "evt-returned")
    assert await apply(runtime, event) == "handled"
    [told] = await messages(runtime, template="deposit.returned")
    assert told.party_id == "harbour-A-0101-owner"
    assert told.body == (
        "您的装修押金（dp-7f3a，A-0101）2000.00 元已结算：扣除 200.00 元"  # noqa: RUF001
        "（Fine: noisy work at 21:30 on 2026-12-12 (stop order 1) 200.00 元），退还 1800.00 元。"  # noqa: RUF001
    )
    assert told.category == "service"
    # A tenancy deposit back at a move-out is called what it is, not a decoration deposit.
    changes = {"purpose": "tenancy", "reference": "mo-5c1e", "deductions": [], "deducted_cents": 0}
    tenancy = envelope(runtime, RETURNED, "evt-tenancy", deposit_id="dep-t", returned_cents=200000, **changes)
    assert await apply(runtime, tenancy) == "handled"
    [told] = await messages(runtime, source_event_id="evt-tenancy")
    assert told.body == "您的租赁押金（mo-5c1e，A-0101）2000.00 元已结算：扣除 0.00 元，退还 2000.00 元。"  # noqa: RUF001


async def test_an_inspection_work_order_tells_the_department_and_looks_for_no_reporter(notification) -> None:
    runtime, _ = notification
    await seed(runtime)
    for event_type in (
        "dispatch.workorder.created.v1",
        "dispatch.workorder.status_changed.v1",
        "dispatch.workorder.completed.v1",
    ):
        event = envelope(
            runtime,
            event_type,
            f"evt-{event_type}",
            request_id="di-19c2",
            inspection_id="di-19c2",
            to_status="accepted",
        )
        assert await apply(runtime, event) == "handled"  # no waiting for a request that will never come
    assert not await messages(runtime, audience="owner")
    [duty] = await messages(runtime, audience="staff")
    assert (duty.template, duty.request_id) == ("staff.workorder.new", None)
