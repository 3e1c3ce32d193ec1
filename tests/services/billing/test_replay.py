"""Replaying any event billing consumes changes nothing: JetStream redelivers (an ack lost, a consumer restarted, an
operator's replay of a stream or a dead letter), and whatever billing took from the event the first time (a
charge, a deposit held or returned, a hold on dunning, a unit's occupancy, a move-out's final bill) stays as it
was: no row added, changed or removed in any of billing's tables, its outbox and its timers included.

One history of every kind of event billing takes, with the clerk's work in between (a billing run, a payment),
on each backend; hypothesis then picks which of its events come again, how often and in what order."""

from __future__ import annotations

import weakref
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pm_platform.consumer import Outcome
from pm_platform.envelope import Envelope
from pm_platform.runtime import Runtime
from tests.services.billing.helpers import apply, apply_intake, auth, completed, intake_event, payment

Snapshot = dict[str, list[tuple[Any, ...]]]
# Hypothesis runs every example inside one call of the test, on one runtime per backend: its history is built once.
HISTORIES: weakref.WeakKeyDictionary[Runtime, tuple[list[tuple[str, Envelope]], Snapshot]] = weakref.WeakKeyDictionary()
UNIT = "harbour-R-0801"
OWNER = "harbour-R-0801-owner"


def history(runtime: Runtime) -> list[tuple[str, Envelope]]:
    """Every kind of event billing consumes, about one unit, in the order the other services would send them."""
    unit = {"unit_id": UNIT, "building": "R", "number": "R-0801", "floor": 8, "area_m2": "101.30"}
    about = {"site": "harbour", "unit_id": UNIT}
    intake = [
        ("intake.site.upserted.v1", {"site": "harbour", "name": "Harbour View", "kind": "residential"}),
        ("intake.unit.upserted.v1", {**unit, "paying_party_id": OWNER}),
        ("intake.party.upserted.v1", {"party_id": OWNER, "unit_id": UNIT, "extra_care": [], "move_in": None}),
        (
            "intake.occupancy.moved_in.v1",
            {**about, "move_in_id": "mi-r0801", "party_id": OWNER, "move_in_date": "2026-11-10"},
        ),
        ("intake.decoration.approved.v1", {**about, "permit_id": "dp-r0801", "applicant_party_id": OWNER}),
        ("intake.request.classified.v1", {**about, "request_id": "req-r0801"}),
        (
            "intake.request.status_changed.v1",
            {**about, "request_id": "req-r0801", "kind": "complaint", "complaint_class": "valid"}
            | {"from_status": "in_progress", "to_status": "closed", "party_id": OWNER},
        ),
        ("intake.decoration.settled.v1", {**about, "permit_id": "dp-r0801"}),
        (
            "intake.occupancy.moved_out.v1",
            {**about, "move_out_id": "mo-r0801", "party_id": OWNER, "move_out_date": "2026-11-25"},
        ),
        (
            "intake.occupancy.settlement_requested.v1",
            {**about, "settlement_id": "mo-r0801", "party_id": OWNER, "move_out_date": "2026-11-25"}
            | {"final_readings": [{"meter": "water", "value": "30.0"}]},
        ),
    ]
    events = [
        ("intake", intake_event(runtime, kind, f"ev-{n}-{kind}", **changes)) for n, (kind, changes) in enumerate(intake)
    ]
    repair = completed(runtime, "ev-completed", work_order_id="wo-r0801", request_id="req-r0801", unit_id=UNIT)
    events.insert(5, ("dispatch", repair))
    return events


async def deliver(runtime: Runtime, source: str, event: Envelope) -> str:
    return await (apply_intake if source == "intake" else apply)(runtime, event)


async def snapshot(runtime: Runtime) -> Snapshot:
    """Every row of every billing table, in a stable order."""
    async with runtime.engine.connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in await connection.execute(select(table))), key=repr)
            for table in runtime.metadata.sorted_tables
        }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
async def test_replaying_any_billing_event_in_any_order_changes_nothing(seeded, issue_day, data) -> None:
    runtime, client = seeded
    issue_day(date(2026, 11, 26))
    if runtime not in HISTORIES:
        events = history(runtime)
        clerk = auth(runtime)
        for n, (source, event) in enumerate(events):
            assert await deliver(runtime, source, event) == Outcome.HANDLED, event.type
            if event.type == "intake.occupancy.moved_in.v1":
                issued = await client.post(
                    "/billing-periods", json={"site": "harbour", "period": "2026-11"}, headers=clerk
                )
                assert issued.status_code in (200, 201), issued.text
            if n == 6:
                paid = await client.post("/payments", json=payment("R0801-NOV", 5000, UNIT), headers=clerk)
                assert paid.status_code == 201, paid.text
        before = await snapshot(runtime)
        assert any(row[0] == UNIT for row in before["units"])
        took = {name for name, rows in before.items() if any(UNIT in repr(row) for row in rows)}
        # The history reached every part of billing the events feed (else the replays below would prove little).
        assert {"charges", "deposits", "occupancies", "complaint_holds", "settlements", "payments"} <= took, took
        HISTORIES[runtime] = (events, before)
    events, before = HISTORIES[runtime]
    replays = data.draw(st.lists(st.sampled_from(events), min_size=1, max_size=6), label="replayed")
    for source, event in replays:
        assert await deliver(runtime, source, event) == Outcome.DUPLICATE, event.type
    assert await snapshot(runtime) == before
