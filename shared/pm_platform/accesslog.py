"""Access logs as JSON lines: one per request, with the request's trace and span ids and a correlation id.

The logger is ``pm.access`` (standard ``logging``), written to stderr through ``JsonFormatter``. A small
formatter of our own rather than python-json-logger: no JSON logging library is in the lock, and one
``json.dumps`` of a fixed set of fields is all an access line needs. Uvicorn's own access log is off
(``access_log=False`` in ``pm_platform.service_cli``) in favour of this one.

The correlation id is the request's ``X-Request-ID`` when it is a sane token (a proxy or the caller chose
it), otherwise a generated one; it is echoed in the response's ``X-Request-ID``. The probes (``/healthz``,
``/readyz``) and Prometheus's scrapes (``/metrics``) are not logged, as they are not traced: they come every few
seconds."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "pm.access"
REQUEST_ID_HEADER = "x-request-id"
UNLOGGED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# What a caller's X-Request-ID may be: it is written into logs and echoed in a header.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

access_log = logging.getLogger(ACCESS_LOGGER)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, and the record's ``fields``
    (``logger.info(..., extra={"fields": {...}})``)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def setup_access_log() -> None:
    """The access logger writes JSON lines to stderr, and only there (idempotent)."""
    if any(isinstance(handler.formatter, JsonFormatter) for handler in access_log.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False  # the root logger's text format would print every line twice


def correlation_id(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == REQUEST_ID_HEADER.encode():
            text = value.decode("latin-1")
            if REQUEST_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str | None:
    """The path template of the route that answered; None when none matched (a 404 of the router)."""
    route = scope.get("route")  # FastAPI's own routes leave themselves here
    if route is None:  # Starlette's (/openapi.json, /docs) do not: matched again, as OpenTelemetry does
        for candidate in getattr(scope.get("app"), "routes", []):
            if candidate.matches(scope)[0] == Match.FULL:
                route = candidate
                break
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


class AccessLog:
    """ASGI middleware: one access line per request after its answer; it must run inside OpenTelemetry's
    middleware, where the request's span is current."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLOGGED_PATHS:
            await self.app(scope, receive, send)
            return
        request_id = correlation_id(scope)
        started = time.perf_counter()
        status = 500  # what the client gets when nothing was answered (the server's default)

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER.encode()]
                message = {**message, "headers": [*headers, (REQUEST_ID_HEADER.encode(), request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            self._log(scope, status, request_id, time.perf_counter() - started)

    @staticmethod
    def _log(scope: Scope, status: int, request_id: str, seconds: float) -> None:
        context = trace.get_current_span().get_span_context()
        fields = {
            "method": scope["method"],
            # The template (/requests/{request_id}), not the path: no ids in the line, a bounded set of values.
            "route": route_template(scope),
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "request_id": request_id,
            "trace_id": format(context.trace_id, "032x") if context.is_valid else None,
            "span_id": format(context.span_id, "016x") if context.is_valid else None,
        }
        access_log.info("%s %s %s", fields["method"], fields["route"] or "(no route)", status, extra={"fields": fields})
