"""AsyncAPI 3.0 documents of the event catalog and of each service, built from ``contracts/catalog.yaml``
(channels, producers, payload schemas from ``contracts/events``) and ``deploy/nats/jetstream.yaml`` (the
durable consumers that receive them).

- ``contracts/asyncapi.yaml``: the whole catalog, every producer's ``send`` and every durable's ``receive``
  (``pm asyncapi`` writes it; ``make lint`` runs ``pm asyncapi --check``).
- Each service serves its own at ``/asyncapi.json`` and FastStream's AsyncAPI page at ``/asyncapi``: what
  it publishes and what its durable consumers (its FastStream subscribers) receive.

A channel is one event type; its address is the NATS subject pattern with ``{site}`` (and ``{department}``)
as parameters. A message's payload is the CloudEvents envelope with the event's own schema as ``data``;
both are JSON Schema draft 2020-12, so they are Multi Format Schema Objects whose ``schemaFormat`` says so
(AsyncAPI's own schema format is a draft-07 dialect).

The documents are built here and not by FastStream's generator: its channels come from the handlers'
type hints, and the subscribers' handlers take raw batches (the consumer validates each envelope once,
against the contract).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from pm_platform.bus import ConsumerDefinition, Topology
from pm_platform.contracts import Catalog, EventContract

ASYNCAPI_VERSION = "3.0.0"
JSON_PATH = "/asyncapi.json"
PAGE_PATH = "/asyncapi"
DOCUMENT_VERSION = "1.0.0"
# The committed document names the embedded development server (`make run`), whatever the environment says.
DEFAULT_SERVER = "nats://127.0.0.1:4333"
SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"
PARAMETERS = {
    "site": "The site code (one subject token).",
    "department": "The department a work order belongs to (one subject token).",
}
HEADERS = {
    "type": "object",
    "properties": {
        "Nats-Msg-Id": {"type": "string", "description": "The event id: JetStream drops a republished duplicate."},
        "traceparent": {"type": "string", "description": "W3C trace context of the transaction that wrote it."},
        "tracestate": {"type": "string", "description": "W3C trace state, when the trace has one."},
        "baggage": {"type": "string", "description": "W3C baggage, when the trace carries some."},
    },
}


def event_types_of(consumer: ConsumerDefinition, catalog: Catalog) -> list[str]:
    """The catalog's event types a durable's filters take (``intake.request.created.v1.>`` -> that type)."""
    types = []
    for subject_filter in consumer.filter_subjects:
        pattern = re.compile(
            "^"
            + r"\.".join(
                ".+" if token == ">" else "[^.]+" if token == "*" else re.escape(token)
                for token in subject_filter.split(".")
            )
            + "$"
        )
        matched = [t for t, contract in catalog.events.items() if pattern.match(_sample_subject(contract))]
        if not matched:
            raise ValueError(f"{consumer.durable}: the filter {subject_filter} takes no event of the catalog")
        types += [t for t in matched if t not in types]
    return types


def _sample_subject(contract: EventContract) -> str:
    return re.sub(r"\{[a-z_]+\}", "x", contract.subject)


@dataclass(frozen=True)
class Builder:
    catalog: Catalog
    topology: Topology
    server_url: str

    def payload(self, contract: EventContract) -> dict[str, Any]:
        schema = copy.deepcopy(self.catalog.envelope_schema)
        data = json.loads(contract.schema_path.read_text(encoding="utf-8"))
        schema["title"] = f"{contract.type} (envelope)"
        schema["properties"]["data"] = data
        return {"schemaFormat": SCHEMA_FORMAT, "schema": schema}

    def message(self, contract: EventContract) -> dict[str, Any]:
        return {
            "name": contract.type,
            "title": contract.type,
            "summary": contract.description,
            "contentType": "application/json",
            "headers": HEADERS,
            "payload": self.payload(contract),
            "correlationId": {
                "description": "The owner's request that started the chain.",
                "location": "$message.payload#/correlationid",
            },
        }

    def channel(self, contract: EventContract) -> dict[str, Any]:
        names = re.findall(r"\{([a-z_]+)\}", contract.subject)
        return {
            "address": contract.subject,
            "title": contract.type,
            "description": contract.description,
            "parameters": {name: {"description": PARAMETERS.get(name, name)} for name in names},
            "messages": {contract.type: {"$ref": f"#/components/messages/{contract.type}"}},
        }

    def document(self, title: str, description: str, services: set[str] | None) -> dict[str, Any]:
        """The document of ``services`` (None: every service, the whole catalog)."""
        operations: dict[str, Any] = {}
        used: list[str] = []

        def use(event_type: str) -> dict[str, Any]:
            if event_type not in used:
                used.append(event_type)
            return {"$ref": f"#/channels/{event_type}"}

        for event_type, contract in self.catalog.events.items():
            if services is None or contract.producer in services:
                operations[f"{contract.producer}.send.{event_type}"] = {
                    "action": "send",
                    "channel": use(event_type),
                    "title": f"{contract.producer} publishes {event_type}",
                    "description": "Written to the producer's outbox in the transaction that made the change, "
                    "then published to JetStream with Nats-Msg-Id = the event id.",
                    "messages": [{"$ref": f"#/channels/{event_type}/messages/{event_type}"}],
                }
        for consumer in self.topology.consumers:
            if services is not None and consumer.service not in services:
                continue
            for event_type in event_types_of(consumer, self.catalog):
                operations[f"{consumer.durable}.receive.{event_type}"] = {
                    "action": "receive",
                    "channel": use(event_type),
                    "title": f"{consumer.service} receives {event_type}",
                    "description": f"The durable pull consumer {consumer.durable} of the stream {consumer.stream} "
                    "(provisioned from deploy/nats/jetstream.yaml), with an inbox: applied once, acked after "
                    "the commit.",
                    "messages": [{"$ref": f"#/channels/{event_type}/messages/{event_type}"}],
                    "x-pm-service": consumer.service,
                    "x-pm-stream": consumer.stream,
                    "x-pm-durable": consumer.durable,
                    "x-pm-filter-subjects": list(consumer.filter_subjects),
                }
        ordered = sorted(used)
        return {
            "asyncapi": ASYNCAPI_VERSION,
            "info": {"title": title, "version": DOCUMENT_VERSION, "description": description},
            "defaultContentType": "application/json",
            "servers": {
                "nats": {
                    "host": _host(self.server_url),
                    "protocol": "nats",
                    "description": "NATS JetStream; every client logs in (deploy/nats/nats-server.conf).",
                }
            },
            "channels": {t: self.channel(self.catalog.events[t]) for t in ordered},
            "operations": dict(sorted(operations.items())),
            "components": {"messages": {t: self.message(self.catalog.events[t]) for t in ordered}},
        }


def _host(url: str) -> str:
    return url.split("://", 1)[-1].rsplit("@", 1)[-1].rstrip("/")


def catalog_document(catalog: Catalog, topology: Topology, server_url: str) -> dict[str, Any]:
    return Builder(catalog, topology, server_url).document(
        "Property-management platform events",
        "Every integration event of the five services (contracts/catalog.yaml): who publishes it and which "
        "durable consumers (deploy/nats/jetstream.yaml) receive it. Generated by `pm asyncapi`.",
        None,
    )


def service_document(catalog: Catalog, topology: Topology, server_url: str, service: str) -> dict[str, Any]:
    return Builder(catalog, topology, server_url).document(
        f"{service} events",
        f"The events {service} publishes and the ones its durable consumers receive.",
        {service},
    )


def render_yaml(document: dict[str, Any]) -> str:
    header = (
        "# AsyncAPI 3.0 document of the whole event catalog. Generated by `pm asyncapi` from contracts/catalog.yaml,\n"
        "# contracts/events and deploy/nats/jetstream.yaml; do not edit by hand (`make lint` checks it).\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)


class AsyncApiSpecification:
    """One of these documents as FastStream's ``Specification`` (what its AsyncAPI page renders)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    @property
    def title(self) -> str:
        title: str = self.document["info"]["title"]
        return title

    def to_json(self) -> str:
        return json.dumps(self.document)

    def to_jsonable(self) -> Any:
        return self.document

    def to_yaml(self) -> str:
        return render_yaml(self.document)


def install_routes(app: Starlette, document: dict[str, Any]) -> None:
    """Serve ``document`` at ``/asyncapi.json`` and FastStream's AsyncAPI page at ``/asyncapi``: plain routes
    outside the OpenAPI schema and without a token, like FastAPI's ``/openapi.json`` and ``/docs``."""
    from faststream.specification.asyncapi.site import get_asyncapi_html

    page = get_asyncapi_html(AsyncApiSpecification(document), try_it_out_path=None)

    async def asyncapi_json(_: Request) -> JSONResponse:
        return JSONResponse(document)

    async def asyncapi_page(_: Request) -> HTMLResponse:
        return HTMLResponse(page)

    app.add_route(JSON_PATH, asyncapi_json, include_in_schema=False)
    app.add_route(PAGE_PATH, asyncapi_page, include_in_schema=False)
