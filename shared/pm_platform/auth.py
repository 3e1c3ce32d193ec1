"""Bearer JWT auth: who the caller is, their roles, the sites they may act on and their department.

HS256 with ``PM_JWT_SECRET`` in the embedded default; RS256 against an identity provider's JWKS URL
(``PM_JWT_JWKS_URL``) in production. ``require(permission)`` is the one dependency that enforces role
and site scope.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import ColumnElement, SQLColumnExpression, true

from pm_platform.problems import Problem
from pm_platform.settings import Settings

ALL_SITES = "*"


class Role(StrEnum):
    """The roles a token may carry (its ``roles`` claim)."""

    agent = "agent"  # front-desk / hotline agent
    supervisor = "supervisor"  # customer-service supervisor
    manager = "manager"  # service-center manager
    head_office = "head_office"
    worker = "worker"  # department worker
    billing_clerk = "billing_clerk"
    owner = "owner"
    operator = "operator"
    security = "security"  # gate and patrol: checks passes, visitors and release passes; sees no contacts or arrears


ROLES = tuple(Role)


@dataclass(frozen=True)
class Permission:
    """Who may do what: a named permission and the roles that hold it, in the order a refusal names them.
    Each service names its permissions once, in its ``permissions.py``."""

    name: str
    roles: tuple[Role, ...]

    def __init__(self, name: str, *roles: Role) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "roles", roles)


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    sites: frozenset[str]
    department: str | None = None
    party_id: str | None = None

    @property
    def all_sites(self) -> bool:
        return ALL_SITES in self.sites

    def can_act_on(self, site: str) -> bool:
        return self.all_sites or site in self.sites

    def check_site(self, site: str) -> None:
        if not self.can_act_on(site):
            raise Problem(403, f"not allowed to act on site {site}", field="site")

    def site_filter(self, column: SQLColumnExpression[str], site: str | None = None) -> ColumnElement[bool]:
        """The WHERE clause that keeps a listing within the caller's sites (to one, when it asks for one)."""
        if site:
            self.check_site(site)
            return column == site
        return true() if self.all_sites else column.in_(sorted(self.sites))

    def check_department(self, department: str) -> None:
        """Department workers only see and act on their own department's work."""
        if "worker" in self.roles and not (self.roles - {"worker"}) and self.department != department:
            raise Problem(403, f"not allowed to act for department {department}", field="department")

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles & set(roles))


def mint_token(
    settings: Settings,
    subject: str,
    roles: list[str],
    sites: list[str],
    department: str | None = None,
    party_id: str | None = None,
    ttl_seconds: int | None = None,
) -> str:
    """Development tokens (HS256 with the configured secret), never longer-lived than the services accept."""
    if ttl_seconds is None:
        ttl_seconds = min(12 * 3600, settings.jwt_max_lifetime_seconds)
    if ttl_seconds > settings.jwt_max_lifetime_seconds:
        raise ValueError(
            f"a token may live at most {settings.jwt_max_lifetime_seconds} s (PM_JWT_MAX_LIFETIME_SECONDS)"
        )
    now = int(time.time())
    claims: dict[str, Any] = {"sub": subject, "roles": roles, "sites": sites, "iat": now, "exp": now + ttl_seconds}
    if department:
        claims["department"] = department
    if party_id:
        claims["party_id"] = party_id
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True)


def decode_token(settings: Settings, token: str) -> Principal:
    required = ["sub", "exp", *(["aud"] if settings.jwt_audience else []), *(["iss"] if settings.jwt_issuer else [])]
    options: jwt.types.Options = {"require": required}
    audience = settings.jwt_audience or None
    issuer = settings.jwt_issuer or None
    try:
        if settings.jwt_jwks_url:
            key = _jwks_client(settings.jwt_jwks_url).get_signing_key_from_jwt(token).key
            claims = jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=issuer, options=options)
        else:
            claims = jwt.decode(
                token,
                settings.jwt_secret,
                algorithms=[settings.jwt_algorithm],
                audience=audience,
                issuer=issuer,
                options=options,
            )
    except jwt.PyJWTError as exc:
        raise Problem(401, f"invalid bearer token: {exc}", headers={"WWW-Authenticate": "Bearer"}) from None
    _check_lifetime(settings, claims)
    roles = claims.get("roles", [])
    sites = claims.get("sites", [])
    if not isinstance(roles, list) or not isinstance(sites, list):
        raise Problem(
            401, "invalid bearer token: roles and sites must be lists", headers={"WWW-Authenticate": "Bearer"}
        )
    return Principal(
        subject=str(claims["sub"]),
        roles=frozenset(map(str, roles)),
        sites=frozenset(map(str, sites)),
        department=claims.get("department"),
        party_id=claims.get("party_id"),
    )


def _check_lifetime(settings: Settings, claims: dict[str, Any]) -> None:
    """A stolen token must not stay useful for long: ``exp`` at most the maximum after ``iat`` (or after now,
    for a token without ``iat``)."""
    now = time.time()
    issued = claims.get("iat")
    start = issued if isinstance(issued, int | float) and issued <= now else now
    if float(claims["exp"]) - start > settings.jwt_max_lifetime_seconds:
        raise Problem(
            401,
            f"invalid bearer token: lifetime above the maximum of {settings.jwt_max_lifetime_seconds} s",
            headers={"WWW-Authenticate": "Bearer"},
        )


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    settings: Settings = request.app.state.runtime.settings
    return decode_token(settings, credentials.credentials)


def require(*grants: Permission | str) -> Callable[..., Principal]:
    """Dependency: the caller holds the permission (one of its roles), or one of the roles given; with a
    ``site`` path or query parameter, the caller may act on that site."""
    roles: tuple[str, ...] = tuple(
        dict.fromkeys(role for grant in grants for role in (grant.roles if isinstance(grant, Permission) else (grant,)))
    )

    def dependency(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if roles and not principal.has_any(roles):
            raise Problem(403, f"requires one of the roles: {', '.join(roles)}")
        site = request.path_params.get("site") or request.query_params.get("site")
        if site:
            principal.check_site(site)
        return principal

    return dependency
