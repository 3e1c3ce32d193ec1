"""OpenTelemetry: a tracer provider per service process, OTLP when configured, otherwise JSON lines
under ``var/traces/<service>.jsonl`` (one span per line, readable by ``pm trace``)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from pathlib import Path

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from pm_platform.settings import Settings

tracer = trace.get_tracer("pm_platform")


class JsonLinesSpanExporter(SpanExporter):
    """Appends each finished span as one compact JSON object per line."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [span.to_json(indent=None) for span in spans]  # one line each; re-encoding it would double the cost
        try:
            with self._lock, self._path.open("a", encoding="utf-8") as sink:
                sink.write("\n".join(lines) + "\n")
        except OSError:
            # The directory is gone (a test's temporary var dir, removed before the exit flush): the spans are
            # dropped as any exporter drops what it cannot deliver, without a traceback at exit.
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


_configured = False


def setup_tracing(settings: Settings) -> None:
    """Install the process-wide tracer provider once (a process runs one service)."""
    global _configured
    if _configured or isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service}))
    exporter: SpanExporter
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    else:
        exporter = JsonLinesSpanExporter(settings.var_dir / "traces" / f"{settings.service}.jsonl")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = True


def shutdown_tracing() -> None:
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush()


def current_traceparent() -> str | None:
    return current_trace_context().get("traceparent")


def current_trace_context(context: otel_context.Context | None = None) -> dict[str, str]:
    """The current W3C trace context (or ``context``) as headers: ``traceparent`` and, when present,
    ``tracestate`` and ``baggage`` (what an outbox row keeps so the relay publishes inside the context that
    wrote it)."""
    carrier: dict[str, str] = {}
    inject(carrier, context=context)
    return carrier


def span_context_of(traceparent: str | None) -> trace.SpanContext | None:
    """The span a ``traceparent`` names (valid), or None."""
    context = context_from_traceparent(traceparent)
    span_context = trace.get_current_span(context).get_span_context() if context is not None else None
    return span_context if span_context is not None and span_context.is_valid else None


def traceparent_of(span_context: trace.SpanContext) -> str:
    return f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{span_context.trace_flags:02x}"


def context_from_traceparent(traceparent: str | None) -> otel_context.Context | None:
    if not traceparent:
        return None
    return extract({"traceparent": traceparent})


def context_from_trace_fields(
    traceparent: str | None, tracestate: str | None = None, baggage: str | None = None
) -> otel_context.Context | None:
    carrier = {
        name: value
        for name, value in (("traceparent", traceparent), ("tracestate", tracestate), ("baggage", baggage))
        if value
    }
    return extract(carrier) if carrier else None


def inject_headers(headers: MutableMapping[str, str], context: otel_context.Context | None = None) -> None:
    inject(headers, context=context)


def context_from_headers(headers: Mapping[str, str] | None) -> otel_context.Context:
    return extract(dict(headers or {}))


@contextlib.contextmanager
def attached(context: otel_context.Context | None) -> Iterator[None]:
    """Make ``context`` current (its baggage included, which ``trace.use_span`` alone would drop); None
    leaves the current context as it is."""
    if context is None:
        yield
        return
    token = otel_context.attach(context)
    try:
        yield
    finally:
        otel_context.detach(token)


def read_spans(path: Path) -> list[dict[str, object]]:
    """Spans a JsonLinesSpanExporter wrote."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
