"""A service refuses to start on the well-known default JWT secret outside development mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from billing.database import Base, platform_tables
from billing.main import create
from pm_platform.app import InsecureConfiguration
from pm_platform.runtime import Runtime
from pm_platform.settings import DEV_JWT_SECRET, REPO_ROOT, Settings, load_settings

REAL_SECRET = "a-real-secret-of-more-than-32-bytes-0123456789"


async def build(tmp_path: Path, **settings: object) -> FastAPI:
    runtime = Runtime(Settings(service="billing", var_dir=tmp_path, **settings), Base.metadata, platform_tables)
    try:
        return create(runtime)
    finally:
        await runtime.engine.dispose()


@pytest.mark.parametrize(
    ("secret", "algorithm", "reason"),
    [(DEV_JWT_SECRET, "HS256", "PM_JWT_SECRET is unset"), (REAL_SECRET, "none", "PM_JWT_ALGORITHM 'none'")],
    ids=["default", "algorithm-none"],
)
async def test_without_a_real_secret_and_not_in_dev_mode_a_service_refuses_to_start(
    tmp_path, secret, algorithm, reason
) -> None:
    with pytest.raises(InsecureConfiguration) as refused:
        await build(tmp_path, jwt_secret=secret, jwt_algorithm=algorithm, dev_mode=False)
    assert f"billing refuses to start: {reason}" in str(refused.value)


@pytest.mark.parametrize("secret", ["", "short-secret"], ids=["empty", "short"])
def test_an_empty_or_short_secret_is_refused_with_the_settings_even_in_dev_mode(secret) -> None:
    with pytest.raises(ValidationError, match="PM_JWT_SECRET must be at least 32 bytes"):
        Settings(service="billing", jwt_secret=secret, dev_mode=True)


async def test_a_real_secret_a_jwks_url_or_dev_mode_start(tmp_path) -> None:
    assert isinstance(await build(tmp_path, jwt_secret=REAL_SECRET, dev_mode=False), FastAPI)
    assert isinstance(
        await build(tmp_path, jwt_secret=DEV_JWT_SECRET, jwt_jwks_url="https://idp.example/jwks"), FastAPI
    )
    assert isinstance(await build(tmp_path, jwt_secret=DEV_JWT_SECRET, dev_mode=True), FastAPI)


def test_dev_mode_and_the_secret_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("PM_JWT_SECRET", raising=False)
    monkeypatch.delenv("PM_DEV_MODE", raising=False)
    assert load_settings("billing").auth_config_error() is not None
    monkeypatch.setenv("PM_DEV_MODE", "1")
    assert load_settings("billing").auth_config_error() is None
    monkeypatch.delenv("PM_DEV_MODE")
    monkeypatch.setenv("PM_JWT_SECRET", REAL_SECRET)
    assert load_settings("billing").auth_config_error() is None


def test_serve_exits_with_the_reason_when_no_secret_is_configured(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PM_JWT_SECRET", "PM_DEV_MODE", "PM_JWT_JWKS_URL")}
    env["PM_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "billing", "serve", "--port", "1"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "billing refuses to start: PM_JWT_SECRET is unset" in result.stderr
