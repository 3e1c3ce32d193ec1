"""Bearer JWT auth: HS256 with the configured secret, RS256 against a JWKS URL, role and site scope."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Depends, FastAPI
from jwt.algorithms import RSAAlgorithm

from pm_platform.auth import Principal, decode_token, mint_token, require
from pm_platform.problems import PROBLEM_JSON, Problem, install_problem_handlers
from pm_platform.settings import Settings
from pm_platform.subjects import InvalidToken, check_token, event_subject

SETTINGS = Settings(service="test", jwt_secret="test-secret-0123456789abcdef0123456789")


class _State:
    runtime = type("R", (), {"settings": SETTINGS})()


def make_app() -> FastAPI:
    app = FastAPI()
    app.state.runtime = _State.runtime
    install_problem_handlers(app)
    router = APIRouter()

    @router.get("/sites/{site}/things")
    async def things(site: str, principal: Annotated[Principal, Depends(require("agent", "supervisor"))]) -> dict:
        return {"site": site, "sub": principal.subject}

    @router.get("/health")
    async def health() -> dict:
        return {"ok": True}

    app.include_router(router)
    return app


@pytest.fixture
async def client() -> Iterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://t") as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_missing_and_invalid_tokens_answer_401_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/sites/harbour/things")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401

    forged = jwt.encode(
        {"sub": "x", "roles": ["agent"], "sites": ["*"], "exp": time.time() + 60},
        "other-secret-0123456789abcdef0123456789",
        algorithm="HS256",
    )
    response = await client.get("/sites/harbour/things", headers=bearer(forged))
    assert response.status_code == 401
    assert "Signature verification failed" in response.json()["detail"]

    expired = mint_token(SETTINGS, "a", ["agent"], ["harbour"], ttl_seconds=-10)
    response = await client.get("/sites/harbour/things", headers=bearer(expired))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_role_and_site_scope_answer_403_problem_json(client: httpx.AsyncClient) -> None:
    agent = mint_token(SETTINGS, "agent.harbour", ["agent"], ["harbour"])
    assert (await client.get("/sites/harbour/things", headers=bearer(agent))).json() == {
        "site": "harbour",
        "sub": "agent.harbour",
    }

    response = await client.get("/sites/riverside/things", headers=bearer(agent))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["field"] == "site"

    owner = mint_token(SETTINGS, "owner", ["owner"], ["harbour"])
    response = await client.get("/sites/harbour/things", headers=bearer(owner))
    assert response.status_code == 403
    assert "agent" in response.json()["detail"]

    head_office = mint_token(SETTINGS, "ho", ["supervisor"], ["*"])
    assert (await client.get("/sites/riverside/things", headers=bearer(head_office))).status_code == 200


def test_department_workers_are_held_to_their_department() -> None:
    worker = decode_token(SETTINGS, mint_token(SETTINGS, "w", ["worker"], ["harbour"], department="cleaning"))
    worker.check_department("cleaning")
    with pytest.raises(Problem) as denied:
        worker.check_department("engineering")
    assert denied.value.status == 403
    supervisor = decode_token(SETTINGS, mint_token(SETTINGS, "s", ["supervisor"], ["harbour"]))
    supervisor.check_department("engineering")


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "idp-key-1", "use": "sig", "alg": "RS256"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json", key
    finally:
        server.shutdown()


def test_rs256_tokens_are_verified_against_the_identity_provider_jwks(jwks_server) -> None:
    url, key = jwks_server
    settings = Settings(service="test", jwt_jwks_url=url)
    claims = {"sub": "idp|42", "roles": ["manager"], "sites": ["harbour", "lakeside"], "exp": time.time() + 60}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "idp-key-1"})
    principal = decode_token(settings, token)
    assert principal.subject == "idp|42"
    assert principal.sites == frozenset({"harbour", "lakeside"})

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "idp-key-1"})
    with pytest.raises(Problem) as rejected:
        decode_token(settings, forged)
    assert rejected.value.status == 401
    # An HS256 token is not accepted where RS256 is configured.
    with pytest.raises(Problem):
        decode_token(settings, mint_token(SETTINGS, "x", ["agent"], ["*"]))


@pytest.mark.parametrize("bad", ["har.bour", "*", ">", "two words", "", "tab\t", "x" * 65])
def test_subject_tokens_from_user_data_are_validated(bad: str) -> None:
    with pytest.raises(InvalidToken):
        check_token("site", bad)
    with pytest.raises(InvalidToken):
        event_subject("dispatch.workorder.created", 1, "harbour", bad)


def test_subjects_have_the_documented_shape() -> None:
    assert event_subject("intake.request.created", 1, "harbour") == "intake.request.created.v1.harbour"
    assert (
        event_subject("dispatch.workorder.created", 1, "harbour", "engineering")
        == "dispatch.workorder.created.v1.harbour.engineering"
    )


def _raw(claims: dict, settings: Settings = SETTINGS) -> str:
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def test_a_token_without_expiry_or_living_longer_than_the_maximum_is_refused() -> None:
    now = int(time.time())
    base = {"sub": "a", "roles": ["agent"], "sites": ["harbour"]}
    with pytest.raises(Problem, match="exp"):
        decode_token(SETTINGS, _raw({**base, "iat": now}))
    too_long = SETTINGS.jwt_max_lifetime_seconds + 60
    with pytest.raises(Problem, match="lifetime above the maximum"):
        decode_token(SETTINGS, _raw({**base, "iat": now, "exp": now + too_long}))
    # Without iat the lifetime counts from now; a backdated iat does not stretch it either.
    with pytest.raises(Problem, match="lifetime above the maximum"):
        decode_token(SETTINGS, _raw({**base, "exp": now + too_long}))
    with pytest.raises(Problem, match="lifetime above the maximum"):
        decode_token(SETTINGS, _raw({**base, "iat": now - 3600, "exp": now - 3600 + too_long}))
    assert decode_token(SETTINGS, _raw({**base, "iat": now, "exp": now + 3600})).subject == "a"

    short = SETTINGS.model_copy(update={"jwt_max_lifetime_seconds": 600})
    with pytest.raises(Problem, match="lifetime above the maximum"):
        decode_token(short, mint_token(SETTINGS, "a", ["agent"], ["harbour"], ttl_seconds=3600))
    assert decode_token(short, mint_token(short, "a", ["agent"], ["harbour"])).subject == "a"
    with pytest.raises(ValueError, match="at most 600"):
        mint_token(short, "a", ["agent"], ["harbour"], ttl_seconds=601)


def test_issuer_and_audience_are_checked_when_configured() -> None:
    strict = SETTINGS.model_copy(update={"jwt_issuer": "https://idp.pm.example", "jwt_audience": "pm-services"})
    good = mint_token(strict, "a", ["agent"], ["harbour"])
    assert jwt.decode(good, options={"verify_signature": False})["iss"] == "https://idp.pm.example"
    assert decode_token(strict, good).subject == "a"

    now = int(time.time())
    base = {"sub": "a", "roles": ["agent"], "sites": ["harbour"], "iat": now, "exp": now + 600}
    for claims, error in [
        ({**base, "aud": "pm-services"}, "iss"),
        ({**base, "aud": "pm-services", "iss": "https://evil.example"}, "(?i)issuer"),
        ({**base, "iss": "https://idp.pm.example"}, "aud"),
        ({**base, "iss": "https://idp.pm.example", "aud": "another-app"}, "(?i)audience"),
    ]:
        with pytest.raises(Problem, match=error) as rejected:
            decode_token(strict, _raw(claims))
        assert rejected.value.status == 401
    # Unconfigured, a token's issuer is not held against it.
    assert decode_token(SETTINGS, _raw({**base, "iss": "whoever"})).subject == "a"


def test_pm_token_issues_bounded_tokens(monkeypatch) -> None:
    from typer.testing import CliRunner

    from pm_platform.cli import app

    monkeypatch.setenv("PM_JWT_SECRET", SETTINGS.jwt_secret)
    monkeypatch.setenv("PM_JWT_MAX_LIFETIME_SECONDS", "7200")
    runner = CliRunner()
    result = runner.invoke(app, ["token", "--sub", "x", "--role", "agent", "--site", "harbour", "--hours", "3"])
    assert result.exit_code != 0
    assert "at most 2 hours" in result.output
    result = runner.invoke(app, ["token", "--sub", "x", "--role", "agent", "--site", "harbour"])
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.output.strip(), SETTINGS.jwt_secret, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 7200
    result = runner.invoke(app, ["token", "--sub", "x", "--role", "agent", "--site", "harbour", "--hours", "1.5"])
    claims = jwt.decode(result.output.strip(), SETTINGS.jwt_secret, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 5400


def test_pm_token_warns_when_it_signs_with_the_development_secret(monkeypatch) -> None:
    from typer.testing import CliRunner

    from pm_platform.cli import app

    monkeypatch.delenv("PM_JWT_SECRET", raising=False)
    monkeypatch.delenv("PM_DEV_MODE", raising=False)
    result = CliRunner().invoke(app, ["token", "--sub", "x", "--role", "agent", "--site", "harbour"])
    assert result.exit_code == 0
    assert "only services in PM_DEV_MODE accept it" in result.stderr
