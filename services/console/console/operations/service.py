"""What the operations screen asks the five services, in parallel, with the operator's own token: readiness,
their durable consumers' lag, their dead letters and the spans of a trace."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx

from console.services import ServiceError, Services, problem_detail

SERVICES = ("intake", "dispatch", "billing", "survey", "notification")


@dataclass
class Readiness:
    """A service's /readyz: ready, or which of its checks failed; ``unreachable`` when it did not answer."""

    service: str
    ready: bool
    checks: dict[str, bool] = field(default_factory=dict)
    unreachable: str | None = None


async def readiness(services: Services, service: str) -> Readiness:
    # /readyz answers 503 with its checks when not ready, so the body is read whatever the status.
    url = services.base_urls[service].rstrip("/") + "/readyz"
    try:
        response = await services.client.get(url)
    except httpx.HTTPError as exc:
        return Readiness(service, False, unreachable=type(exc).__name__)
    try:
        body = response.json()
    except ValueError:
        return Readiness(service, False, unreachable=f"{response.status_code} {problem_detail(response)}")
    checks = body.get("checks") if isinstance(body, dict) else None
    if not isinstance(checks, dict):
        return Readiness(service, False, unreachable=f"{response.status_code} {problem_detail(response)}")
    return Readiness(service, response.status_code == 200, {str(k): bool(v) for k, v in checks.items()})


async def all_readiness(services: Services) -> list[Readiness]:
    return list(await asyncio.gather(*(readiness(services, service) for service in SERVICES)))


@dataclass
class PerService:
    """One service's answer to the same question: its rows, or its refusal."""

    service: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: ServiceError | None = None


async def _ask(services: Services, service: str, path: str, token: str, params: dict[str, str]) -> PerService:
    try:
        rows = await services.get(service, path, token, params)
    except ServiceError as exc:
        return PerService(service, error=exc)
    return PerService(service, rows=list(rows or []))


async def consumer_lag(services: Services, token: str) -> list[PerService]:
    return list(await asyncio.gather(*(_ask(services, s, "/ops/consumers", token, {}) for s in SERVICES)))


async def dead_letters(services: Services, token: str, status: str) -> list[PerService]:
    params = {"status": status, "limit": "50"}
    return list(await asyncio.gather(*(_ask(services, s, "/admin/dead-letters", token, params) for s in SERVICES)))


@dataclass
class Spans:
    spans: list[dict[str, Any]]
    errors: list[ServiceError]
    otlp: list[str]
    """The services that send their spans to an OTLP collector (none of them in their trace files)."""


async def _spans(services: Services, service: str, token: str, params: dict[str, list[str]]) -> Any:
    # Repeated trace_id parameters: httpx takes a list per name, Services.get one value, so the client is used here.
    url = services.base_urls[service].rstrip("/") + "/ops/spans"
    try:
        response = await services.client.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        return ServiceError(service, None, type(exc).__name__)
    if response.status_code >= 400:
        return ServiceError(service, response.status_code, problem_detail(response))
    return response.json()


async def trace_spans(services: Services, token: str, trace_id: str | None, request_id: str | None) -> Spans:
    """Every service's spans of one trace, or of every trace that touched a request. A request's traces are
    found by each service in its own spans; a trace found by one is then asked of all, since a service's spans
    of a trace need not carry the request (an HTTP call, a database query)."""
    params = {"trace_id": [trace_id]} if trace_id else {"request_id": [request_id or ""]}
    answers = await asyncio.gather(*(_spans(services, s, token, params) for s in SERVICES))
    if request_id:
        found = sorted({span["trace_id"] for a in answers if isinstance(a, dict) for span in a.get("spans", [])})
        if found:
            by_trace = {"trace_id": found[:20]}
            answers = await asyncio.gather(*(_spans(services, s, token, by_trace) for s in SERVICES))
    spans = [span for a in answers if isinstance(a, dict) for span in a.get("spans", [])]
    errors = [a for a in answers if isinstance(a, ServiceError)]
    otlp = [s for s, a in zip(SERVICES, answers, strict=True) if isinstance(a, dict) and a.get("exporter") == "otlp"]
    return Spans(spans, errors, otlp)
