"""The typed event models (pm_events) stay what the schemas say: regenerating gives the committed modules,
every catalog event type has its model, and every example round-trips through its model unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pm_events import EVENTS, Event
from pm_events.generate import PACKAGE, class_name, render
from pm_platform.contracts import load_catalog
from pm_platform.settings import REPO_ROOT

CATALOG = load_catalog(REPO_ROOT / "contracts")
EXAMPLES = [(event_type, path) for event_type, contract in CATALOG.events.items() for path in contract.examples]


def test_generated_modules_match_the_schemas() -> None:
    rendered = render()
    for filename, code in rendered.items():
        assert (PACKAGE / filename).read_text() == code, f"{filename} drifted: run `python -m pm_events.generate`"


def test_every_catalog_event_has_its_model() -> None:
    assert set(EVENTS) == set(CATALOG.events)
    for event_type, model in EVENTS.items():
        assert model.event_type == event_type
        assert model.__name__ == class_name(event_type)


def test_class_names_read_well() -> None:
    assert class_name("dispatch.workorder.timelimit.v1") == "WorkOrderTimeLimit"
    assert class_name("intake.request.timelimit.v1") == "RequestTimeLimit"
    assert class_name("intake.request.status_changed.v2") == "RequestStatusChangedV2"


@pytest.mark.parametrize(("event_type", "path"), EXAMPLES, ids=[p.name for _, p in EXAMPLES])
def test_examples_round_trip(event_type: str, path: Path) -> None:
    text = path.read_text()
    payload = json.loads(text)
    event = EVENTS[event_type].model_validate(payload)
    again = event.payload()
    assert json.dumps(again) == json.dumps(payload)  # the same keys, in the same order, the same values
    CATALOG.validate_data(event_type, again)


def test_an_added_field_is_kept_and_an_explicit_null_stays() -> None:
    """A consumer of v1 keeps working when a producer adds an optional field (forward compatibility)."""
    path = CATALOG.events["intake.request.created.v1"].examples[0]
    payload = {**json.loads(path.read_text()), "added_later": {"x": 1}, "location": None}
    event = EVENTS["intake.request.created.v1"].model_validate(payload)
    assert event.payload() == payload
    assert isinstance(event, Event)
