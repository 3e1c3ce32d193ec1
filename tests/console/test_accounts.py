"""The console's account service on its own database, SQLite and PostgreSQL, after its migrations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from console.account import service
from console.account.models import StaffAccount, StaffSession
from console.config import load_console_settings
from console.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed
from pm_platform import migrations
from pm_platform.db import create_engine, sessionmaker
from pm_platform.settings import load_settings
from tests.conftest import _create_database, _drop_database, on_own_thread

CONSOLE = load_console_settings(lockout_failures=3, lockout_minutes=15)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    name = f"pm_test_console_{uuid.uuid4().hex[:8]}"
    on_own_thread(asyncio.run, _create_database(admin, name))
    try:
        yield admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
    finally:
        on_own_thread(asyncio.run, _drop_database(admin, name))


@pytest.fixture
def settings(database_url: str) -> Any:
    settings = load_settings("console", database_url=database_url)
    on_own_thread(migrations.upgrade, "console", settings)
    return settings


@pytest.fixture
async def session(settings: Any) -> AsyncIterator[AsyncSession]:
    engine = create_engine(settings.resolved_database_url())
    async with sessionmaker(engine)() as db_session:
        yield db_session
    await engine.dispose()


async def test_the_demo_accounts_sign_in_and_get_a_token_the_services_accept(
    session: AsyncSession, settings: Any
) -> None:
    await seed(session)
    await seed(session)  # idempotent
    await session.commit()
    for username, _, roles, sites, department in DEMO_ACCOUNTS:
        result = await service.sign_in(session, settings, CONSOLE, username, DEMO_PASSWORD)
        assert isinstance(result, service.SignedIn), username
        claims = jwt.decode(result.session.service_token, settings.jwt_secret, algorithms=["HS256"])
        assert (claims["sub"], claims["roles"], claims["sites"], claims.get("department")) == (
            username,
            roles,
            sites,
            department,
        )
        assert claims["exp"] - claims["iat"] <= settings.jwt_max_lifetime_seconds
        await session.commit()
        found = await service.current(session, result.cookie_value)
        assert found is not None and found[1].username == username
        await service.sign_out(session, result.cookie_value)
        await session.commit()
        assert await service.current(session, result.cookie_value) is None


async def test_the_password_is_stored_as_argon2(session: AsyncSession) -> None:
    await seed(session)
    account = await session.get(StaffAccount, "agent.harbour")
    assert account is not None and account.password_hash.startswith("$argon2id$")
    assert DEMO_PASSWORD not in account.password_hash


async def test_wrong_passwords_lock_the_account_even_against_the_right_one(
    session: AsyncSession, settings: Any
) -> None:
    await seed(session)
    now = datetime.now(UTC)
    for _ in range(2):
        assert await service.sign_in(session, settings, CONSOLE, "agent.harbour", "wrong", now) == (
            service.SignInRefusal.wrong_credentials
        )
    assert await service.sign_in(session, settings, CONSOLE, "agent.harbour", "wrong", now) == (
        service.SignInRefusal.locked
    )
    await session.commit()
    assert await service.sign_in(session, settings, CONSOLE, "agent.harbour", DEMO_PASSWORD, now) == (
        service.SignInRefusal.locked
    )
    later = now + timedelta(minutes=16)
    assert isinstance(
        await service.sign_in(session, settings, CONSOLE, "agent.harbour", DEMO_PASSWORD, later), service.SignedIn
    )


async def test_an_unknown_name_reads_like_a_wrong_password(session: AsyncSession, settings: Any) -> None:
    assert await service.sign_in(session, settings, CONSOLE, "nobody", "x") == service.SignInRefusal.wrong_credentials


async def test_a_session_ends_with_its_token_and_is_removed_at_the_next_sign_in(
    session: AsyncSession, settings: Any
) -> None:
    await seed(session)
    long_ago = datetime.now(UTC) - timedelta(hours=9)
    old = await service.sign_in(session, settings, CONSOLE, "ops", DEMO_PASSWORD, long_ago)
    assert isinstance(old, service.SignedIn)
    await session.commit()
    assert await service.current(session, old.cookie_value) is None  # 8 hours, like its token
    new = await service.sign_in(session, settings, CONSOLE, "ops", DEMO_PASSWORD)
    assert isinstance(new, service.SignedIn)
    await session.commit()
    assert await session.get(StaffSession, old.session.id_hash) is None
