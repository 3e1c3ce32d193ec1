"""What an operator asks a running service, beside /readyz and the dead letters: how far behind its durable
consumers are (JetStream consumer info, read with the service's own NATS login, which may read the info of its
own durables only) and the spans it wrote to its embedded trace file (by trace id or by request).

Every service serves these from ``pm_platform.app``; the console calls them with the operator's own token,
so it needs no NATS rights of its own and no access to a service's files."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import nats.errors
import nats.js.errors
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from pm_platform.auth import Permission, Principal, Role, require
from pm_platform.problems import Problem

if TYPE_CHECKING:
    from pm_platform.runtime import Runtime

WATCH_OPERATIONS = Permission("watch the platform's consumers and traces", Role.operator)
WatchOperations = Annotated[Principal, Depends(require(WATCH_OPERATIONS))]

CONSUMER_INFO_SECONDS = 2.0
MAX_TRACE_IDS = 20
MAX_SPANS = 2000


class ConsumerLag(BaseModel):
    """One durable consumer's backlog as JetStream reports it; ``error`` when the info could not be read."""

    stream: str
    durable: str
    pending: int | None = None
    """Messages in the stream not yet delivered to the consumer."""
    ack_pending: int | None = None
    """Delivered, not yet acknowledged."""
    redelivered: int | None = None
    """Delivered more than once and not yet acknowledged."""
    waiting: int | None = None
    """Pull requests waiting for messages (the service's fetch loop)."""
    delivered_stream_sequence: int | None = None
    ack_floor_stream_sequence: int | None = None
    last_active: datetime | None = None
    error: str | None = None


async def consumer_lag(runtime: Runtime) -> list[ConsumerLag]:
    """Each of the service's provisioned durables, in topology order."""
    found: list[ConsumerLag] = []
    for definition in runtime.topology.consumers_of(runtime.settings.service):
        lag = ConsumerLag(stream=definition.stream, durable=definition.durable)
        if runtime.nc is None or not runtime.nc.is_connected:
            lag.error = "not connected to NATS"
            found.append(lag)
            continue
        try:
            info = await runtime.nc.jetstream().consumer_info(
                definition.stream, definition.durable, timeout=CONSUMER_INFO_SECONDS
            )
        except (nats.errors.Error, nats.js.errors.Error, TimeoutError) as exc:
            lag.error = f"{type(exc).__name__}: {exc}".strip(": ")
            found.append(lag)
            continue
        lag.pending = info.num_pending
        lag.ack_pending = info.num_ack_pending
        lag.redelivered = info.num_redelivered
        lag.waiting = info.num_waiting
        if info.delivered is not None:
            lag.delivered_stream_sequence = info.delivered.stream_seq
            lag.last_active = _moment(getattr(info.delivered, "last_active", None))
        if info.ack_floor is not None:
            lag.ack_floor_stream_sequence = info.ack_floor.stream_seq
        found.append(lag)
    return found


def _moment(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


# ---- Spans --------------------------------------------------------------------------------------------------


class SpanRead(BaseModel):
    """One finished span of this service, as its trace file holds it."""

    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    name: str
    kind: str
    start_time: datetime
    end_time: datetime
    status: str
    attributes: dict[str, Any]


class SpansRead(BaseModel):
    exporter: str
    """``file`` (spans under PM_VAR_DIR/traces, listed here) or ``otlp`` (sent to a collector: none here)."""
    spans: list[SpanRead]


def trace_file(runtime: Runtime) -> Path:
    """Where ``pm_platform.telemetry`` writes this service's spans when no OTLP endpoint is set."""
    return runtime.settings.var_dir / "traces" / f"{runtime.settings.service}.jsonl"


def _lines(path: Path) -> Iterator[str]:
    if not path.exists():
        return
    with path.open(encoding="utf-8", errors="replace") as source:
        yield from source


def _hex(value: object) -> str:
    """The exporter writes ids as ``0x…``; W3C trace context (and Jaeger) write them without the prefix."""
    text = str(value or "")
    return text[2:] if text.startswith("0x") else text


def find_spans(path: Path, trace_ids: set[str], request_id: str | None = None) -> list[SpanRead]:
    """The spans of the given traces and, with ``request_id``, of every trace in which a span of this file
    carries the request as its correlation (``pm.correlation_id``); in start order."""
    wanted = {trace_id.lower() for trace_id in trace_ids}
    documents: list[dict[str, Any]] = []
    if request_id:
        for line in _lines(path):
            if request_id not in line:  # cheap test first: most lines are other requests'
                continue
            document = _document(line)
            if document and document.get("attributes", {}).get("pm.correlation_id") == request_id:
                wanted.add(_hex(document.get("context", {}).get("trace_id")))
    if not wanted:
        return []
    for line in _lines(path):
        if not any(trace_id in line for trace_id in wanted):
            continue
        document = _document(line)
        if document and _hex(document.get("context", {}).get("trace_id")) in wanted:
            documents.append(document)
            if len(documents) >= MAX_SPANS:
                break
    spans = [_span(document) for document in documents]
    return sorted(spans, key=lambda span: span.start_time)


def _document(line: str) -> dict[str, Any] | None:
    try:
        document = json.loads(line)
    except ValueError:
        return None  # a line cut short by a crash mid-write
    return document if isinstance(document, dict) else None


def _span(document: dict[str, Any]) -> SpanRead:
    context = document.get("context", {})
    attributes = document.get("attributes") or {}
    return SpanRead(
        trace_id=_hex(context.get("trace_id")),
        span_id=_hex(context.get("span_id")),
        parent_id=_hex(document.get("parent_id")) or None,
        service=str(document.get("resource", {}).get("attributes", {}).get("service.name", "")),
        name=str(document.get("name", "")),
        kind=str(document.get("kind", "")).removeprefix("SpanKind."),
        start_time=document["start_time"],
        end_time=document["end_time"],
        status=str((document.get("status") or {}).get("status_code", "UNSET")),
        attributes={key: value for key, value in attributes.items() if isinstance(value, str | int | float | bool)},
    )


router = APIRouter(prefix="/ops", tags=["operations"])


@router.get("/consumers", response_model=list[ConsumerLag])
async def get_consumers(request: Request, _: WatchOperations) -> Any:
    """This service's durable consumers and how far behind each is."""
    return await consumer_lag(request.app.state.runtime)


TRACE_ID = r"^[0-9a-fA-F]{32}$"


@router.get("/spans", response_model=SpansRead)
async def get_spans(
    request: Request,
    principal: WatchOperations,
    trace_id: Annotated[list[Annotated[str, Query(pattern=TRACE_ID)]], Query(max_length=MAX_TRACE_IDS)] = [],  # noqa: B006
    request_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Any:
    """This service's spans of the given traces, or of the traces that touched a request. Spans are not
    filtered by site, so only an operator of every site reads them."""
    if not principal.all_sites:
        raise Problem(403, "spans cover every site: only an operator of all sites may read them")
    runtime: Runtime = request.app.state.runtime
    if runtime.settings.otel_exporter_otlp_endpoint:
        return {"exporter": "otlp", "spans": []}
    # Reading the file blocks: in a thread, so the service's event loop (its consumers) keeps going.
    spans = await asyncio.to_thread(find_spans, trace_file(runtime), set(trace_id), request_id)
    return {"exporter": "file", "spans": spans}
