"""Read the spans services keep under var/traces (JSON lines) and show one request across services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pm_platform.telemetry import read_spans


def load_all_spans(var_dir: Path) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = []
    for path in sorted((var_dir / "traces").glob("*.jsonl")):
        spans.extend(read_spans(path))
    return spans


def service_of(span: dict[str, Any]) -> str:
    return str(span.get("resource", {}).get("attributes", {}).get("service.name", "?"))


def trace_ids_for_request(spans: list[dict[str, Any]], request_id: str) -> set[str]:
    return {
        span["context"]["trace_id"]
        for span in spans
        if span.get("attributes", {}).get("pm.correlation_id") == request_id
    }


def request_trace(var_dir: Path, request_id: str) -> list[dict[str, Any]]:
    """Every span of every trace that touched the request, in start order."""
    spans = load_all_spans(var_dir)
    trace_ids = trace_ids_for_request(spans, request_id)
    selected = [span for span in spans if span["context"]["trace_id"] in trace_ids]
    return sorted(selected, key=lambda span: span["start_time"])


def print_request_trace(var_dir: Path, request_id: str) -> None:
    spans = request_trace(var_dir, request_id)
    if not spans:
        print(f"no spans for request {request_id} under {var_dir / 'traces'}")
        return
    by_id = {span["context"]["span_id"]: span for span in spans}

    def depth(span: dict[str, Any]) -> int:
        level, parent = 0, span.get("parent_id")
        while parent in by_id and level < 50:
            level, parent = level + 1, by_id[parent].get("parent_id")
        return level

    for trace_id in sorted({span["context"]["trace_id"] for span in spans}):
        print(f"trace {trace_id}")
        for span in spans:
            if span["context"]["trace_id"] != trace_id:
                continue
            print(f"  {span['start_time'][11:23]}  {service_of(span):<13} {'  ' * depth(span)}{span['name']}")
