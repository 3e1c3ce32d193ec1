"""Intake calls the desk's and the owners' screens share: an application with its plan, a file upload."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile

from console.decoration.rules import permit_input
from console.services import ServiceError
from console.web import Page, services_of

FILE_READ_LIMIT = 12 * 1024 * 1024  # more than intake takes (10 MB): a larger file is cut, intake refuses it


async def upload(page: Page, permit_id: str, purpose: str, file: UploadFile) -> dict[str, Any]:
    content = await file.read(FILE_READ_LIMIT)
    stored: dict[str, Any] = await services_of(page.request).post_file(
        "intake",
        f"/decoration-permits/{permit_id}/files",
        page.token,
        data={"purpose": purpose},
        files={"file": (file.filename or "file", content, file.content_type or "application/octet-stream")},
    )
    return stored


async def apply_with_plan(page: Page, body: dict[str, Any], plan: Any) -> tuple[dict[str, Any], ServiceError | None]:
    """The application (a ServiceError when intake refuses it), then its plan when one was chosen: the permit
    stands even when intake refuses the plan, whose refusal is handed back to show."""
    created: dict[str, Any] = await services_of(page.request).post("intake", "/decoration-permits", page.token, body)
    if isinstance(plan, UploadFile) and plan.filename:
        try:
            await upload(page, created["id"], "plan", plan)
        except ServiceError as exc:
            return created, exc
    return created, None


def application_errors(refusal: ServiceError) -> dict[str, str]:
    """Intake's refusal of an application by the form's input it names (none: shown above the form)."""
    input_name = permit_input(refusal.field) if refusal.status else None
    return {input_name: refusal.detail} if input_name else {}
