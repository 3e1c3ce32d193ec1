"""Staff sign-in through an OpenID Connect provider: the authorization code flow with PKCE, for a confidential
client. The provider's access token is what the services check (they verify it with the provider's JWKS), so
the console never mints a token in this mode.

Hand-written on httpx and PyJWT (both already in the lock) rather than another library: the flow is three
calls (discovery, the code exchange, the JWKS), and PyJWT already verifies the services' tokens; a framework's
session middleware would duplicate the console's own sessions.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from console.config import ConsoleSettings


class OidcError(Exception):
    """The provider refused, or answered something the console cannot trust; the sign-in fails."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class Attempt:
    """What the console remembers between sending the person to the provider and their return (a cookie)."""

    state: str
    nonce: str
    verifier: str

    @classmethod
    def new(cls) -> Attempt:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48))

    def cookie(self) -> str:
        return f"{self.state}.{self.nonce}.{self.verifier}"

    @classmethod
    def from_cookie(cls, value: str | None) -> Attempt | None:
        parts = (value or "").split(".")
        return cls(*parts) if len(parts) == 3 and all(parts) else None

    @property
    def challenge(self) -> str:
        """PKCE S256: the provider gives the code only to whoever holds the verifier."""
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def discover(client: httpx.AsyncClient, issuer: str) -> Provider:
    try:
        response = await client.get(issuer.rstrip("/") + "/.well-known/openid-configuration")
        response.raise_for_status()
        found = response.json()
        provider = Provider(
            found["issuer"], found["authorization_endpoint"], found["token_endpoint"], found["jwks_uri"]
        )
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise OidcError(f"the identity provider's discovery failed: {exc}") from exc
    if provider.issuer.rstrip("/") != issuer.rstrip("/"):
        raise OidcError("the identity provider names another issuer than the one configured")
    return provider


def authorization_url(provider: Provider, settings: ConsoleSettings, attempt: Attempt) -> str:
    query = {
        "response_type": "code",
        "client_id": settings.oidc_client_id,
        "redirect_uri": settings.oidc_redirect_url,
        "scope": settings.oidc_scopes,
        "state": attempt.state,
        "nonce": attempt.nonce,
        "code_challenge": attempt.challenge,
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in provider.authorization_endpoint else "?"
    return provider.authorization_endpoint + separator + urlencode(query)


async def exchange(
    client: httpx.AsyncClient, provider: Provider, settings: ConsoleSettings, code: str, attempt: Attempt
) -> tuple[str, str]:
    """The code for (ID token, access token)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": settings.oidc_redirect_url,
        "code_verifier": attempt.verifier,
    }
    try:
        response = await client.post(
            provider.token_endpoint, data=form, auth=(settings.oidc_client_id, settings.oidc_client_secret)
        )
        body: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcError(f"the identity provider's token endpoint failed: {exc}") from exc
    if response.status_code != 200 or not body.get("id_token") or not body.get("access_token"):
        raise OidcError(f"the identity provider refused the code: {body.get('error', response.status_code)}")
    return str(body["id_token"]), str(body["access_token"])


async def verify_id_token(provider: Provider, settings: ConsoleSettings, id_token: str, nonce: str) -> dict[str, Any]:
    """The ID token's claims, after its signature (the provider's JWKS), issuer, audience and nonce."""

    def verify() -> dict[str, Any]:
        key = jwt.PyJWKClient(provider.jwks_uri).get_signing_key_from_jwt(id_token).key
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key,
            algorithms=["RS256", "ES256"],
            audience=settings.oidc_client_id,
            issuer=provider.issuer,
            options={"require": ["sub", "exp", "iat", "aud", "iss"]},
        )
        return claims

    try:
        claims = await asyncio.to_thread(verify)  # PyJWKClient fetches with urllib, which blocks
    except jwt.PyJWTError as exc:
        raise OidcError(f"the ID token is not valid: {exc}") from exc
    if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
        raise OidcError("the ID token's nonce is not this sign-in's")
    return claims
