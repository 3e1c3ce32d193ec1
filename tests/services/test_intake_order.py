"""Intake's request status depends on events from two streams (dispatch's work-order completion and survey's
follow-up outcome), which its two durable consumers deliver in either order: the end state must not depend on
it. Every interleaving is fed to the real handlers against the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from itertools import combinations
from typing import Any

import pytest

from pm_platform.envelope import Envelope
from tests.services import test_intake as base
from tests.services.test_intake import auth, deliver, detail, envelope, events, post

intake = base.intake  # the fixture, shared with the service's main tests


def interleavings(first: list[Any], second: list[Any]) -> list[list[Any]]:
    """Every merge of two streams that keeps each stream's own order."""
    size = len(first) + len(second)
    merged = []
    for places in combinations(range(size), len(first)):
        a, b = iter(first), iter(second)
        merged.append([next(a) if i in places else next(b) for i in range(size)])
    return merged


def dispatch_round(runtime, rid: str, work_order: str) -> list[Envelope]:
    changes = {"request_id": rid, "work_order_id": work_order}
    return [
        envelope(runtime, "dispatch.workorder.created.v1", changes, correlation=rid),
        envelope(runtime, "dispatch.workorder.completed.v1", changes, correlation=rid),
    ]


def skipped(runtime, rid: str, work_order: str) -> Envelope:
    return envelope(
        runtime, "survey.followup.skipped.v1", {"request_id": rid, "work_order_id": work_order}, correlation=rid
    )


def followed_up(runtime, rid: str, work_order: str, *, satisfied: bool) -> Envelope:
    changes: dict[str, Any] = {"request_id": rid, "work_order_id": work_order, "followup_id": f"fu-{work_order}"}
    if satisfied:
        changes |= {"outcome": "satisfied", "solved": True, "reopen": False, "comment": None}
    return envelope(runtime, "survey.followup.completed.v1", changes, correlation=rid)


OUTCOMES = {
    "skipped": (lambda runtime, rid: skipped(runtime, rid, "wo-1"), "closed"),
    "satisfied": (lambda runtime, rid: followed_up(runtime, rid, "wo-1", satisfied=True), "closed"),
    "not_solved": (lambda runtime, rid: followed_up(runtime, rid, "wo-1", satisfied=False), "reopened"),
}


@pytest.mark.parametrize("outcome", sorted(OUTCOMES))
async def test_a_follow_up_and_its_completion_reach_one_end_in_either_order(intake, outcome) -> None:
    runtime, client = intake
    make, expected = OUTCOMES[outcome]
    orders = interleavings(["created", "completed"], ["followup"])
    assert len(orders) == 3  # the follow-up first, between, and last
    for order in orders:
        rid = (await post(client, runtime))["id"]
        created, completed = dispatch_round(runtime, rid, "wo-1")
        by_name = {"created": created, "completed": completed, "followup": make(runtime, rid)}
        for name in order:
            assert await deliver(runtime, by_name[name]) == "handled"
        result = await detail(client, runtime, rid)
        assert result["status"] == expected, (order, result["status"])
        changes = [
            e for e in await events(runtime, "intake.request.status_changed.v1") if e["data"]["request_id"] == rid
        ]
        steps = [(e["data"]["from_status"], e["data"]["to_status"]) for e in changes]
        assert steps[:2] == [("new", "in_progress"), ("in_progress", "resolved")], order
        # The end is caused by the follow-up, whenever it arrived.
        assert changes[-1]["causationid"] == by_name["followup"].id, order
        reopened = [e for e in await events(runtime, "intake.request.reopened.v1") if e["data"]["request_id"] == rid]
        assert len(reopened) == (1 if expected == "reopened" else 0), order


async def test_rework_after_a_failed_follow_up_converges_in_every_order(intake) -> None:
    """Round one fails its follow-up (reopened, escalated); the rework's completion and its satisfied follow-up
    then arrive in any order, and a late answer about round one never closes the rework."""
    runtime, client = intake
    for order in interleavings(["created", "completed"], ["followup"]):
        rid = (await post(client, runtime))["id"]
        failed = followed_up(runtime, rid, "wo-1", satisfied=False)
        await deliver(runtime, failed)  # before round one's completion: it waits for it
        for event in dispatch_round(runtime, rid, "wo-1"):
            await deliver(runtime, event)
        assert (await detail(client, runtime, rid))["status"] == "reopened"
        late = skipped(runtime, rid, "wo-1")  # about round one: only noted
        assert await deliver(runtime, late) == "handled"
        assert (await detail(client, runtime, rid))["status"] == "reopened"
        created, completed = dispatch_round(runtime, rid, "wo-2")
        by_name = {
            "created": created,
            "completed": completed,
            "followup": followed_up(runtime, rid, "wo-2", satisfied=True),
        }
        for name in order:
            await deliver(runtime, by_name[name])
        result = await detail(client, runtime, rid)
        assert (result["status"], result["reopen_count"]) == ("closed", 1), order


