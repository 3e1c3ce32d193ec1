"""The FastAPI application every service is built from: lifespan, health, problems, tracing, admin."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.trace import Status, StatusCode
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pm_platform import asyncapi, deadletters, metrics, ops
from pm_platform.accesslog import AccessLog, setup_access_log
from pm_platform.admission import NEVER_SHED, Admission
from pm_platform.db import MAX_OFFSET, snapshot_options
from pm_platform.problems import PROBLEM_JSON, ProblemBody, install_problem_handlers, problem_response
from pm_platform.runtime import Runtime
from pm_platform.settings import Settings
from pm_platform.storage import FileStore, file_store
from pm_platform.telemetry import setup_tracing, shutdown_tracing
from pm_platform.uow import UnitOfWork


class InsecureConfiguration(RuntimeError):
    """The service would accept forgeable tokens."""


health = APIRouter(tags=["health"])


@health.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@health.get(
    "/readyz", responses={503: {"description": "Not ready: a check failed", "content": {"application/json": {}}}}
)
async def readyz(request: Request) -> JSONResponse:
    report = await request.app.state.runtime.readiness_report()
    body: dict[str, Any] = {"status": "ready" if report.ready else "not ready", "checks": report.checks}
    if not report.ready:
        body["reasons"] = report.reasons
        body["consumers"] = report.consumers
    return JSONResponse(body, status_code=200 if report.ready else 503)


def create_app(runtime: Runtime, *, title: str, routers: Sequence[APIRouter], description: str = "") -> FastAPI:
    problem = runtime.settings.auth_config_error()
    if problem:
        raise InsecureConfiguration(f"{runtime.settings.service} refuses to start: {problem}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    setup_access_log()
    setup_tracing(runtime.settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            shutdown_tracing()

    app = FastAPI(title=title, description=description, lifespan=lifespan)
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.include_router(health)
    app.include_router(deadletters.router)
    app.include_router(ops.router)
    for router in routers:
        app.include_router(router)
    document_problems(app)
    settings = runtime.settings
    asyncapi.install_routes(
        app, asyncapi.service_document(runtime.catalog, runtime.topology, settings.nats_url, settings.service)
    )
    app.add_middleware(AnswerServerErrors)  # innermost: the request's span is still current
    app.add_middleware(RejectNul)
    app.add_middleware(AccessLog)  # logs the final status, inside OpenTelemetry's span
    metrics.install(app)  # outermost of ours: counts the answers the middleware above give too
    # Probes and scrapes come every few seconds: not a trace each.
    # The ASGI receive and send of each body part are not a span each: two or three spans per request for nothing
    # an operator reads.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"])
    shed_at_the_door(app, settings)
    SQLAlchemyInstrumentor().instrument(engine=runtime.engine.sync_engine)
    return app


def shed_at_the_door(app: FastAPI, settings: Settings) -> None:
    """Admission outermost, outside even OpenTelemetry's middleware (which wraps the whole stack): under overload
    a shed request costs no span, no access-log line and no metrics work, so the admitted ones keep the CPU."""
    build = app.build_middleware_stack

    def build_with_admission() -> ASGIApp:
        return Admission(
            build(),
            max_in_flight=settings.http_max_in_flight,
            max_queued=settings.http_max_queued,
            queue_timeout=settings.http_queue_timeout_seconds,
        )

    app.build_middleware_stack = build_with_admission  # type: ignore[method-assign]


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


SAFE_METHODS = frozenset({"GET", "HEAD"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for a route's reads (and the reference-data writes of PUT/PATCH/DELETE routes that emit no event).
    A GET reads one snapshot and never waits for SQLite's write lock."""
    runtime = get_runtime(request)
    async with runtime.sessionmaker() as session:
        if request.method in SAFE_METHODS:
            await session.connection(execution_options=snapshot_options(runtime.engine.dialect.name))
        yield session


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    async with get_runtime(request).uow() as uow:
        yield uow


def get_file_store(request: Request) -> FileStore:
    return file_store(get_runtime(request).settings)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
