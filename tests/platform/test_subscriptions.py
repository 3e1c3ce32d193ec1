"""Typed subscriptions and typed emit: a handler receives its event's model and the envelope; the consumer
sees one envelope-level handler per event type; data the model refuses is a contract violation; a producer's
model is written as the payload it would have written as a dict (its keys, in its order, nulls kept)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, cast

import pytest

from pm_events import Event
from pm_events.dispatch import WorkOrderCompleted
from pm_events.intake import RequestCreated
from pm_platform.contracts import ContractViolation, load_catalog
from pm_platform.envelope import Envelope
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

CATALOG = load_catalog(REPO_ROOT / "contracts")


def _example(event_type: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CATALOG.contract(event_type).examples[0].read_text())
    return data


def _uow(service: str) -> UnitOfWork:
    return UnitOfWork(cast(Runtime, SimpleNamespace(catalog=CATALOG, settings=SimpleNamespace(service=service))))


def _envelope(model: type[Event], data: dict[str, Any]) -> Envelope:
    contract = CATALOG.contract(model.event_type)
    return Envelope(
        source=f"pm/{contract.producer}",
        type=model.event_type,
        subject="s",
        dataschema=contract.dataschema,
        site=data["site"],
        department=data.get("department") if contract.has_department else None,
        correlationid="corr-1",
        data=data,
    )


async def test_a_handler_gets_the_model_and_the_envelope() -> None:
    subscriptions = Subscriptions()
    seen: list[tuple[Event, Envelope]] = []

    @subscriptions.on(WorkOrderCompleted)
    async def on_completed(event: WorkOrderCompleted, envelope: Envelope, uow: UnitOfWork) -> None:
        seen.append((event, envelope))

    handler = subscriptions.handlers["dispatch.workorder.completed.v1"]
    assert handler.__name__ == "on_completed"
    data = {**_example("dispatch.workorder.completed.v1"), "added_in_a_later_minor": [1, 2]}
    envelope = _envelope(WorkOrderCompleted, data)
    await handler(envelope, cast(UnitOfWork, None))
    [(event, received)] = seen
    assert isinstance(event, WorkOrderCompleted)
    assert event.work_order_id == data["work_order_id"] and received is envelope
    assert event.payload() == data  # an unknown (added) field is kept


async def test_data_the_model_refuses_is_a_contract_violation() -> None:
    subscriptions = Subscriptions()

    @subscriptions.on(RequestCreated)
    async def on_created(event: RequestCreated, envelope: Envelope, uow: UnitOfWork) -> None:
        raise AssertionError("not reached")

    data = {**_example("intake.request.created.v1"), "priority": "whenever"}
    with pytest.raises(ContractViolation, match="priority"):
        await subscriptions.handlers["intake.request.created.v1"](
            _envelope(RequestCreated, data), cast(UnitOfWork, None)
        )
    wrong_type = _envelope(WorkOrderCompleted, _example("dispatch.workorder.completed.v1"))
    with pytest.raises(ContractViolation, match="type"):
        await subscriptions.handlers["intake.request.created.v1"](wrong_type, cast(UnitOfWork, None))


def test_emit_writes_the_payload_given_in_the_contracts_order() -> None:
    """The fields given, whatever order a producer named them in, in the contract's order (unknown ones after, as
    given): an explicit null kept, an absent optional field left out; the same event is the same JSON."""
    data = _example("intake.request.created.v1")
    given = {key: data[key] for key in reversed(list(data))} | {"possible_duplicate_of": None, "added_later": 1}
    given.pop("building", None)
    envelope = _uow("intake").emit(RequestCreated(**given), subject="r", site=data["site"], correlation_id="r")
    assert envelope.type == "intake.request.created.v1"
    assert envelope.dataschema == "urn:pm:contracts:intake.request.created.v1"
    declared = list(CATALOG.schema("intake.request.created.v1")["properties"])
    assert list(envelope.data) == [key for key in declared if key in given] + ["added_later"]
    assert envelope.data == given
    assert "building" not in envelope.data
    in_order = {key: given[key] for key in envelope.data}
    again = _uow("intake").emit(RequestCreated(**in_order), subject="r", site=data["site"], correlation_id="r")
    assert json.dumps(again.data) == json.dumps(envelope.data)


async def test_an_event_a_handler_cannot_build_is_a_contract_violation() -> None:
    """Permanent (dead-lettered at once), as the catalog check on emit made it; other errors pass through."""
    subscriptions = Subscriptions()

    @subscriptions.on(WorkOrderCompleted)
    async def on_completed(event: WorkOrderCompleted, envelope: Envelope, uow: UnitOfWork) -> None:
        RequestCreated.model_validate({"request_id": event.request_id})

    envelope = _envelope(WorkOrderCompleted, _example("dispatch.workorder.completed.v1"))
    with pytest.raises(ContractViolation, match="data/"):
        await subscriptions.handlers["dispatch.workorder.completed.v1"](envelope, cast(UnitOfWork, None))

    @subscriptions.on(WorkOrderCompleted)
    async def on_completed_failing(event: WorkOrderCompleted, envelope: Envelope, uow: UnitOfWork) -> None:
        raise RuntimeError("the database is down")

    with pytest.raises(RuntimeError):
        await subscriptions.handlers["dispatch.workorder.completed.v1"](envelope, cast(UnitOfWork, None))
