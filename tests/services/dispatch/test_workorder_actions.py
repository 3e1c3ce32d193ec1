"""dispatch.workorder.actions: the commands a caller may send now, as the state machine allows them (the worker's
screen shows them as buttons)."""

from __future__ import annotations

import pytest

from dispatch.workorder.actions import available_actions
from dispatch.workorder.models import Status, WorkOrder
from pm_platform.auth import Principal
from tests.services.dispatch.helpers import act, auth, new_order, worker


async def actions_of(client, order_id: str, headers: dict[str, str]) -> list[str]:
    response = await client.get(f"/work-orders/{order_id}/actions", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["work_order_id"] == order_id
    return list(response.json()["actions"])


async def test_the_actions_follow_the_order_through_its_states(dispatch) -> None:
    runtime, client = dispatch
    order = await new_order(runtime, client, "req-actions-1")
    engineer = worker(runtime, "eng.harbour")
    assert await actions_of(client, order["id"], engineer) == ["claim", "complete", "return", "transfer"]
    assert await actions_of(client, order["id"], auth(runtime, roles=("agent",))) == []  # the desk only reads

    assert (await act(client, order, "claim", engineer)).status_code == 200
    after_claim = ["on-the-way", "arrive", "pause", "complete", "return", "transfer"]
    assert await actions_of(client, order["id"], engineer) == after_claim
    assert await actions_of(client, order["id"], worker(runtime, "eng-02")) == []  # someone else's order

    paused = await act(client, order, "pause", engineer, {"waiting_for": "parts", "reason": "cartridge on order"})
    assert paused.status_code == 200, paused.text
    assert await actions_of(client, order["id"], engineer) == ["resume", "return", "transfer"]
    assert (await act(client, order, "resume", engineer)).status_code == 200
    assert await actions_of(client, order["id"], engineer) == after_claim

    assert (await act(client, order, "on-the-way", engineer)).status_code == 200
    assert await actions_of(client, order["id"], engineer) == ["arrive", "pause", "complete", "return", "transfer"]
    assert (await act(client, order, "arrive", engineer)).status_code == 200
    assert await actions_of(client, order["id"], engineer) == ["pause", "complete", "return", "transfer"]
    assert (await act(client, order, "complete", engineer, {"result": "Fixed"})).status_code == 200
    assert await actions_of(client, order["id"], engineer) == []


async def test_another_department_s_worker_cannot_read_the_actions(dispatch) -> None:
    runtime, client = dispatch
    order = await new_order(runtime, client, "req-actions-2")
    response = await client.get(
        f"/work-orders/{order['id']}/actions", headers=worker(runtime, "clean.harbour", "cleaning")
    )
    assert response.status_code == 403


def order_in(status: Status, assignee: str | None = None, paused_from: str | None = None) -> WorkOrder:
    return WorkOrder(id="wo-1", status=status, assignee=assignee, paused_from=paused_from)


def engineer(subject: str = "eng.harbour") -> Principal:
    return Principal(subject, frozenset({"worker"}), frozenset({"harbour"}), "engineering")


@pytest.mark.unit
def test_unit_an_assigned_order_is_accepted_not_claimed() -> None:
    assert available_actions(order_in(Status.assigned, "eng.harbour"), engineer()) == [
        "accept",
        "complete",
        "return",
        "transfer",
    ]


@pytest.mark.unit
def test_unit_a_finished_order_offers_nothing_and_a_returned_one_only_a_transfer() -> None:
    for status in (Status.completed, Status.cancelled):
        assert available_actions(order_in(status), engineer()) == []
    assert available_actions(order_in(Status.returned), engineer()) == ["transfer"]


@pytest.mark.unit
def test_unit_a_supervisor_may_act_on_anyone_s_order_and_an_agent_on_none() -> None:
    supervisor = Principal("sup.harbour", frozenset({"supervisor"}), frozenset({"harbour"}))
    agent = Principal("agent.harbour", frozenset({"agent"}), frozenset({"harbour"}))
    held = order_in(Status.on_site, "eng.harbour")
    assert available_actions(held, supervisor) == ["pause", "complete", "return", "transfer"]
    assert available_actions(held, agent) == []
    assert available_actions(held, engineer("eng2.harbour")) == []
