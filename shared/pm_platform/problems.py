"""RFC 9457 problem details for every error a service answers."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from pm_platform.errors import DomainError

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str | None
    message: str


class ProblemBody(BaseModel):
    """The body of every 4xx answer (RFC 9457), as documented in the OpenAPI of every service."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    field: str | None = None
    errors: list[FieldError] | None = None


class Problem(Exception):
    """Raise at the edge (views, auth) to answer with a problem+json body; the service layer raises
    ``pm_platform.errors`` instead."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.field = field
        self.headers = headers
        self.extra = extra


def problem_response(
    status: int, title: str, detail: str, instance: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": instance}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(
            exc.status, exc.title, exc.detail, request.url.path, headers=exc.headers, field=exc.field, **exc.extra
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return problem_response(
            exc.status_code,
            HTTPStatus(exc.status_code).phrase,
            str(exc.detail),
            request.url.path,
            headers=getattr(exc, "headers", None),
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"field": ".".join(str(p) for p in error["loc"] if p != "body"), "message": error["msg"]}
            for error in exc.errors()
        ]
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        return problem_response(
            422,
            "Unprocessable Content",
            f"{first['field']}: {first['message']}",
            request.url.path,
            field=first["field"],
            errors=errors,
        )

    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        # A domain error the service layer raised: problem+json with its status.
        assert isinstance(exc, DomainError)
        return problem_response(
            exc.status, HTTPStatus(exc.status).phrase, exc.detail, request.url.path, field=exc.field, **exc.extra
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
