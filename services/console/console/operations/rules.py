"""Pure rules of the operations screen: what an id names, and the waterfall of a trace's spans."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# A bar is drawn at least this wide (percent of the trace), so a span of a few microseconds stays visible.
MIN_BAR_PERCENT = 0.4


def trace_id_of(text: str) -> str | None:
    """The W3C trace id the text is (32 hex digits, as Jaeger shows it), or None: then it is a request id."""
    candidate = text.strip().lower()
    return candidate if TRACE_ID.match(candidate) else None


def valid_request_id(text: str) -> bool:
    return bool(REQUEST_ID.match(text.strip()))


# Services export spans in batches (every 5 s by default): a trace whose last span ended more recently than this
# may still be missing another service's spans.
GROWING = timedelta(seconds=15)


def still_growing(spans: list[dict[str, Any]], now: datetime | None = None) -> bool:
    """Whether more spans of these traces may still arrive: none yet, or the last one ended a moment ago."""
    if not spans:
        return True
    last = max(_moment(span["end_time"]) for span in spans)
    return (now or datetime.now(UTC)) - last < GROWING


@dataclass(frozen=True)
class Bar:
    """One span as a row of the waterfall: where its bar starts and how wide it is, in percent of the trace."""

    span_id: str
    service: str
    name: str
    kind: str
    status: str
    depth: int
    offset_percent: float
    width_percent: float
    offset_ms: float
    duration_ms: float


@dataclass(frozen=True)
class Waterfall:
    trace_id: str
    services: list[str]
    duration_ms: float
    bars: list[Bar]


def _moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def waterfalls(spans: list[dict[str, Any]]) -> list[Waterfall]:
    """The spans (from every service, any order) grouped by trace, oldest trace first; within a trace each span
    follows its parent (children in start order), indented by its depth, its bar placed on the trace's time axis."""
    by_trace: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, str]] = set()
    for span in spans:
        key = (span["trace_id"], span["span_id"])
        if key not in seen:  # two services sharing one trace file would list a span twice
            seen.add(key)
            by_trace.setdefault(span["trace_id"], []).append(span)
    drawn = [_waterfall(trace_id, members) for trace_id, members in by_trace.items()]
    return sorted(drawn, key=lambda fall: min(_moment(s["start_time"]) for s in by_trace[fall.trace_id]))


def _waterfall(trace_id: str, spans: list[dict[str, Any]]) -> Waterfall:
    start = min(_moment(span["start_time"]) for span in spans)
    end = max(_moment(span["end_time"]) for span in spans)
    total_ms = max((end - start).total_seconds() * 1000, 0.001)
    ids = {span["span_id"] for span in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in spans:
        parent = span.get("parent_id") if span.get("parent_id") in ids else None  # its parent not recorded: a root
        children.setdefault(parent, []).append(span)
    for members in children.values():
        members.sort(key=lambda span: _moment(span["start_time"]))
    ordered: list[tuple[dict[str, Any], int]] = []
    stack: list[tuple[dict[str, Any], int]] = [(span, 0) for span in reversed(children.get(None, []))]
    while stack:
        span, depth = stack.pop()
        ordered.append((span, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(span["span_id"], [])))
    bars = []
    for span, depth in ordered:
        offset_ms = (_moment(span["start_time"]) - start).total_seconds() * 1000
        duration_ms = max((_moment(span["end_time"]) - _moment(span["start_time"])).total_seconds() * 1000, 0.0)
        offset = min(offset_ms / total_ms * 100, 100 - MIN_BAR_PERCENT)
        bars.append(
            Bar(
                span_id=span["span_id"],
                service=span.get("service", ""),
                name=span.get("name", ""),
                kind=span.get("kind", ""),
                status=span.get("status", "UNSET"),
                depth=min(depth, 12),
                offset_percent=round(offset, 2),
                width_percent=round(min(max(duration_ms / total_ms * 100, MIN_BAR_PERCENT), 100 - offset), 2),
                offset_ms=round(offset_ms, 1),
                duration_ms=round(duration_ms, 1),
            )
        )
    services = sorted({bar.service for bar in bars})
    return Waterfall(trace_id=trace_id, services=services, duration_ms=round(total_ms, 1), bars=bars)