FileStoreDep = Annotated[FileStore, Depends(get_file_store)]  # where the service's uploaded files are
SessionDep = Annotated[AsyncSession, Depends(get_session)]
UowDep = Annotated[UnitOfWork, Depends(get_uow)]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a listing (``pm_platform.db.fetch_page``): the items, in the listing's order, and the total
    count they are a page of. The ``response_model`` of every paged list endpoint, as ``Page[XRead]``."""

    items: list[T]
    total: int
    limit: int
    offset: int


def page(items: Sequence[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    """The body of a ``Page`` response (the route's ``response_model`` validates and documents the items)."""
    return {"items": list(items), "total": total, "limit": limit, "offset": offset}


# Paging, bounded in one place: an offset past any real listing is a client error, not a database overflow.
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip")]


# ---- NUL characters -------------------------------------------------------------------------------------
# PostgreSQL cannot store U+0000 in text (SQLite can): without this check a NUL in a path, a query or a
# body reaches the database and answers 500 on PostgreSQL only. No field of ours has a use for it.


def _nul_in_json(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return (*path, key.replace("\x00", ""))
            found = _nul_in_json(item, (*path, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_in_json(item, (*path, str(index)))
            if found is not None:
                return found
    return None


def nul_field(path: str, query_string: bytes, body: bytes) -> str | None:
    """Where a request carries a NUL character (the field name, as validation errors name it), or None."""
    if "\x00" in path:
        return "path"
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return f"query.{name.replace(chr(0), '')}"
    if b"\x00" in body:
        return "body"
    if b"\\u0000" in body:  # cheap test first: JSON writes a NUL as \u0000
        try:
            found = _nul_in_json(json.loads(body))
        except ValueError:
            return None  # not JSON: the route's own validation answers
        if found is not None:
            return ".".join(found) or "body"
    return None


class RejectNul:
    """ASGI middleware: a request with a NUL character anywhere answers 422 naming the field."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        # A multipart upload carries files, which are binary: only its path and query are checked here (the
        # routes that take uploads check their form fields by pattern).
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
        checked = b"" if content_type.lower().startswith(b"multipart/form-data") else body
        field = nul_field(scope["path"], scope.get("query_string", b""), checked)
        if field is not None:
            reason = "NUL characters are not allowed"
            response = problem_response(
                422,
                "Unprocessable Content",
                f"{field}: {reason}",
                scope["path"].replace("\x00", ""),
                field=field,
                errors=[{"field": field, "message": reason}],
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# ---- Server errors ------------------------------------------------------------------------------------------
# Starlette answers an unhandled exception with a text/plain 500 and re-raises it, and the server then drops the
# connection: the client's next request on it fails too. A fault of ours answers problem+json and keeps the
# connection; the exception is logged and recorded on the request's span.


class AnswerServerErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise  # part of an answer is out: nothing better to do than the server's default
            logging.getLogger("pm_platform.app").exception("unhandled error on %s %s", scope["method"], scope["path"])
            span = trace.get_current_span()
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            response = problem_response(
                500, "Internal Server Error", "an unexpected error; it is logged", scope["path"].replace("\x00", "")
            )
            await response(scope, receive, send)


# ---- OpenAPI: every answer a route can give ----------------------------------------------------------------

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEMS = {
    400: "The body cannot be read (not UTF-8 text)",
    401: "No valid bearer token",
    403: "The token's roles, sites or department do not allow this",
    404: "Something the request names does not exist (or is outside the caller's scope)",
    409: "The change conflicts with the current state; nothing changed",
    422: "A field is invalid (named in field and errors)",
    503: "The service is at capacity: retry after the seconds in Retry-After",
}


RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "integer", "minimum": 1}}


def _problems_for(method: str, operation: dict[str, Any]) -> list[int]:
    """Read from the operation itself: a secured one can answer 401/403 (and 404 for whatever it names,
    409 when it changes something); one with path parameters 404; one with a body 400 (unreadable); any one
    422 (a NUL anywhere) and 503 (shed at capacity, pm_platform.admission)."""
    statuses = [422, 503]
    if "requestBody" in operation:
        statuses.append(400)
    if operation.get("security"):
        statuses += [401, 403, 404]
        if method not in ("get", "head"):
            statuses.append(409)
    elif any(p.get("in") == "path" for p in operation.get("parameters", [])):
        statuses.append(404)
    return statuses


def document_problems(app: FastAPI) -> None:
    """Document on every operation the problem+json answers it can give, with one Problem schema."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = ProblemBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem.pop("$defs", {}))
        components["Problem"] = problem
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in _problems_for(method, operation):
                    if status == 503 and path in NEVER_SHED:
                        continue
                    responses[str(status)] = {
                        "description": PROBLEMS[status],
                        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
                    }
                    if status == 503:
                        responses["503"]["headers"] = {"Retry-After": RETRY_AFTER}
        # FastAPI's own validation-error schemas are never answered: validation errors are problems.
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
