"""Owners' sign-in with a one-time code: the console's commands on its own database, intake's lookup (who has
this phone) and notification (text the code), both called with the console's own short-lived service token."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from console.account.service import session_seconds
from console.config import ConsoleSettings
from console.portal.models import OwnerCode, OwnerSession
from console.portal.rules import (
    CodePolicy,
    CodeState,
    Verdict,
    check,
    expires,
    hash_code,
    new_code,
    new_salt,
    normalize_phone,
    wait_before_resend,
)
from console.services import ServiceError, Services
from pm_platform.auth import mint_token
from pm_platform.settings import Settings

log = logging.getLogger(__name__)

POLICY = CodePolicy()
SERVICE_SUBJECT = "console"  # who the services see calling when no person is signed in yet
SERVICE_TOKEN_SECONDS = 60
# The party roles who may use the portal (a family member's phone is the owner's business).
PORTAL_PARTY_ROLES = ("owner", "tenant")
SEND_LANGUAGES = {"zh": "zh-CN", "en": "en"}


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def service_token(settings: Settings, roles: list[str], sites: list[str]) -> str:
    """The console's own token for one call it makes on nobody's behalf (a minute is plenty)."""
    return mint_token(settings, SERVICE_SUBJECT, roles, sites, ttl_seconds=SERVICE_TOKEN_SECONDS)


@dataclass(frozen=True)
class Owner:
    party_id: str
    site: str
    unit_id: str | None
    name: str


async def find_owner(services: Services, settings: Settings, phone: str) -> Owner | None:
    """The active owner or tenant with this phone, from intake's caller lookup (any site)."""
    token = service_token(settings, ["agent"], ["*"])
    found = await services.get("intake", "/lookup", token, params={"phone": phone})
    for match in found.get("matches", []):
        party: dict[str, Any] | None = match.get("party")
        if party and party.get("active") and party.get("role") in PORTAL_PARTY_ROLES:
            return Owner(party["id"], party["site"], party.get("unit_id"), party["name"])
    return None


async def request_code(
    session: AsyncSession,
    services: Services,
    settings: Settings,
    phone: str,
    language: str,
    now: datetime | None = None,
) -> int:
    """Send a new code to the phone, or say how many seconds to wait first. A phone no owner has is treated
    the same (a row is kept, nothing is sent), so the answer does not tell whether the phone is known."""
    now = now or datetime.now(UTC)
    phone = normalize_phone(phone)
    phone_hash = _hash(phone)
    sent = (
        await session.scalars(
            select(OwnerCode.sent_at).where(
                OwnerCode.phone_hash == phone_hash, OwnerCode.sent_at > now - timedelta(hours=1)
            )
        )
    ).all()
    wait = wait_before_resend(list(sent), POLICY, now)
    if wait:
        return wait
    await session.execute(delete(OwnerCode).where(OwnerCode.sent_at < now - timedelta(days=1)))  # housekeeping
    owner = await find_owner(services, settings, phone)
    code, salt = new_code(), new_salt()
    session.add(
        OwnerCode(
            phone_hash=phone_hash,
            code_hash=hash_code(code, salt),
            salt=salt,
            sent_at=now,
            expires_at=expires(now, POLICY),
            attempts=0,
            used=False,
            party_id=owner.party_id if owner else None,
            site=owner.site if owner else None,
            unit_id=owner.unit_id if owner else None,
            name=owner.name if owner else None,
        )
    )
    if owner is not None:
        body = {
            "site": owner.site,
            "phone": phone,
            "code": code,
            "language": SEND_LANGUAGES.get(language, "zh-CN"),
            "party_id": owner.party_id,
        }
        try:
            await services.post(
                "notification", "/one-time-codes", service_token(settings, ["operator"], [owner.site]), body
            )
        except ServiceError as exc:
            # The page reads the same either way; the owner asks again after the wait.
            log.warning("one-time code to party %s not sent: %s %s", owner.party_id, exc.status, exc.detail)
    return 0


@dataclass(frozen=True)
class OwnerSignedIn:
    cookie_value: str
    session: OwnerSession


@dataclass(frozen=True)
class CodeRefused:
    verdict: Verdict
    attempts_left: int


async def verify_code(
    session: AsyncSession,
    settings: Settings,
    console: ConsoleSettings,
    phone: str,
    code: str,
    now: datetime | None = None,
) -> OwnerSignedIn | CodeRefused:
    """Check the code against the newest one sent to the phone; the right one starts an owner session."""
    now = now or datetime.now(UTC)
    row = await session.scalar(
        select(OwnerCode)
        .where(OwnerCode.phone_hash == _hash(normalize_phone(phone)))
        .order_by(OwnerCode.sent_at.desc(), OwnerCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    state = CodeState(row.code_hash, row.salt, row.expires_at, row.attempts, row.used) if row else None
    verdict, attempts = check(state, code, POLICY, now)
    if row is not None:
        row.attempts = attempts
    if verdict != Verdict.accepted or row is None or row.party_id is None or row.site is None:
        return CodeRefused(verdict, max(0, POLICY.max_attempts - attempts))
    row.used = True
    lifetime = session_seconds(settings, console)
    token = mint_token(settings, row.party_id, ["owner"], [row.site], party_id=row.party_id, ttl_seconds=lifetime)
    await session.execute(
        delete(OwnerSession).where(OwnerSession.party_id == row.party_id, OwnerSession.expires_at <= now)
    )
    cookie_value = secrets.token_urlsafe(32)
    owner_session = OwnerSession(
        id_hash=_hash(cookie_value),
        party_id=row.party_id,
        site=row.site,
        unit_id=row.unit_id,
        name=row.name or row.party_id,
        csrf_token=secrets.token_urlsafe(32),
        service_token=token,
        created_at=now,
        expires_at=now + timedelta(seconds=lifetime),
    )
    session.add(owner_session)
    return OwnerSignedIn(cookie_value, owner_session)


async def current_owner(
    session: AsyncSession, cookie_value: str | None, now: datetime | None = None
) -> OwnerSession | None:
    if not cookie_value:
        return None
    row = await session.get(OwnerSession, _hash(cookie_value))
    if row is None:
        return None
    expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    return row if expires_at > (now or datetime.now(UTC)) else None


async def sign_out(session: AsyncSession, cookie_value: str) -> None:
    await session.execute(delete(OwnerSession).where(OwnerSession.id_hash == _hash(cookie_value)))
