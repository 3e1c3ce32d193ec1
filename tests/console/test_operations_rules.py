"""The operations screen's pure rules: which id is a trace id, and the waterfall of a trace's spans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console.operations.rules import MIN_BAR_PERCENT, still_growing, trace_id_of, valid_request_id, waterfalls

pytestmark = pytest.mark.unit

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER = "00f067aa0ba902b700f067aa0ba902b7"


def span(
    span_id: str, start: str, end: str, parent: str | None = None, service: str = "intake", trace: str = TRACE
) -> dict[str, Any]:
    return {
        "trace_id": trace,
        "span_id": span_id,
        "parent_id": parent,
        "service": service,
        "name": f"op {span_id}",
        "kind": "INTERNAL",
        "status": "UNSET",
        "start_time": f"2026-12-02T08:00:{start}Z",
        "end_time": f"2026-12-02T08:00:{end}Z",
    }


def test_a_trace_id_is_32_hex_digits_anything_else_is_a_request_id() -> None:
    assert trace_id_of(TRACE.upper()) == TRACE
    assert trace_id_of(" " + TRACE + " ") == TRACE
    assert trace_id_of("0x" + TRACE) is None
    assert trace_id_of("2f6a1c1e-4d0a-4f0e-9b1a-6c1f0d6e2a11") is None
    assert valid_request_id("2f6a1c1e-4d0a-4f0e-9b1a-6c1f0d6e2a11")
    assert not valid_request_id("a b")
    assert not valid_request_id("x" * 65)


def test_each_span_follows_its_parent_and_its_bar_sits_on_the_traces_time_axis() -> None:
    spans = [
        span("c", "00.500", "01.000", parent="a", service="dispatch"),  # listed before its parent
        span("a", "00.000", "02.000"),
        span("b", "00.100", "00.400", parent="a"),
        span("d", "00.600", "00.700", parent="c", service="notification"),
    ]
    [fall] = waterfalls(spans)
    assert fall.trace_id == TRACE
    assert fall.duration_ms == 2000.0
    assert fall.services == ["dispatch", "intake", "notification"]
    assert [(bar.span_id, bar.depth) for bar in fall.bars] == [("a", 0), ("b", 1), ("c", 1), ("d", 2)]
    root, _, child, grandchild = fall.bars
    assert (root.offset_percent, root.width_percent) == (0.0, 100.0)
    assert (child.offset_percent, child.width_percent, child.offset_ms, child.duration_ms) == (25.0, 25.0, 500.0, 500.0)
    assert (grandchild.offset_percent, grandchild.width_percent) == (30.0, 5.0)


def test_a_span_whose_parent_is_missing_is_a_root_a_tiny_span_stays_visible_and_repeats_are_dropped() -> None:
    spans = [span("a", "00.000", "10.000"), span("x", "05.000", "05.000", parent="gone"), span("a", "00.000", "10.000")]
    [fall] = waterfalls(spans)
    assert [(bar.span_id, bar.depth) for bar in fall.bars] == [("a", 0), ("x", 0)]
    assert fall.bars[1].width_percent == MIN_BAR_PERCENT


def test_traces_are_drawn_oldest_first() -> None:
    spans = [span("late", "05.000", "06.000", trace=OTHER), span("early", "01.000", "02.000")]
    assert [fall.trace_id for fall in waterfalls(spans)] == [TRACE, OTHER]


def test_a_trace_may_still_grow_until_its_last_span_is_some_seconds_old() -> None:
    spans = [span("a", "00.000", "02.000")]
    ended = datetime(2026, 12, 2, 8, 0, 2, tzinfo=UTC)
    assert still_growing([], ended)
    assert still_growing(spans, ended + timedelta(seconds=14))
    assert not still_growing(spans, ended + timedelta(seconds=15))
