"""Sign-in, sessions and sign-out: the console's commands on its own database."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from console.account.models import (
    STAFF_ROLES,
    PasswordReset,
    StaffAccount,
    StaffAccountCreate,
    StaffAccountUpdate,
    StaffSession,
)
from console.account.oidc import OidcError
from console.account.rules import Lockout, LockoutPolicy, after_failure, after_success
from console.account.rules import is_locked as _is_locked
from console.config import ConsoleSettings
from pm_platform.auth import Role, decode_token, mint_token
from pm_platform.errors import Conflict, NotFound
from pm_platform.problems import Problem
from pm_platform.settings import Settings

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters


def is_locked(locked_until: datetime | None, now: datetime | None = None) -> bool:
    return _is_locked(locked_until, now or datetime.now(UTC))


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
    disabled = "disabled"  # said only after the right password: the name alone reveals nothing
    federated = "federated"  # the person signs in through the organisation's provider, not with a password here
    name_taken = "name_taken"  # the provider's subject is the name of a local account: head office decides


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
    if account is None or account.federated:
        password_matches(_DUMMY_HASH, password)  # the same work as for a real account: no timing oracle
        return SignInRefusal.wrong_credentials
    if _is_locked(account.locked_until, now):
        return SignInRefusal.locked
    if not password_matches(account.password_hash, password):
        policy = LockoutPolicy(console.lockout_failures, console.lockout_minutes)
        state = after_failure(Lockout(account.failed_attempts, account.locked_until), policy, now)
        account.failed_attempts, account.locked_until = state.failed_attempts, state.locked_until
        return SignInRefusal.locked if _is_locked(state.locked_until, now) else SignInRefusal.wrong_credentials
    state = after_success()
    account.failed_attempts, account.locked_until = state.failed_attempts, state.locked_until
    if account.disabled:
        return SignInRefusal.disabled
    lifetime = session_seconds(settings, console)
    token = mint_token(
        settings, account.username, account.roles, account.sites, account.department, ttl_seconds=lifetime
    )
    return await start_session(session, account, token, now, lifetime)


async def sign_in_federated(
    session: AsyncSession,
    settings: Settings,
    console: ConsoleSettings,
    identity: dict[str, Any],
    access_token: str,
    now: datetime | None = None,
) -> tuple[SignedIn, int] | SignInRefusal:
    """A person the OpenID Connect provider signed in: their access token is checked exactly as the services will
    check it, their account row mirrors its roles and sites, and the session lives as long as the token."""
    now = now or datetime.now(UTC)
    try:
        principal = decode_token(settings, access_token)
    except Problem as exc:
        raise OidcError(f"the services would refuse the provider's access token: {exc.detail}") from None
    if principal.subject != str(identity["sub"]):
        raise OidcError("the access token and the ID token name different people")
    if not principal.roles & {str(role) for role in STAFF_ROLES}:
        raise OidcError("the provider gives this person no staff role")
    username = principal.subject[:64]
    account = await session.get(StaffAccount, username)
    if account is not None and not account.federated:
        return SignInRefusal.name_taken
    if account is None:
        account = StaffAccount(username=username, password_hash="", failed_attempts=0, federated=True, disabled=False)
        session.add(account)
    if account.disabled:
        return SignInRefusal.disabled
    display = identity.get("name") or identity.get("preferred_username") or username
    account.display_name = str(display)[:200]
    account.roles, account.sites = sorted(principal.roles), sorted(principal.sites)
    account.department = principal.department
    expires = float(jwt.decode(access_token, options={"verify_signature": False})["exp"])
    lifetime = int(min(expires - now.timestamp(), session_seconds(settings, console)))
    if lifetime <= 0:
        raise OidcError("the provider's access token has already expired")
    return await start_session(session, account, access_token, now, lifetime), lifetime


async def start_session(
    session: AsyncSession, account: StaffAccount, service_token: str, now: datetime, lifetime: int
) -> SignedIn:
    """A new session for a signed-in person, carrying the token the services check."""
    # The person's expired sessions go as a new one starts: the table holds live sessions, not a history.
    await session.execute(
        delete(StaffSession).where(StaffSession.username == account.username, StaffSession.expires_at <= now)
    )
    cookie_value = secrets.token_urlsafe(32)
    row = StaffSession(
        id_hash=_hash_cookie(cookie_value),
        username=account.username,
        csrf_token=secrets.token_urlsafe(32),
        service_token=service_token,
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
    return None if account is None or account.disabled else (row, account)


async def sign_out(session: AsyncSession, cookie_value: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.id_hash == _hash_cookie(cookie_value)))


async def list_accounts(session: AsyncSession) -> list[StaffAccount]:
    return list((await session.scalars(select(StaffAccount).order_by(StaffAccount.username))).all())


async def get_account(session: AsyncSession, username: str) -> StaffAccount:
    account = await session.get(StaffAccount, username)
    if account is None:
        raise NotFound("account", username)
    return account


async def create_account(session: AsyncSession, body: StaffAccountCreate) -> StaffAccount:
    if await session.get(StaffAccount, body.username) is not None:
        raise Conflict(f"the user name {body.username} is taken", field="username")
    account = StaffAccount(
        username=body.username,
        display_name=body.display_name,
        password_hash=hash_password(body.password),
        roles=[str(role) for role in body.roles],
        sites=body.sites,
        department=body.department,
        failed_attempts=0,
        disabled=False,
        federated=False,
    )
    session.add(account)
    return account


async def update_account(session: AsyncSession, username: str, body: StaffAccountUpdate, acting: str) -> StaffAccount:
    account = await get_account(session, username)
    if account.federated:
        raise Conflict("this account's roles and sites come from the identity provider; change them there")
    roles = [str(role) for role in body.roles]
    if username == acting and Role.head_office not in body.roles:
        raise Conflict("you cannot take head office from your own account", field="roles")
    account.display_name, account.roles, account.sites, account.department = (
        body.display_name,
        roles,
        body.sites,
        body.department,
    )
    # The live sessions carry the old roles in their tokens: they end, and the person signs in again.
    await end_sessions(session, username)
    return account


async def reset_password(session: AsyncSession, username: str, body: PasswordReset) -> StaffAccount:
    account = await get_account(session, username)
    if account.federated:
        raise Conflict("this account signs in through the identity provider and has no password here")
    account.password_hash = hash_password(body.password)
    state = after_success()
    account.failed_attempts, account.locked_until = state.failed_attempts, state.locked_until
    await end_sessions(session, username)
    return account


async def unlock(session: AsyncSession, username: str) -> StaffAccount:
    account = await get_account(session, username)
    state = after_success()
    account.failed_attempts, account.locked_until = state.failed_attempts, state.locked_until
    return account


async def set_disabled(session: AsyncSession, username: str, disabled: bool, acting: str) -> StaffAccount:
    account = await get_account(session, username)
    if disabled and username == acting:
        raise Conflict("you cannot disable your own account")
    account.disabled = disabled
    if disabled:
        await end_sessions(session, username)
    return account


async def end_sessions(session: AsyncSession, username: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.username == username))


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
    account.display_name, account.disabled, account.federated = display_name, False, False
    account.password_hash = hash_password(password)
    account.roles, account.sites, account.department = roles, sites, department
    return account


_DUMMY_HASH = hash_password("not a password anyone has")
