from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notification.contact.models import Contact
from pm_platform.envelope import utcnow

DEFAULT_LANGUAGE = "zh-CN"


def remember_contact(session: AsyncSession, request_created: dict[str, Any]) -> Contact:
    """Keep the reporter of a new request (from ``intake.request.created.v1``)."""
    reporter = request_created["reporter"]
    contact = Contact(request_id=request_created["request_id"], site=request_created["site"],
                      unit_id=request_created.get("unit_id"), name=reporter["name"], phone=reporter.get("phone"),
                      language=reporter.get("language") or DEFAULT_LANGUAGE, created_at=utcnow())
    session.add(contact)
    return contact


async def find_contact(session: AsyncSession, request_id: str | None) -> Contact | None:
    if not request_id:
        return None
    return await session.get(Contact, request_id)
