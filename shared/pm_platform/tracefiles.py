"""Read the spans services keep under var/traces (JSON lines) and show one request across services.

A request's life is its own trace (the owner's request and every event it causes) plus one trace per HTTP
step on its aggregates (a worker's claim, an agent's reply), which link to the request's trace and are linked
from it (``UnitOfWork.join_request``). ``pm trace`` starts from the traces with a span that carries the
request (``pm.correlation_id`` or ``pm.request_id``) and adds every trace one span link away, both ways.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def trace_of(span: dict[str, Any]) -> str:
    return str(span["context"]["trace_id"])


def links_of(span: dict[str, Any]) -> list[str]:
    """The trace ids this span links to."""
    return [str(link["context"]["trace_id"]) for link in span.get("links") or [] if link.get("context")]


def carries_request(span: dict[str, Any], request_id: str) -> bool:
    attributes = span.get("attributes") or {}
    return request_id in (attributes.get("pm.correlation_id"), attributes.get("pm.request_id"))


def trace_ids_for_request(spans: list[dict[str, Any]], request_id: str) -> set[str]:
    """The traces with a span that carries the request, and every trace one span link away from them (a
    span of theirs links to it, or a span of it links to one of them)."""
    carrying = {trace_of(span) for span in spans if carries_request(span, request_id)}
    linked: set[str] = set()
    for span in spans:
        targets = links_of(span)
        if trace_of(span) in carrying:
            linked.update(targets)
        elif carrying.intersection(targets):
            linked.add(trace_of(span))
    return carrying | linked


def request_trace(var_dir: Path, request_id: str) -> list[dict[str, Any]]:
    """Every span of every trace of the request's life (see ``trace_ids_for_request``), in start order."""
    spans = load_all_spans(var_dir)
    trace_ids = trace_ids_for_request(spans, request_id)
    selected = [span for span in spans if trace_of(span) in trace_ids]
    return sorted(selected, key=lambda span: span["start_time"])


def roots(spans: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The spans without a parent among ``spans``: one per complete trace."""
    spans = list(spans)
    ids = {span["context"]["span_id"] for span in spans}
    return [span for span in spans if span.get("parent_id") not in ids]


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

    by_trace: dict[str, list[dict[str, Any]]] = {}
    for span in spans:  # in start order, so the traces come in the order they began
        by_trace.setdefault(trace_of(span), []).append(span)
    for trace_id, members in by_trace.items():
        services = sorted({service_of(span) for span in members})
        print(f"trace {trace_id}  ({len(members)} spans: {', '.join(services)})")
        for span in members:
            line = f"  {span['start_time'][11:23]}  {service_of(span):<13} {'  ' * depth(span)}{span['name']}"
            targets = sorted({target for target in links_of(span) if target != trace_id})
            if targets:
                line += "  -> linked to trace " + ", ".join(targets)
            print(line)
