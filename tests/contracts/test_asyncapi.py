"""AsyncAPI 3.0: the catalog's document (contracts/asyncapi.yaml) and each service's served one are valid
against the official AsyncAPI 3.0.0 JSON Schema, and a service serves what its FastStream subscribers
really receive, without a token, like its OpenAPI document."""

from __future__ import annotations

import copy
import importlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft7Validator

from pm_platform import asyncapi, bus
from pm_platform.contracts import load_catalog
from pm_platform.natsserver import NatsServer
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings
from tests.platform.harness import provision

SERVICES = ["intake", "dispatch", "billing", "survey", "notification"]
OFFICIAL = Draft7Validator(
    json.loads((Path(__file__).parent / "asyncapi" / "asyncapi-3.0.0.schema.json").read_text(encoding="utf-8"))
)
CATALOG = load_catalog(REPO_ROOT / "contracts")
TOPOLOGY = bus.load_topology(REPO_ROOT / "deploy")


def errors(document: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in OFFICIAL.iter_errors(document)]


def receives(document: dict[str, Any]) -> set[tuple[str, str, tuple[str, ...], str]]:
    """(durable, stream, filters, event type) of every receive operation."""
    return {
        (op["x-pm-durable"], op["x-pm-stream"], tuple(op["x-pm-filter-subjects"]), op["channel"]["$ref"].split("/")[-1])
        for op in document["operations"].values()
        if op["action"] == "receive"
    }


def test_the_official_schema_refuses_a_broken_document() -> None:
    document = asyncapi.catalog_document(CATALOG, TOPOLOGY, asyncapi.DEFAULT_SERVER)
    broken = copy.deepcopy(document)
    next(iter(broken["operations"].values()))["action"] = "publish"  # AsyncAPI 2's word, not 3's
    assert errors(document) == []
    assert errors(broken)


def test_the_catalog_document_is_valid_and_up_to_date() -> None:
    committed = yaml.safe_load((REPO_ROOT / "contracts" / "asyncapi.yaml").read_text(encoding="utf-8"))
    assert committed == asyncapi.catalog_document(CATALOG, TOPOLOGY, asyncapi.DEFAULT_SERVER)
    assert committed["asyncapi"] == "3.0.0"
    assert errors(committed) == []
    # Every event of the catalog, sent by its producer and received by every durable that filters it.
    assert set(committed["channels"]) == set(CATALOG.events)
    for event_type, contract in CATALOG.events.items():
        assert committed["channels"][event_type]["address"] == contract.subject
        assert f"{contract.producer}.send.{event_type}" in committed["operations"]
        data = committed["components"]["messages"][event_type]["payload"]["schema"]["properties"]["data"]
        assert data == json.loads(contract.schema_path.read_text(encoding="utf-8"))
    assert {(durable, event) for durable, _, _, event in receives(committed)} == {
        (consumer.durable, event)
        for consumer in TOPOLOGY.consumers
        for event in asyncapi.event_types_of(consumer, CATALOG)
    }


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_document_is_valid(service: str) -> None:
    document = asyncapi.service_document(CATALOG, TOPOLOGY, asyncapi.DEFAULT_SERVER, service)
    assert errors(document) == []
    sends = {op["channel"]["$ref"].split("/")[-1] for op in document["operations"].values() if op["action"] == "send"}
    assert sends == {t for t, contract in CATALOG.events.items() if contract.producer == service}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_serves_its_real_subscriptions_without_a_token(
    service: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    await provision(nats_server.url)
    main = importlib.import_module(f"{service}.main")
    runtime: Runtime = main.build_runtime()
    runtime = Runtime(
        Settings(
            service=service,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
            nats_url=nats_server.url,
            var_dir=tmp_path,
        ),
        runtime.metadata,
        runtime.tables,
        runtime.subscriptions,
    )
    app = main.create(runtime)
    await runtime.start(relay=False)
    runners = list(runtime.consumers)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
            served = await client.get("/asyncapi.json")
            page = await client.get("/asyncapi")
            openapi = await client.get("/openapi.json")
    finally:
        await runtime.stop()
    assert openapi.status_code == served.status_code == page.status_code == 200
    document = served.json()
    assert errors(document) == []
    assert "text/html" in page.headers["content-type"] and document["info"]["title"] in page.text
    assert "/asyncapi.json" not in openapi.json()["paths"]  # outside the API, like /openapi.json itself
    # What the FastStream subscribers were bound to, read from them.
    subscribed = set()
    assert runners
    for runner in runners:
        subscriber = runner.subscriber
        assert subscriber is not None
        filters = tuple(subscriber.config.filter_subjects or ())
        definition = bus.ConsumerDefinition(service, subscriber.stream.name, subscriber.durable, list(filters), 0, 0, 0)
        subscribed |= {
            (subscriber.durable, subscriber.stream.name, filters, event)
            for event in asyncapi.event_types_of(definition, CATALOG)
        }
    assert receives(document) == subscribed
