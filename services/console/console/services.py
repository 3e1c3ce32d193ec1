"""Calls to the five services, always with the signed-in person's own token (the services enforce who may
do what). A 4xx is handed back with the service's own wording for the page to show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from console.config import ConsoleSettings


@dataclass(frozen=True)
class ServiceError(Exception):
    """A service refused (4xx, with its problem's wording) or could not be reached (status None)."""

    service: str
    status: int | None
    detail: str
    field: str | None = None  # the problem's `field`: which input the service refused
    # An import refused whole: the problem's list of bad rows (`errors` or `rows`), each as the service words it.
    rows: tuple[dict[str, Any], ...] = ()


class Services:
    def __init__(self, settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_urls = {
            "intake": settings.intake_url,
            "dispatch": settings.dispatch_url,
            "billing": settings.billing_url,
            "survey": settings.survey_url,
            "notification": settings.notification_url,
        }
        self.client = httpx.AsyncClient(timeout=settings.service_timeout_seconds, transport=transport)

    async def request(
        self,
        method: str,
        service: str,
        path: str,
        token: str,
        params: dict[str, str] | None = None,
        body: Any = None,
    ) -> Any:
        """One call as the person; a 4xx or 5xx becomes a ServiceError with the service's own words."""
        response = await self.send(method, service, path, token, params=params, body=body)
        return response.json() if response.content else None

    async def send(
        self,
        method: str,
        service: str,
        path: str,
        token: str,
        params: dict[str, str] | None = None,
        body: Any = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> httpx.Response:
        """The response itself (a CSV export, say, or a photo), once it is not a refusal; with ``data`` and
        ``files`` the call is a multipart upload."""
        url = self.base_urls[service].rstrip("/") + path
        try:
            response = await self.client.request(
                method,
                url,
                params=params,
                json=body,
                data=data,
                files=files,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            raise ServiceError(service, None, type(exc).__name__) from exc
        if response.status_code >= 400:
            raise ServiceError(
                service, response.status_code, problem_detail(response), problem_field(response), problem_rows(response)
            )
        return response

    async def post_file(
        self, service: str, path: str, token: str, data: dict[str, str], files: dict[str, tuple[str, bytes, str]]
    ) -> Any:
        """A multipart upload (form fields and files by field name: (file name, content, content type))."""
        response = await self.send("POST", service, path, token, data=data, files=files)
        return response.json() if response.content else None

    async def get_bytes(self, service: str, path: str, token: str) -> tuple[bytes, str]:
        """A file the service serves: its bytes and content type."""
        response = await self.send("GET", service, path, token)
        return response.content, response.headers.get("content-type", "application/octet-stream")

    async def get(self, service: str, path: str, token: str, params: dict[str, str] | None = None) -> Any:
        return await self.request("GET", service, path, token, params=params)

    async def post(self, service: str, path: str, token: str, body: Any = None) -> Any:
        return await self.request("POST", service, path, token, body=body)

    async def put(self, service: str, path: str, token: str, body: Any = None) -> Any:
        return await self.request("PUT", service, path, token, body=body)

    async def patch(self, service: str, path: str, token: str, body: Any = None) -> Any:
        return await self.request("PATCH", service, path, token, body=body)

    async def delete(self, service: str, path: str, token: str) -> Any:
        return await self.request("DELETE", service, path, token)

    async def close(self) -> None:
        await self.client.aclose()


def problem_detail(response: httpx.Response) -> str:
    """The service's own words for a refusal: a problem's detail (or title), else the body's text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("detail", "title"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
    return response.text[:500]


def problem_field(response: httpx.Response) -> str | None:
    """The problem's `field` (the input the service refused), when it names one."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("field"), str) and body["field"]:
        return str(body["field"])
    return None


def problem_rows(response: httpx.Response) -> tuple[dict[str, Any], ...]:
    """The problem's bad rows (an import's `errors`, or `rows`), when it lists any."""
    try:
        body = response.json()
    except ValueError:
        return ()
    if not isinstance(body, dict):
        return ()
    listed = body.get("errors") if isinstance(body.get("errors"), list) else body.get("rows")
    return tuple(row for row in listed if isinstance(row, dict)) if isinstance(listed, list) else ()
