"""Every setting appears in docs/settings.md and .env.example, generated from the settings classes.

When ``test_generated_settings_files_are_up_to_date`` fails, a setting was added or changed: give it a
docstring (its description) and run ``.venv/bin/python -m pm_platform.settings_doc`` (or ``pm settings``).
"""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from pm_platform import settings_doc
from pm_platform.settings import Settings


def test_generated_settings_files_are_up_to_date() -> None:
    stale = [str(path.relative_to(settings_doc.REPO_ROOT)) for path in settings_doc.stale()]
    assert not stale, f"{stale} out of date: run `.venv/bin/python -m pm_platform.settings_doc`"


def test_every_setting_has_a_description() -> None:
    missing = [doc.env for doc in settings_doc.collect() if not doc.description]
    assert not missing, f"add a docstring under each of these fields: {missing}"


def test_the_platform_and_service_settings_are_all_found() -> None:
    docs = settings_doc.collect()
    names = [doc.env for doc in docs]
    assert len(names) == len(set(names)), "one setting, one line"
    assert len(names) >= 47
    assert {
        "PM_NATS_URL",
        "PM_JWT_SECRET",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "PM_NOTIFICATION_SMTP_HOST",
        "PM_NOTIFICATION_QUIET_START",
    } <= set(names)
    assert {doc.scope for doc in docs if doc.env.startswith("PM_NOTIFICATION_")} == {"notification"}


def test_each_setting_has_its_row_and_its_line() -> None:
    table = settings_doc.DOC_PATH.read_text(encoding="utf-8")
    example = settings_doc.ENV_EXAMPLE_PATH.read_text(encoding="utf-8")
    for doc in settings_doc.collect():
        assert len(re.findall(rf"^\| `{doc.env}` \|", table, re.MULTILINE)) == 1, doc.env
        assert len(re.findall(rf"^(# )?{doc.env}=", example, re.MULTILINE)) == 1, doc.env


def test_secrets_are_marked_and_their_defaults_not_shown() -> None:
    secret = {doc.env for doc in settings_doc.collect() if doc.secret}
    assert {
        "PM_JWT_SECRET",
        "PM_DATABASE_URL",
        "PM_NOTIFICATION_SMTP_PASSWORD",
        "PM_NOTIFICATION_GATEWAY_TOKEN",
    } <= secret
    assert not {"PM_NATS_URL", "PM_JWT_JWKS_URL", "PM_NOTIFICATION_SMTP_HOST"} & secret
    default_secret = Settings.model_fields["jwt_secret"].default
    for path in (settings_doc.DOC_PATH, settings_doc.ENV_EXAMPLE_PATH):
        assert default_secret not in path.read_text(encoding="utf-8")
    # Compose needs the one secret it cannot default: present, uncommented and empty.
    assert re.search(r"^PM_JWT_SECRET=$", settings_doc.ENV_EXAMPLE_PATH.read_text(), re.MULTILINE)


def test_a_new_setting_without_its_line_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    class Extra(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="PM_EXTRA_", use_attribute_docstrings=True)

        api_key: str = "k"
        """A key for something new."""

    found = settings_doc.settings_classes()
    monkeypatch.setattr(settings_doc, "settings_classes", lambda: [*found, ("extra", Extra)])
    assert set(settings_doc.stale()) == {settings_doc.DOC_PATH, settings_doc.ENV_EXAMPLE_PATH}
    assert settings_doc.main(["--check"]) == 1
    [doc] = [doc for doc in settings_doc.collect() if doc.env == "PM_EXTRA_API_KEY"]
    assert doc.secret and doc.description == "A key for something new."


@pytest.mark.parametrize("secret", ["", "too-short"])
def test_a_short_jwt_secret_is_refused_without_echoing_it(secret: str) -> None:
    with pytest.raises(ValidationError, match="PM_JWT_SECRET must be at least 32 bytes") as raised:
        Settings(service="test", jwt_secret=secret)
    assert "too-short" not in str(raised.value)
    # With an identity provider's JWKS the HS256 secret is not used.
    Settings(service="test", jwt_secret=secret, jwt_jwks_url="https://idp.example/jwks.json")
