"""Contract tests: the schemas, the catalog, the examples, the services' subscriptions and emissions and the
JetStream topology agree with one another. No network, no NATS, no database connection."""

from __future__ import annotations

import ast
import copy
import importlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar, cast

import pytest
from jsonschema import Draft202012Validator

from pm_events import EVENTS, Event
from pm_events.dispatch import WorkOrderCreated
from pm_platform.bus import load_topology
from pm_platform.compat import compare_directories
from pm_platform.contracts import ContractViolation, EventContract, load_catalog
from pm_platform.envelope import Envelope
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT
from pm_platform.subjects import InvalidToken
from pm_platform.uow import UnitOfWork

CONTRACTS = REPO_ROOT / "contracts"
DEPLOY = REPO_ROOT / "deploy"
SERVICES = ("intake", "dispatch", "billing", "survey", "notification")
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
# <service>.<aggregate>.<event>.v<major>, as the envelope schema's ``type`` pattern.
EVENT_TYPE = re.compile(r"^([a-z]+)\.[a-z_]+\.[a-z_]+\.v([0-9]+)$")

catalog = load_catalog(CONTRACTS)
topology = load_topology(DEPLOY)
EVENT_TYPES = sorted(catalog.events)
EXAMPLES = [(t, example) for t in EVENT_TYPES for example in catalog.events[t].examples]
SCHEMA_FILES = sorted(
    [
        CONTRACTS / "envelope.schema.json",
        *CONTRACTS.glob("events/*.schema.json"),
        *CONTRACTS.glob("baseline/*.schema.json"),
    ]
)


