"""The operator's screen: the services' readiness and consumer lag (refreshed by htmx), their dead letters with
replay and discard, and a request's trace as a waterfall across services. Every call carries the operator's own
token; the services decide what an operator may see and do."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response

from console.config import ConsoleSettings
from console.operations import service
from console.operations.rules import still_growing, trace_id_of, valid_request_id, waterfalls
from console.permissions import OPERATE
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter(prefix="/operations")

DEAD_LETTER_STATUSES = ("open", "replayed", "discarded")
Service = Annotated[str, Path(pattern="^(intake|dispatch|billing|survey|notification)$")]
DeadLetterId = Annotated[int, Path(ge=1, le=2**53)]


async def _status(page: Page) -> dict[str, Any]:
    services = services_of(page.request)
    return {
        "health": await service.all_readiness(services),
        "lag": await service.consumer_lag(services, page.token),
    }


@router.get("")
async def operations(
    page: SignedInPage, status: Annotated[str, Query(pattern="^(open|replayed|discarded)$")] = "open"
) -> Response:
    page.require(OPERATE)
    letters = await service.dead_letters(services_of(page.request), page.token, status)
    return page.render(
        "operations/index.html",
        **await _status(page),
        letters=letters,
        status=status,
        statuses=DEAD_LETTER_STATUSES,
    )


@router.get("/status")
async def status_fragment(page: SignedInPage) -> Response:
    """Health and lag alone: what the page's htmx polling swaps in every few seconds."""
    page.require(OPERATE)
    return page.render("operations/status.html", **await _status(page))


@router.get("/dead-letters")
async def dead_letters_fragment(
    page: SignedInPage, status: Annotated[str, Query(pattern="^(open|replayed|discarded)$")] = "open"
) -> Response:
    """The dead-letter table alone: what the page's htmx polling swaps in, so new ones show up."""
    page.require(OPERATE)
    letters = await service.dead_letters(services_of(page.request), page.token, status)
    return page.render("operations/dead_letters.html", letters=letters)


async def _dead_letter_page(
    page: Page, name: str, dead_letter_id: int, error: ServiceError | None = None, outcome: str = ""
) -> Response:
    letter: dict[str, Any] | None = None
    try:
        letter = await services_of(page.request).get(name, f"/admin/dead-letters/{dead_letter_id}", page.token)
    except ServiceError as exc:
        error = error or exc
    status_code = (error.status or 502) if error else 200
    return page.render(
        "operations/dead_letter.html",
        status_code=status_code,
        service=name,
        letter=letter,
        payload=_readable(letter["payload"]) if letter else "",
        correlation=_correlation(letter["payload"]) if letter else None,
        error=error,
        outcome=outcome,
    )


def _readable(payload: str) -> str:
    """The payload indented when it is JSON, as stored otherwise (a poison message need not be JSON)."""
    try:
        return json.dumps(json.loads(payload), indent=2, ensure_ascii=False)
    except ValueError:
        return payload


def _correlation(payload: str) -> str | None:
    """The request (or other subject) the message belongs to, to follow its trace; None when unreadable."""
    try:
        document = json.loads(payload)
    except ValueError:
        return None
    value = document.get("correlationid") if isinstance(document, dict) else None
    return value if isinstance(value, str) and valid_request_id(value) else None


@router.get("/dead-letters/{name}/{dead_letter_id}")
async def dead_letter(
    page: SignedInPage,
    name: Service,
    dead_letter_id: DeadLetterId,
    outcome: Annotated[str, Query(pattern="^(handled|duplicate|discarded)?$")] = "",
) -> Response:
    page.require(OPERATE)
    return await _dead_letter_page(page, name, dead_letter_id, outcome=outcome)


@router.post("/dead-letters/{name}/{dead_letter_id}/replay")
async def replay(
    page: SignedInPage,
    name: Service,
    dead_letter_id: DeadLetterId,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(OPERATE)
    path = f"/admin/dead-letters/{dead_letter_id}/replay"
    try:
        answer = await services_of(page.request).post(name, path, page.token)
    except ServiceError as exc:
        return await _dead_letter_page(page, name, dead_letter_id, error=exc)
    return redirect(f"/operations/dead-letters/{name}/{dead_letter_id}?outcome={answer.get('outcome', '')}")


@router.post("/dead-letters/{name}/{dead_letter_id}/discard")
async def discard(
    page: SignedInPage,
    name: Service,
    dead_letter_id: DeadLetterId,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(OPERATE)
    try:
        await services_of(page.request).post(name, f"/admin/dead-letters/{dead_letter_id}/discard", page.token)
    except ServiceError as exc:
        return await _dead_letter_page(page, name, dead_letter_id, error=exc)
    return redirect(f"/operations/dead-letters/{name}/{dead_letter_id}?outcome=discarded")


@router.get("/trace")
async def trace(page: SignedInPage, asked: Annotated[str, Query(alias="id", max_length=100)] = "") -> Response:
    """A request's (or one trace's) spans from every service, drawn as a waterfall; htmx asks again while none
    are found, since services write their spans in batches a few seconds apart."""
    page.require(OPERATE)
    console: ConsoleSettings = page.request.app.state.console
    wanted = asked.strip()
    context: dict[str, Any] = {
        "wanted": wanted,
        "falls": [],
        "errors": [],
        "otlp": [],
        "invalid": False,
        "growing": False,
    }
    if wanted and not (trace_id_of(wanted) or valid_request_id(wanted)):
        context["invalid"] = True
    elif wanted:
        trace_id = trace_id_of(wanted)
        found = await service.trace_spans(services_of(page.request), page.token, trace_id, None if trace_id else wanted)
        context.update(
            falls=waterfalls(found.spans), errors=found.errors, otlp=found.otlp, growing=still_growing(found.spans)
        )
    template = page.fragment("operations/trace.html", "operations/trace_result.html")
    return page.render(template, jaeger_url=console.jaeger_ui_url.rstrip("/"), **context)
