"""The edge in one place: named permissions, domain errors answered as problem+json, Page[T] on every listing."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from pm_platform.auth import ROLES, Permission, Principal, Role, mint_token, require
from pm_platform.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooLarge
from pm_platform.problems import PROBLEM_JSON, install_problem_handlers
from pm_platform.runtime import Runtime
from pm_platform.settings import Settings

SETTINGS = Settings(service="test", jwt_secret="test-secret-0123456789abcdef0123456789")
SERVICES = ("intake", "dispatch", "billing", "survey", "notification")
READ_THINGS = Permission("read things", Role.agent, Role.supervisor)
ReadThings = Annotated[Principal, Depends(require(READ_THINGS))]


def make_app() -> FastAPI:
    app = FastAPI()
    app.state.runtime = type("R", (), {"settings": SETTINGS})()
    install_problem_handlers(app)
    router = APIRouter()

    @router.get("/sites/{site}/things")
    async def things(site: str, principal: ReadThings) -> dict[str, str]:
        return {"site": site, "sub": principal.subject}

    errors: dict[str, DomainError] = {
        "not-found": NotFound("work order", "wo-1"),
        "not-known": NotFound("unit A-1 is not known at site harbour", field="unit_id"),
        "forbidden": Forbidden("owners see only their own follow-ups", field="followup_id"),
        "conflict": Conflict("work order wo-1 is completed; it cannot become accepted", current_status="completed"),
        "invalid": Invalid("text: syntax error on line 1", field="text", kind="syntax"),
        "too-large": TooLarge("the file is larger than 10 bytes", field="file"),
    }

    @router.get("/errors/{name}")
    async def error(name: str) -> None:
        raise errors[name]

    app.include_router(router)
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://t") as c:
        yield c


def bearer(roles: list[str], sites: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SETTINGS, 'someone', roles, sites)}"}


def test_roles_are_an_enum_of_the_token_role_names() -> None:
    assert [str(role) for role in ROLES] == [role.value for role in Role]
    assert "worker" in frozenset({Role.worker})  # a token's plain strings match the enum members


async def test_a_permission_admits_its_roles_only_and_keeps_the_site_check(client: httpx.AsyncClient) -> None:
    for role in ROLES:
        response = await client.get("/sites/harbour/things", headers=bearer([role], ["harbour"]))
        assert response.status_code == (200 if role in READ_THINGS.roles else 403), role
    refused = await client.get("/sites/harbour/things", headers=bearer(["owner"], ["harbour"]))
    assert refused.json()["detail"] == "requires one of the roles: agent, supervisor"
    foreign = await client.get("/sites/riverside/things", headers=bearer(["agent"], ["harbour"]))
    assert (foreign.status_code, foreign.json()["field"]) == (403, "site")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("not-found", {"status": 404, "title": "Not Found", "detail": "work order wo-1 not found"}),
        (
            "not-known",
            {
                "status": 404,
                "title": "Not Found",
                "detail": "unit A-1 is not known at site harbour",
                "field": "unit_id",
            },
        ),
        (
            "forbidden",
            {
                "status": 403,
                "title": "Forbidden",
                "detail": "owners see only their own follow-ups",
                "field": "followup_id",
            },
        ),
        (
            "conflict",
            {
                "status": 409,
                "title": "Conflict",
                "detail": "work order wo-1 is completed; it cannot become accepted",
                "current_status": "completed",
            },
        ),
        (
            "invalid",
            {
                "status": 422,
                "title": HTTPStatus(422).phrase,
                "detail": "text: syntax error on line 1",
                "field": "text",
                "kind": "syntax",
            },
        ),
        (
            "too-large",
            {
                "status": 413,
                "title": HTTPStatus(413).phrase,
                "detail": "the file is larger than 10 bytes",
                "field": "file",
            },
        ),
    ],
)
async def test_a_domain_error_answers_problem_json_with_its_status(
    client: httpx.AsyncClient, name: str, expected: dict[str, Any]
) -> None:
    response = await client.get(f"/errors/{name}")
    assert response.status_code == expected["status"]
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {"type": "about:blank", "instance": f"/errors/{name}", **expected}


def service_apps() -> list[tuple[str, FastAPI]]:
    apps = []
    for name in SERVICES:
        database = importlib.import_module(f"{name}.database")
        runtime = Runtime(
            Settings(service=name, database_url="sqlite+aiosqlite://", jwt_secret=SETTINGS.jwt_secret),
            database.Base.metadata,
            database.platform_tables,
        )
        apps.append((name, importlib.import_module(f"{name}.main").create(runtime)))
    return apps


def test_every_paged_listing_documents_a_page_of_its_items() -> None:
    """A route that takes ``limit`` and ``offset`` answers ``Page[XRead]`` (or a report model of its own that
    holds a page): its OpenAPI names the items."""
    pages = []
    for name, app in service_apps():
        schema = app.openapi()
        for route in iter_route_contexts(app.routes):
            if not isinstance(route.original_route, APIRoute):
                continue
            if not {"limit", "offset"} <= {param.name for param in route.dependant.query_params}:
                continue
            answer = schema["paths"][route.path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            if answer.get("type") == "array":
                continue  # a plain list, bounded (a unit's timeline): not a page
            assert "$ref" in answer, f"{name} {route.path}: an untyped listing {answer}"
            model = answer["$ref"].rsplit("/", 1)[1]
            body = schema["components"]["schemas"][model]
            assert {"items", "total", "limit", "offset"} <= set(body["required"]), f"{name} {route.path}"
            assert "$ref" in body["properties"]["items"]["items"], f"{name} {route.path}: untyped items"
            if model.startswith("Page_"):
                pages.append(f"{name} {route.path}")
    assert len(pages) >= 14, pages
