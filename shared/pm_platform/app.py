"""The FastAPI application every service is built from: lifespan, health, problems, tracing, admin."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from sqlalchemy.ext.asyncio import AsyncSession

from pm_platform import deadletters
from pm_platform.problems import install_problem_handlers
from pm_platform.runtime import Runtime
from pm_platform.telemetry import setup_tracing, shutdown_tracing
from pm_platform.uow import UnitOfWork


class InsecureConfiguration(RuntimeError):
    """The service would accept forgeable tokens."""


health = APIRouter(tags=["health"])


@health.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@health.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    checks = await request.app.state.runtime.readiness()
    ready = all(checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)


def create_app(runtime: Runtime, *, title: str, routers: Sequence[APIRouter], description: str = "") -> FastAPI:
    problem = runtime.settings.auth_config_error()
    if problem:
        raise InsecureConfiguration(f"{runtime.settings.service} refuses to start: {problem}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
    for router in routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")
    SQLAlchemyInstrumentor().instrument(engine=runtime.engine.sync_engine)
    return app


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_runtime(request).sessionmaker() as session:
        yield session


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    async with get_runtime(request).uow() as uow:
        yield uow


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
UowDep = Annotated[UnitOfWork, Depends(get_uow)]


def page(items: Sequence[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": list(items), "total": total, "limit": limit, "offset": offset}
