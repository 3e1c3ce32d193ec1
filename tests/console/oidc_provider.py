"""A small OpenID Connect provider for the tests, served for real over HTTP (uvicorn in a thread): discovery,
an authorization endpoint that signs in one configured person at once (a real provider shows its login page
there), the token endpoint (client secret and PKCE checked) and the JWKS. Its RS256 access tokens carry the
claims the services read (roles, sites, department), so intake verifies them through PM_JWT_JWKS_URL."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Header, HTTPException
from fastapi.responses import JSONResponse, RedirectResponse

CLIENT_ID = "console"
CLIENT_SECRET = "console-test-secret"
AUDIENCE = "pm-services"


@dataclass
class Person:
    subject: str
    name: str
    roles: list[str]
    sites: list[str]
    department: str | None = None


@dataclass
class LocalProvider:
    port: int
    person: Person
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    server: uvicorn.Server | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "test-key"})

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, str]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
            }

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return {"keys": [{**public, "kid": "test-key", "use": "sig", "alg": "RS256"}]}

        @app.get("/authorize")
        def authorize(
            client_id: str, redirect_uri: str, state: str, nonce: str, code_challenge: str, code_challenge_method: str
        ) -> RedirectResponse:
            if client_id != CLIENT_ID or code_challenge_method != "S256":
                raise HTTPException(400, "unknown client or no PKCE")
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": nonce, "challenge": code_challenge, "redirect_uri": redirect_uri}
            return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302)

        @app.post("/token")
        def token(
            grant_type: Annotated[str, Form()],
            code: Annotated[str, Form()],
            redirect_uri: Annotated[str, Form()],
            code_verifier: Annotated[str, Form()],
            authorization: Annotated[str, Header()] = "",
        ) -> JSONResponse:
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            issued = self.codes.pop(code, None)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=")
            if (
                authorization != expected
                or grant_type != "authorization_code"
                or issued is None
                or issued["redirect_uri"] != redirect_uri
                or challenge.decode() != issued["challenge"]
            ):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            person = self.person
            base = {"iss": self.issuer, "sub": person.subject, "iat": now, "exp": now + 3600}
            id_token = self.sign({**base, "aud": CLIENT_ID, "nonce": issued["nonce"], "name": person.name})
            access = {**base, "aud": AUDIENCE, "roles": person.roles, "sites": person.sites}
            if person.department:
                access["department"] = person.department
            return JSONResponse({"id_token": id_token, "access_token": self.sign(access), "token_type": "Bearer"})

        return app

    def start(self) -> LocalProvider:
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        threading.Thread(target=self.server.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the test OpenID Connect provider did not start"
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