def _name(path: Path) -> str:
    return str(path.relative_to(CONTRACTS))


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` one or more."""
    pattern_tokens, subject_tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(pattern_tokens):
        if token == ">":
            return len(subject_tokens) > index
        if index >= len(subject_tokens) or token not in ("*", subject_tokens[index]):
            return False
    return len(pattern_tokens) == len(subject_tokens)


def sample_subject(contract: EventContract) -> str:
    return contract.subject.format(site="harbour", department="engineering")


def envelope_for(event_type: str, data: dict[str, Any], **attributes: Any) -> dict[str, Any]:
    """A full envelope as a producer of ``event_type`` writes it (``attributes`` override or, as None, drop)."""
    contract = catalog.contract(event_type)
    document: dict[str, Any] = {
        "specversion": "1.0",
        "id": "6f1c1b8e-3c55-4a49-9d5a-0d6a2f3b9a10",
        "source": f"pm/{contract.producer}",
        "type": event_type,
        "time": "2026-11-23T08:30:00+00:00",
        "subject": str(data.get("request_id") or data.get("site") or "subject"),
        "datacontenttype": "application/json",
        "dataschema": contract.dataschema,
        "site": data.get("site", "harbour"),
        "correlationid": str(data.get("request_id") or "req-0001"),
        "causationid": "0b6f9d7e-2a1d-4c0e-8f1a-5a0c9e3d7b22",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "data": data,
    }
    if contract.has_department:
        document["department"] = data.get("department")
    document.update(attributes)
    return {key: value for key, value in document.items() if value is not None}


def example_data(event_type: str) -> dict[str, Any]:
    return cast(dict[str, Any], _load(catalog.contract(event_type).examples[0]))


# --- schemas ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=_name)
def test_schema_is_valid_draft_2020_12(path: Path) -> None:
    schema = _load(path)
    assert schema.get("$schema") == DRAFT_2020_12
    Draft202012Validator.check_schema(schema)


def test_every_event_schema_is_in_the_catalog() -> None:
    in_catalog = {contract.schema_path.resolve() for contract in catalog.events.values()}
    orphans = [_name(p) for p in CONTRACTS.glob("events/*.schema.json") if p.resolve() not in in_catalog]
    assert orphans == []


# --- catalog ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_catalog_entry(event_type: str) -> None:
    contract = catalog.events[event_type]
    match = EVENT_TYPE.match(event_type)
    assert match, f"{event_type} is not <service>.<aggregate>.<event>.v<major>"
    assert contract.schema_path.is_file(), contract.schema_path
    assert contract.schema_path.name == f"{event_type}.schema.json"
    schema = _load(contract.schema_path)
    assert schema["$id"] == f"urn:pm:contracts:{event_type}"
    assert schema.get("type") == "object"
    assert contract.subject.startswith(f"{event_type}.")
    assert contract.subject in (f"{event_type}.{{site}}", f"{event_type}.{{site}}.{{department}}")
    assert contract.producer == match.group(1)
    assert contract.producer in SERVICES
    unknown = set(contract.consumers) - set(SERVICES)
    assert not unknown, f"unknown consumer services {unknown}"
    assert len(set(contract.consumers)) == len(contract.consumers)
    assert contract.examples, "every event type has at least one example"
    for example in contract.examples:
        assert example.is_file(), example
    if contract.has_department:
        assert "department" in schema["required"]
    assert "site" in schema["required"]


# --- examples through the real producer and consumer paths -----------------------------------------


@pytest.mark.parametrize(("event_type", "example"), EXAMPLES, ids=[_name(e) for _, e in EXAMPLES])
def test_example_envelope_parses(event_type: str, example: Path) -> None:
    data = _load(example)
    contract = catalog.contract(event_type)
    envelope = catalog.parse(envelope_for(event_type, data))
    assert envelope.data == data
    assert envelope.dataschema == f"urn:pm:contracts:{event_type}"
    assert subject_matches(contract.subject.replace("{site}", "*").replace("{department}", "*"), envelope.nats_subject)
    assert envelope.site == data["site"]
    if contract.has_department:
        assert envelope.department == data["department"]


def _producer_uow(producer: str) -> UnitOfWork:
    """A unit of work whose ``emit`` runs as in the producing service (it needs only catalog and settings)."""
    runtime = SimpleNamespace(catalog=catalog, settings=SimpleNamespace(service=producer))
    return UnitOfWork(cast(Runtime, runtime))


@pytest.mark.parametrize(("event_type", "example"), EXAMPLES, ids=[_name(e) for _, e in EXAMPLES])
def test_example_round_trips_from_emit_to_parse(event_type: str, example: Path) -> None:
    data = _load(example)
    contract = catalog.contract(event_type)
    uow = _producer_uow(contract.producer)
    emitted = uow.emit(
        EVENTS[event_type].model_validate(data),
        subject=str(data.get("request_id", "s")),
        site=data["site"],
        department=data.get("department"),
        correlation_id=data.get("request_id"),
    )
    received = catalog.parse(emitted.to_json())
    assert received == emitted
    assert received.source == f"pm/{contract.producer}"
    assert received.nats_subject == contract.subject.format(site=data["site"], department=data.get("department"))
    # The next event in the chain carries the correlation on and names its cause.
    caused = uow.emit(
        EVENTS[event_type].model_validate(data),
        subject="next",
        site=data["site"],
        department=data.get("department"),
        caused_by=received,
    )
    assert caused.correlationid == received.correlationid
    assert caused.causationid == received.id


def test_emit_rejects_bad_tokens_and_a_missing_department() -> None:
    uow = _producer_uow("dispatch")
    data = example_data("dispatch.workorder.created.v1")
    created = WorkOrderCreated.model_validate(data)
    with pytest.raises(InvalidToken, match="site"):
        uow.emit(created, subject="s", site="har.bour", department="engineering")
    with pytest.raises(InvalidToken, match="department"):
        uow.emit(created, subject="s", site="harbour", department="eng.a")
    with pytest.raises(InvalidToken, match="department"):
        uow.emit(created, subject="s", site="harbour")

    class Exploded(Event):  # a model whose type the catalog does not know
        event_type: ClassVar[str] = "dispatch.workorder.exploded.v1"

    with pytest.raises(ContractViolation, match="not in the contract catalog"):
        uow.emit(Exploded.model_validate(data), subject="s", site="harbour")
    assert uow.events == []


def _drop(*keys: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node = data
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return mutate


def _set(value: Any, *keys: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node = data
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return mutate


INVALID_DATA = [
    ("intake.request.created.v1", _drop("request_id"), "data/(root): 'request_id' is a required property"),
    ("intake.request.created.v1", _set("har.bour", "site"), "data/site: 'har.bour' does not match"),
    ("intake.request.created.v1", _set("critical", "priority"), "data/priority: 'critical' is not one of"),
    ("intake.request.created.v1", _set("spam", "kind"), "data/kind: 'spam' is not one of"),
    ("intake.request.created.v1", _drop("reporter", "name"), "data/reporter: 'name' is a required property"),
    ("intake.request.created.v1", _set("maybe", "in_unit"), "data/in_unit: 'maybe' is not of type 'boolean'"),
    (
        "intake.request.created.v1",
        _set({"start": "2026-11-23T10:00:00+00:00"}, "appointment"),
        "data/appointment: 'end' is a required property",
    ),
    ("dispatch.workorder.created.v1", _drop("department"), "'department' is a required property"),
    ("dispatch.workorder.completed.v1", _set(-1, "charge", "amount_cents"), "data/charge/amount_cents: -1"),
    ("dispatch.workorder.completed.v1", _set(1, "charge", "discount"), "data/charge: Additional properties"),
    ("dispatch.workorder.completed.v1", _set([1], "parts"), "data/parts/0: 1 is not of type 'string'"),
    ("billing.charge.recorded.v1", _set(80.5, "amount_cents"), "data/amount_cents: 80.5 is not of type 'integer'"),
    ("billing.charge.recorded.v1", _set("cny", "currency"), "data/currency: 'cny' does not match"),
    ("survey.followup.scheduled.v1", _set("visit", "method"), "data/method: 'visit' is not one of"),
    ("notification.message.sent.v1", _set("pigeon", "channel"), "data/channel: 'pigeon' is not one of"),
]


@pytest.mark.parametrize(
    ("event_type", "mutate", "message"), INVALID_DATA, ids=[f"{t}-{m.split(':')[0]}" for t, _, m in INVALID_DATA]
)
def test_invalid_data_is_rejected_naming_the_field(
    event_type: str, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = copy.deepcopy(example_data(event_type))
    mutate(data)
    # Valid envelope attributes, so that the error is the data's.
    department = "engineering" if catalog.contract(event_type).has_department else None
    document = envelope_for(event_type, data, site="harbour", department=department)
    with pytest.raises(ContractViolation) as caught:
        catalog.parse(document)
    assert message in str(caught.value)


INVALID_ENVELOPES: list[tuple[dict[str, Any], str]] = [
    ({"site": "har.bour"}, "site: 'har.bour' does not match"),
    ({"department": "eng ineering"}, "department: 'eng ineering' does not match"),
    ({"correlationid": None}, "'correlationid' is a required property"),
    ({"specversion": "0.3"}, "specversion: '1.0' was expected"),
    ({"source": "intake"}, "source: 'intake' does not match"),
    ({"dataschema": "https://example.com/schema"}, "dataschema: 'https://example.com/schema' does not match"),
    ({"traceparent": "not-a-traceparent"}, "traceparent: 'not-a-traceparent' does not match"),
    ({"priority": "high"}, "Additional properties are not allowed ('priority' was unexpected)"),
    ({"type": "dispatch.workorder.exploded.v1"}, "type: 'dispatch.workorder.exploded.v1' is not in the contract"),
    ({"type": "Dispatch.WorkOrder"}, "type: 'Dispatch.WorkOrder' does not match"),
    ({"data": ["not", "an", "object"]}, "data: ['not', 'an', 'object'] is not of type 'object'"),
]


@pytest.mark.parametrize(("attributes", "message"), INVALID_ENVELOPES, ids=[m for _, m in INVALID_ENVELOPES])
def test_invalid_envelope_is_rejected_naming_the_attribute(attributes: dict[str, Any], message: str) -> None:
    document = envelope_for("dispatch.workorder.created.v1", example_data("dispatch.workorder.created.v1"))
    document.update(attributes)
    document = {key: value for key, value in document.items() if value is not None}
    with pytest.raises(ContractViolation) as caught:
        catalog.parse(document)
    assert message in str(caught.value)


INCOHERENT_ENVELOPES: list[tuple[dict[str, Any], str]] = [
    ({"department": None}, "department"),
    ({"source": "pm/billing"}, "source"),
    ({"dataschema": "urn:pm:contracts:billing.charge.recorded.v1"}, "dataschema"),
    ({"site": "elsewhere"}, "site"),
]


@pytest.mark.parametrize(("attributes", "field"), INCOHERENT_ENVELOPES, ids=[f for _, f in INCOHERENT_ENVELOPES])
def test_an_envelope_that_contradicts_its_catalog_entry_is_rejected(attributes: dict[str, Any], field: str) -> None:
    document = envelope_for("dispatch.workorder.created.v1", example_data("dispatch.workorder.created.v1"))
    document.update(attributes)
    document = {key: value for key, value in document.items() if value is not None}
    with pytest.raises(ContractViolation, match=field):
        catalog.parse(document)


def test_body_that_is_not_json_is_rejected() -> None:
    with pytest.raises(ContractViolation, match="not JSON"):
        catalog.parse(b"\xff{")


def test_a_malformed_timestamp_in_data_is_rejected() -> None:
    data = example_data("intake.request.created.v1") | {"created_at": "yesterday"}
    with pytest.raises(ContractViolation, match="data/created_at"):
        catalog.parse(envelope_for("intake.request.created.v1", data))


# --- services against the catalog and the topology ----------------------------------------------------


def _durables_covering(service: str, contract: EventContract) -> list[str]:
    subject = sample_subject(contract)
    streams = {stream.name: stream for stream in topology.streams}
    return [
        consumer.durable
        for consumer in topology.consumers_of(service)
        if any(subject_matches(f, subject) for f in consumer.filter_subjects)
        and consumer.stream in streams
        and any(subject_matches(s, subject) for s in streams[consumer.stream].subjects)
    ]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_catalog_consumer_has_a_durable_consumer_for_the_type(event_type: str) -> None:
    contract = catalog.events[event_type]
    for service in contract.consumers:
        durables = _durables_covering(service, contract)
        assert len(durables) == 1, f"{service} needs exactly one durable consumer for {event_type}, has {durables}"


def test_every_durable_filter_serves_a_catalog_subscription() -> None:
    streams = {stream.name: stream for stream in topology.streams}
    problems: list[str] = []
    for consumer in topology.consumers:
        if consumer.stream not in streams:
            problems.append(f"{consumer.durable}: stream {consumer.stream} is not defined")
            continue
        for pattern in consumer.filter_subjects:
            served = [
                t
                for t, c in catalog.events.items()
                if consumer.service in c.consumers and subject_matches(pattern, sample_subject(c))
            ]
            if not served:
                problems.append(
                    f"{consumer.durable}: filter {pattern} matches no event type {consumer.service} "
                    f"consumes in the catalog (its messages would be dead-lettered)"
                )
            prefix = pattern.split(".")[0]
            if not any(s.split(".")[0] == prefix for s in streams[consumer.stream].subjects):
                problems.append(f"{consumer.durable}: filter {pattern} is outside stream {consumer.stream}")
    durables = [consumer.durable for consumer in topology.consumers]
    problems += [f"durable {name} is defined twice" for name in set(durables) if durables.count(name) > 1]
    assert problems == []


@pytest.mark.parametrize("service", SERVICES)
async def test_service_subscriptions_match_the_catalog(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = importlib.import_module(f"{service}.main")  # a service that is missing fails, never skips
    monkeypatch.setenv("PM_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("PM_DATABASE_URL", raising=False)
    runtime = main.build_runtime()
    try:
        assert runtime.settings.service == service
        handled = set(runtime.subscriptions.handlers)
    finally:
        await runtime.engine.dispose()
    problems: list[str] = []
    for event_type in sorted(handled):
        contract = catalog.events.get(event_type)
        if contract is None:
            problems.append(f"{service} handles {event_type}, which is not in the catalog")
            continue
        if service not in contract.consumers:
            problems.append(f"{service} handles {event_type} but the catalog does not list it as a consumer")
        if not _durables_covering(service, contract):
            problems.append(f"{service} handles {event_type} but none of its durable consumers receives it")
    for event_type, contract in sorted(catalog.events.items()):
        if service in contract.consumers and event_type not in handled:
            problems.append(f"the catalog lists {service} as a consumer of {event_type}, but it has no handler")
    assert problems == []


def _source_files(service: str) -> list[Path]:
    package = REPO_ROOT / "services" / service / service
    return sorted(p for p in package.rglob("*.py") if "migrations" not in p.parts)


def _emitted_and_mentioned(service: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Event types passed to ``.emit(...)`` (as a literal or an event model built in the call), and every
    event type named (a string literal shaped like one, or an event model built), each with where it occurs."""
    emitted: dict[str, list[str]] = {}
    mentioned: dict[str, list[str]] = {}
    for path in _source_files(service):
        where = str(path.relative_to(REPO_ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=where)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and EVENT_TYPE.match(node.value):
                mentioned.setdefault(node.value, []).append(f"{where}:{node.lineno}")
            built = _event_built(node)
            if built is not None:
                mentioned.setdefault(built, []).append(f"{where}:{node.lineno}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "emit":
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    emitted.setdefault(first.value, []).append(f"{where}:{node.lineno}")
                elif (model := _event_built(first)) is not None:
                    emitted.setdefault(model, []).append(f"{where}:{node.lineno}")
    return emitted, mentioned


# Event models by class name (``RequestCreated``), as a service's source spells them.
EVENT_MODELS = {model.__name__: event_type for event_type, model in EVENTS.items()}


def _event_built(node: ast.AST | None) -> str | None:
    """The event type of an event model constructed here (``RequestCreated(...)``), else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return EVENT_MODELS.get(node.func.id)
    return None


@pytest.mark.parametrize("service", SERVICES)
def test_service_emits_only_its_catalog_events(service: str) -> None:
    assert _source_files(service), f"services/{service} has no source files to check"
    emitted, mentioned = _emitted_and_mentioned(service)
    problems: list[str] = []
    for event_type, places in sorted(emitted.items()):
        contract = catalog.events.get(event_type)
        if contract is None:
            problems.append(f"{places}: emits {event_type}, which is not in the catalog")
        elif contract.producer != service:
            problems.append(f"{places}: emits {event_type}, whose producer is {contract.producer}")
    # Emitting through a helper or a constant hides the literal from the check above: every event type of
    # this service named anywhere in its source must be in the catalog.
    for event_type, places in sorted(mentioned.items()):
        if event_type.split(".")[0] == service and event_type not in catalog.events:
            problems.append(f"{places}: names {event_type}, which is not in the catalog")
    assert problems == []


@pytest.mark.parametrize("service", SERVICES)
def test_service_emits_every_event_the_catalog_says_it_produces(service: str) -> None:
    importlib.import_module(f"{service}.main")
    _, mentioned = _emitted_and_mentioned(service)
    missing = [t for t, c in sorted(catalog.events.items()) if c.producer == service and t not in mentioned]
    assert missing == [], f"{service} is the catalog producer of {missing} but never names them"


# --- JetStream topology -------------------------------------------------------------------------------


def test_streams_match_producing_services() -> None:
    producers = {contract.producer for contract in catalog.events.values()}
    problems: list[str] = []
    prefixes: list[str] = []
    for stream in topology.streams:
        if all(subject.startswith("$") for subject in stream.subjects):
            continue  # a system stream (server advisories)
        for subject in stream.subjects:
            prefix = subject.split(".")[0]
            prefixes.append(prefix)
            if prefix not in producers:
                problems.append(f"stream {stream.name}: subject {subject} is not the prefix of a producing service")
        if stream.duplicate_window_seconds < 3600:
            problems.append(
                f"stream {stream.name}: duplicate_window_seconds {stream.duplicate_window_seconds} "
                "< 3600 (shorter than the outbox relay's retry horizon)"
            )
    problems += [f"two streams take {prefix}.>" for prefix in set(prefixes) if prefixes.count(prefix) > 1]
    for event_type, contract in sorted(catalog.events.items()):
        subject = sample_subject(contract)
        if not any(subject_matches(s, subject) for stream in topology.streams for s in stream.subjects):
            problems.append(f"no stream captures {event_type} ({contract.subject})")
    assert problems == []


def test_subject_matching() -> None:
    assert subject_matches("intake.>", "intake.request.created.v1.harbour")
    assert subject_matches("dispatch.workorder.created.v1.>", "dispatch.workorder.created.v1.harbour.engineering")
    assert subject_matches("a.*.c", "a.b.c")
    assert not subject_matches("a.*.c", "a.b.c.d")
    assert not subject_matches("a.>", "a")
    assert not subject_matches("dispatch.workorder.created.v1.>", "dispatch.workorder.completed.v1.harbour.x")


# --- compatibility ------------------------------------------------------------------------------------


def test_current_schemas_have_no_breaking_changes_against_the_baseline() -> None:
    assert compare_directories(CONTRACTS / "events", CONTRACTS / "baseline") == []


def test_every_baseline_belongs_to_a_catalog_event() -> None:
    names = {p.name.removesuffix(".schema.json") for p in CONTRACTS.glob("baseline/*.schema.json")}
    assert names <= set(catalog.events)


def test_envelope_model_and_schema_agree_on_the_attributes() -> None:
    assert set(Envelope.model_fields) == set(catalog.envelope_schema["properties"])
