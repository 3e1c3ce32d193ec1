"""One trace per owner request: an HTTP step on the request's aggregate is a trace of its own linked both ways
with the request's trace, and what it emits or schedules continues the request's trace; a timer fires in the
trace that scheduled it; ``pm trace`` follows the links. On real SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pm_events.intake import RequestCreated
from pm_platform.envelope import Envelope, utcnow
from pm_platform.telemetry import span_context_of
from pm_platform.timers import DueTimer, Timers, fire_due, schedule
from pm_platform.tracefiles import print_request_trace, trace_ids_for_request
from pm_platform.uow import UnitOfWork
from tests.platform.harness import EXAMPLE, Probe

tracer = trace.get_tracer("tests")


@pytest.fixture
def finished() -> Iterator[InMemorySpanExporter]:
    """The spans finished during the test (added to the process's provider, installed if there is none)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    yield exporter
    processor.shutdown()


async def _probe(database_urls: dict[str, str], tmp_path: Path) -> Probe:
    probe = Probe("intake", database_urls["probe"], "nats://127.0.0.1:1", tmp_path)
    await probe.create_schema()
    return probe


def _emit(uow: UnitOfWork, request_id: str) -> Envelope:
    event = RequestCreated.model_validate({**EXAMPLE, "request_id": request_id})
    return uow.emit(event, subject=request_id, site="harbour", correlation_id=request_id)


def _trace_id(traceparent: str | None) -> int:
    context = span_context_of(traceparent)
    assert context is not None
    return context.trace_id


def _named(exporter: InMemorySpanExporter, prefix: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name.startswith(prefix)]


async def test_a_step_on_a_request_links_both_ways_and_its_events_continue_the_request_trace(
    database_urls: dict[str, str], tmp_path: Path, finished: InMemorySpanExporter
) -> None:
    probe = await _probe(database_urls, tmp_path)
    try:
        # The owner's request: its trace becomes the request's trace.
        with tracer.start_as_current_span("POST /requests") as created:
            async with probe.runtime.uow() as uow:
                await uow.join_request("r-1")
                _emit(uow, "r-1")
                await uow.commit()
        request_trace = created.get_span_context().trace_id
        [row] = [row for row in await probe.rows(probe.tables.request_traces) if row["correlation_id"] == "r-1"]
        assert _trace_id(row["traceparent"]) == request_trace

        # A worker's step later: a trace of its own.
        with tracer.start_as_current_span("POST /work-orders/{work_order_id}/complete") as step:
            async with probe.runtime.uow() as uow:
                await uow.join_request("r-1")
                await uow.join_request("r-1")  # twice is once
                envelope = _emit(uow, "r-1")
                await schedule(uow, "followup_due", key="f-1", due_at=utcnow() + timedelta(days=1))
                await uow.commit()
        step_trace = step.get_span_context().trace_id
        assert step_trace != request_trace
        # The step's server span links to the request's trace and carries the request.
        [server] = _named(finished, "POST /work-orders")
        assert [link.context.trace_id for link in server.links] == [request_trace]
        assert server.attributes is not None and server.attributes["pm.request_id"] == "r-1"
        assert server.attributes["pm.correlation_id"] == "r-1"
        # In the request's trace a step span links back to the step's trace; the event and the timer hang from it.
        [bridge] = _named(finished, "step POST /work-orders")
        assert bridge.context is not None and bridge.context.trace_id == request_trace
        assert [link.context.span_id for link in bridge.links] == [step.get_span_context().span_id]
        assert _trace_id(envelope.traceparent) == request_trace
        [outbox] = [row for row in await probe.rows(probe.tables.outbox) if row["event_id"] == envelope.id]
        assert outbox["traceparent"] == envelope.traceparent
        [timer] = await probe.rows(probe.tables.timers)
        assert _trace_id(timer["traceparent"]) == request_trace
        # The request's trace stays the one first recorded.
        [row] = [row for row in await probe.rows(probe.tables.request_traces) if row["correlation_id"] == "r-1"]
        assert _trace_id(row["traceparent"]) == request_trace
    finally:
        await probe.runtime.engine.dispose()


async def test_a_consumer_records_the_trace_of_the_first_event_of_a_correlation(
    database_urls: dict[str, str], tmp_path: Path, finished: InMemorySpanExporter
) -> None:
    probe = await _probe(database_urls, tmp_path)
    first = "00-" + "1" * 32 + "-" + "a" * 16 + "-01"
    later = "00-" + "2" * 32 + "-" + "b" * 16 + "-01"
    try:
        for traceparent in (first, later):
            envelope = Envelope.model_validate(
                {
                    "source": "pm/intake",
                    "type": "intake.request.created.v1",
                    "dataschema": "https://example.invalid/intake.request.created.v1",
                    "subject": "r-2",
                    "site": "harbour",
                    "correlationid": "r-2",
                    "traceparent": traceparent,
                    "data": {**EXAMPLE, "request_id": "r-2"},
                }
            )
            async with probe.runtime.uow() as uow:
                uow.mark_received("dispatch", envelope)
                await uow.commit()
        rows = await probe.rows(probe.tables.request_traces)
        assert [(row["correlation_id"], row["traceparent"]) for row in rows] == [("r-2", first)]
        # A step in the same trace as the request adds no link and no step span.
        with tracer.start_as_current_span("handler", context=trace.set_span_in_context(_remote(first))) as span:
            async with probe.runtime.uow() as uow:
                await uow.join_request("r-2")
        assert _named(finished, "step ") == []
        assert not [s for s in finished.get_finished_spans() if s.name == "handler" and s.links]
        assert span.get_span_context().trace_id == int("1" * 32, 16)
    finally:
        await probe.runtime.engine.dispose()


def _remote(traceparent: str) -> trace.Span:
    context = span_context_of(traceparent)
    assert context is not None
    return trace.NonRecordingSpan(context)


async def test_a_timer_fires_inside_the_trace_that_scheduled_it(
    database_urls: dict[str, str], tmp_path: Path, finished: InMemorySpanExporter
) -> None:
    probe = await _probe(database_urls, tmp_path)
    seen: list[int] = []
    timers = Timers()

    @timers.on("ack_due")
    async def ack_due(timer: DueTimer, uow: UnitOfWork) -> None:
        seen.append(trace.get_current_span().get_span_context().trace_id)

    try:
        now = utcnow()
        with tracer.start_as_current_span("POST /requests") as created:
            async with probe.runtime.uow() as uow:
                await schedule(uow, "ack_due", key="r-3", due_at=now + timedelta(minutes=5))
                await uow.commit()
        # Without a trace context (scheduled by a tool, or before this change) it fires as a root.
        async with probe.runtime.uow() as uow:
            await schedule(uow, "ack_due", key="r-4", due_at=now + timedelta(minutes=6))
            await uow.commit()
        assert await fire_due(probe.runtime, timers, now=now + timedelta(minutes=10)) == 2
        assert seen[0] == created.get_span_context().trace_id
        assert seen[1] != created.get_span_context().trace_id
        fired = {span.attributes["pm.timer.key"]: span for span in _named(finished, "timer ack_due") if span.attributes}
        assert fired["r-3"].parent is not None and fired["r-3"].parent.span_id == created.get_span_context().span_id
        assert fired["r-4"].parent is None
    finally:
        await probe.runtime.engine.dispose()


# --- pm trace: the request's trace and the traces linked to it, both ways --------------------------------------


def _span(trace_id: str, span_id: str, name: str, at: str, parent: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "context": {"trace_id": f"0x{trace_id}", "span_id": f"0x{span_id}", "trace_state": "[]"},
        "parent_id": f"0x{parent}" if parent else None,
        "start_time": f"2026-12-02T06:52:{at}Z",
        "attributes": extra.get("attributes", {}),
        "links": [{"context": {"trace_id": f"0x{t}", "span_id": f"0x{s}"}} for t, s in extra.get("links", [])],
        "resource": {"attributes": {"service.name": extra.get("service", "dispatch")}},
    }


REQUEST, STEP, BATCH, OTHER, UNRELATED = "a" * 32, "b" * 32, "c" * 32, "d" * 32, "e" * 32
SPANS = [
    _span(REQUEST, "01", "POST /requests", "01.0", service="intake", attributes={"pm.correlation_id": "r-1"}),
    _span(REQUEST, "02", "step POST /work-orders/{id}/complete", "05.0", "01", links=[(STEP, "11")]),
    _span(STEP, "11", "POST /work-orders/{id}/complete", "04.9", links=[(REQUEST, "01")]),
    _span(STEP, "12", "UPDATE work_orders", "05.1", "11"),
    # A batch span linking to this request and to another: one link away, so it is shown...
    _span(BATCH, "21", "record 2 sends", "06.0", service="notification", links=[(REQUEST, "02"), (OTHER, "31")]),
    # ...but the other request's trace, two links away, is not.
    _span(OTHER, "31", "POST /requests", "00.5", service="intake", attributes={"pm.correlation_id": "r-2"}),
    _span(UNRELATED, "41", "GET /work-orders", "07.0"),
]


@pytest.mark.unit
def test_pm_trace_follows_links_one_step_both_ways() -> None:
    assert trace_ids_for_request(SPANS, "r-1") == {f"0x{REQUEST}", f"0x{STEP}", f"0x{BATCH}"}
    assert trace_ids_for_request(SPANS, "r-2") == {f"0x{OTHER}", f"0x{BATCH}"}
    assert trace_ids_for_request(SPANS, "r-unknown") == set()


@pytest.mark.unit
def test_pm_trace_prints_each_trace_and_its_links(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "traces").mkdir()
    (tmp_path / "traces" / "all.jsonl").write_text("\n".join(json.dumps(span) for span in SPANS) + "\n")
    print_request_trace(tmp_path, "r-1")
    out = capsys.readouterr().out
    headers = [line for line in out.splitlines() if line.startswith("trace ")]
    assert [line.split()[1] for line in headers] == [f"0x{REQUEST}", f"0x{STEP}", f"0x{BATCH}"]
    assert "(2 spans: dispatch, intake)" in headers[0]
    assert f"POST /work-orders/{{id}}/complete  -> linked to trace 0x{REQUEST}" in out
    assert "GET /work-orders" not in out and f"0x{OTHER}" in out  # named as a link target only
