"""Composition root: the console's FastAPI application (pages, static files, health)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from console.account.views import router as account_router
from console.billing.bills import router as bills_router
from console.billing.cash import router as cash_router
from console.billing.dunning import router as dunning_router
from console.billing.fees import router as fee_items_router
from console.billing.income import router as income_router
from console.billing.latefees import router as late_fees_router
from console.billing.meters import router as meters_router
from console.billing.monthend import router as month_end_router
from console.billing.owners import router as owner_bills_router
from console.billing.parking import router as parking_router
from console.billing.plans import router as plans_router
from console.billing.services import router as paid_services_router
from console.billing.statements import router as statements_router
from console.billing.views import router as billing_router
from console.board.views import router as board_router
from console.config import ConsoleSettings, load_console_settings
from console.decoration.views import owners_router as decoration_owners_router
from console.decoration.views import router as decoration_router
from console.followup.views import router as followup_router
from console.frontdesk.views import router as frontdesk_router
from console.gate.views import router as gate_router
from console.i18n import LANGUAGE_COOKIE, language_of, translator
from console.live.hub import LiveHub
from console.live.views import router as live_router
from console.occupancy.views import router as occupancy_router
from console.operations.views import router as operations_router
from console.portal.views import router as portal_router
from console.registers.owners import router as owner_registers_router
from console.registers.views import router as registers_router
from console.reports.views import router as reports_router
from console.services import Services
from console.staff.views import router as staff_router
from console.web import SignInRequired, redirect, templates
from console.worker.views import router as worker_router
from pm_platform.db import create_engine, sessionmaker
from pm_platform.settings import Settings, load_settings


def create(settings: Settings | None = None, console: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or load_settings("console")
    console = console or load_console_settings()
    problem = settings.auth_config_error()
    if problem:
        raise SystemExit(f"console: {problem}")
    engine = create_engine(settings.resolved_database_url())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await app.state.live.close()
            await app.state.services.close()
            await engine.dispose()

    app = FastAPI(title="Console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings, app.state.console = settings, console
    app.state.engine, app.state.sessionmaker = engine, sessionmaker(engine)
    app.state.services = Services(console)
    app.state.live = LiveHub(settings)
    app.mount("/static", StaticFiles(directory=str(resources.files("console") / "static")), name="static")
    app.include_router(account_router)
    app.include_router(frontdesk_router)
    app.include_router(staff_router)
    app.include_router(reports_router)
    app.include_router(worker_router)
    app.include_router(operations_router)
    app.include_router(billing_router)
    app.include_router(fee_items_router)
    app.include_router(bills_router)
    app.include_router(month_end_router)
    app.include_router(cash_router)
    app.include_router(dunning_router)
    app.include_router(late_fees_router)
    app.include_router(parking_router)
    app.include_router(income_router)
    app.include_router(paid_services_router)
    app.include_router(plans_router)
    app.include_router(statements_router)
    app.include_router(meters_router)
    app.include_router(owner_bills_router)
    app.include_router(followup_router)
    app.include_router(live_router)
    app.include_router(board_router)
    app.include_router(portal_router)
    app.include_router(registers_router)
    app.include_router(owner_registers_router)
    app.include_router(gate_router)
    app.include_router(decoration_router)
    app.include_router(decoration_owners_router)
    app.include_router(occupancy_router)

    @app.exception_handler(SignInRequired)
    async def to_sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.headers.get("HX-Request"):  # htmx follows a redirect inside the target: reload instead
            return Response(status_code=401, headers={"HX-Redirect": exc.path})
        return redirect(exc.path)

    @app.exception_handler(HTTPException)
    async def error_page(request: Request, exc: HTTPException) -> Response:
        t = translator(language_of(request.cookies.get(LANGUAGE_COOKIE)))
        key = {"csrf": "error.csrf", "forbidden": "error.forbidden"}.get(str(exc.detail))
        message = t(key) if key else str(exc.detail)
        return templates.TemplateResponse(
            request, "error.html", {"t": t, "page": None, "message": message}, status_code=exc.status_code
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"database": False}, status_code=503)
        return JSONResponse({"database": True})

    return app
