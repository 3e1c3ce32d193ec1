"""Sign-in, sessions and sign-out: the console's commands on its own database."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from console.account.models import StaffAccount, StaffSession
from console.account.rules import Lockout, LockoutPolicy, after_failure, after_success, is_locked
from console.config import ConsoleSettings
from pm_platform.auth import mint_token
from pm_platform.settings import Settings

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class SignInRefusal(StrEnum):
    """Why a sign-in was refused; the page words each one (a wrong name and a wrong password read the same)."""

    wrong_credentials = "wrong_credentials"
    locked = "locked"


@dataclass(frozen=True)
class SignedIn:
    cookie_value: str  # the session cookie's value; only its hash is stored
    session: StaffSession


def session_seconds(settings: Settings, console: ConsoleSettings) -> int:
    """A sign-in lasts a shift, never longer than the services accept a token."""
    return int(min(console.session_hours * 3600, settings.jwt_max_lifetime_seconds))


def _hash_cookie(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def sign_in(
    session: AsyncSession,
    settings: Settings,
    console: ConsoleSettings,
    username: str,
    password: str,
    now: datetime | None = None,
) -> SignedIn | SignInRefusal:
    now = now or datetime.now(UTC)
    account = await session.get(StaffAccount, username)
    if account is None:
        password_matches(_DUMMY_HASH, password)  # the same work as for a real account: no timing oracle
        return SignInRefusal.wrong_credentials
    if is_locked(account.locked_until, now):
        return SignInRefusal.locked
    if not password_matches(account.password_hash, password):
        policy = LockoutPolicy(console.lockout_failures, console.lockout_minutes)
        state = after_failure(Lockout(account.failed_attempts, account.locked_until), policy, now)
        account.failed_attempts, account.locked_until = state.failed_attempts, state.locked_until
        return SignInRefusal.locked if is_locked(state.locked_until, now) else SignInRefusal.wrong_credentials
    state = after_success()
    account.failed_attempts, account.locked_until = state.failed_attempts, state.locked_until
    lifetime = session_seconds(settings, console)
    token = mint_token(
        settings, account.username, account.roles, account.sites, account.department, ttl_seconds=lifetime
    )
    # The person's expired sessions go as a new one starts: the table holds live sessions, not a history.
    await session.execute(
        delete(StaffSession).where(StaffSession.username == account.username, StaffSession.expires_at <= now)
    )
    cookie_value = secrets.token_urlsafe(32)
    row = StaffSession(
        id_hash=_hash_cookie(cookie_value),
        username=account.username,
        csrf_token=secrets.token_urlsafe(32),
        service_token=token,
        created_at=now,
        expires_at=now + timedelta(seconds=lifetime),
    )
    session.add(row)
    return SignedIn(cookie_value, row)


async def current(
    session: AsyncSession, cookie_value: str | None, now: datetime | None = None
) -> tuple[StaffSession, StaffAccount] | None:
    """The live session behind a cookie and its account, or None."""
    if not cookie_value:
        return None
    row = await session.get(StaffSession, _hash_cookie(cookie_value))
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires <= (now or datetime.now(UTC)):
        return None
    account = await session.get(StaffAccount, row.username)
    return None if account is None else (row, account)


async def sign_out(session: AsyncSession, cookie_value: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.id_hash == _hash_cookie(cookie_value)))


async def upsert_account(
    session: AsyncSession,
    username: str,
    display_name: str,
    password: str,
    roles: list[str],
    sites: list[str],
    department: str | None = None,
) -> StaffAccount:
    account = await session.get(StaffAccount, username)
    if account is None:
        account = StaffAccount(username=username, failed_attempts=0)
        session.add(account)
    account.display_name = display_name
    account.password_hash = hash_password(password)
    account.roles, account.sites, account.department = roles, sites, department
    return account


_DUMMY_HASH = hash_password("not a password anyone has")