async def test_a_follow_up_waiting_for_its_completion_is_applied_once(intake) -> None:
    runtime, client = intake
    rid = (await post(client, runtime))["id"]
    skip = skipped(runtime, rid, "wo-1")
    assert await deliver(runtime, skip) == "handled"
    assert await deliver(runtime, skip) == "duplicate"
    assert (await detail(client, runtime, rid))["status"] == "new"
    created, completed = dispatch_round(runtime, rid, "wo-1")
    for event in (created, completed, completed):
        await deliver(runtime, event)
    assert (await detail(client, runtime, rid))["status"] == "closed"
    closes = [
        e
        for e in await events(runtime, "intake.request.status_changed.v1")
        if e["data"]["request_id"] == rid and e["data"]["to_status"] == "closed"
    ]
    assert len(closes) == 1
    # A worker of the department still sees the request they worked on (the department came with the events).
    seen = await client.get(f"/requests/{rid}", headers=auth(runtime, roles=("worker",), department="engineering"))
    assert seen.status_code == 200


async def test_two_rounds_end_closed_in_every_order_the_streams_allow(intake) -> None:
    """Round one fails its follow-up, round two satisfies the owner. Each stream keeps its own order, and the
    rework (wo-2) and its follow-up exist only once intake has reopened the request, i.e. after it has seen
    both round one's completion and its failed follow-up; every other order is possible."""
    runtime, client = intake
    dispatch = ["created-1", "completed-1", "created-2", "completed-2"]
    survey = ["followup-1", "followup-2"]

    def possible(order: list[str]) -> bool:
        reopened_at = max(order.index("completed-1"), order.index("followup-1"))
        return order.index("created-2") > reopened_at and order.index("followup-2") > reopened_at

    orders = [order for order in interleavings(dispatch, survey) if possible(order)]
    assert len(orders) == 9
    for order in orders:
        rid = (await post(client, runtime))["id"]
        created_1, completed_1 = dispatch_round(runtime, rid, "wo-1")
        created_2, completed_2 = dispatch_round(runtime, rid, "wo-2")
        by_name = {
            "created-1": created_1,
            "completed-1": completed_1,
            "created-2": created_2,
            "completed-2": completed_2,
            "followup-1": followed_up(runtime, rid, "wo-1", satisfied=False),
            "followup-2": followed_up(runtime, rid, "wo-2", satisfied=True),
        }
        for name in order:
            assert await deliver(runtime, by_name[name]) == "handled"
        result = await detail(client, runtime, rid)
        assert (result["status"], result["reopen_count"]) == ("closed", 1), order


async def deliver_until_done(runtime, event: Envelope) -> str:
    """Deliver as the consumer would: a transient failure (a lock conflict, a busy SQLite file) is retried."""
    for _ in range(50):
        try:
            return await deliver(runtime, event)
        except Exception:  # the consumer retries whatever a handler raises (here: at once)
            continue
    raise AssertionError(f"{event.type} never went through")


async def test_a_completion_and_its_skip_handled_at_the_same_time_still_close_the_request(intake) -> None:
    """The two durables run concurrently: the completion and the skip may be handled in overlapping
    transactions, each not yet seeing what the other wrote."""
    runtime, client = intake
    rids = []
    for _ in range(12):
        rid = (await post(client, runtime))["id"]
        created, completed = dispatch_round(runtime, rid, "wo-1")
        await deliver(runtime, created)
        await asyncio.gather(
            deliver_until_done(runtime, completed), deliver_until_done(runtime, skipped(runtime, rid, "wo-1"))
        )
        rids.append(rid)
    statuses = [(await detail(client, runtime, rid))["status"] for rid in rids]
    assert statuses == ["closed"] * len(rids)
