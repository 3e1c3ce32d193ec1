"""What every page shares: the database session, the signed-in person, the language, CSRF and rendering."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from console.account import service as accounts
from console.account.models import StaffAccount, StaffSession
from console.account.rules import csrf_ok
from console.config import ConsoleSettings
from console.i18n import LANGUAGE_COOKIE, Translator, language_of, translator
from console.permissions import screens_for
from console.portal import service as owners
from console.portal.models import OwnerSession
from console.services import ServiceError, Services
from pm_platform.auth import Permission
from pm_platform.settings import Settings

SESSION_COOKIE = "console_session"
# An owner's session in the portal (owners sign in with a one-time code, not as staff).
OWNER_SESSION_COOKIE = "portal_session"
# Before sign-in there is no session: the sign-in and language forms use a double-submit cookie instead.
ANONYMOUS_CSRF_COOKIE = "console_csrf"

templates = Jinja2Templates(directory=str(resources.files("console") / "templates"))


@dataclass
class Page:
    """The request's context: language, the person (None before sign-in) and the CSRF token forms carry."""

    request: Request
    language: str
    t: Translator
    csrf_token: str
    session: StaffSession | None = None
    account: StaffAccount | None = None
    owner: OwnerSession | None = None  # an owner signed in to the portal (then session and account are None)

    @property
    def token(self) -> str:
        """The signed-in person's own token to the services (pages that need a person only)."""
        if self.owner is not None:
            return self.owner.service_token
        assert self.session is not None
        return self.session.service_token

    @property
    def roles(self) -> list[str]:
        if self.account is not None:
            return list(self.account.roles)
        return ["owner"] if self.owner is not None else []

    def may(self, permission: Permission) -> bool:
        """Whether the person's roles open a screen guarded by this permission."""
        return bool(set(self.roles) & {str(r) for r in permission.roles})

    def require(self, permission: Permission) -> None:
        """403 before calling a service when the person's roles do not open this screen."""
        if not self.may(permission):
            raise HTTPException(status_code=403, detail="forbidden")

    @property
    def screens(self) -> list[tuple[str, str]]:
        """(path, title key) of the screens this person sees: the navigation and the home page."""
        return screens_for(self.roles, self.account.department if self.account else None)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        console: ConsoleSettings = self.request.app.state.console
        zone = ZoneInfo(console.display_timezone)
        return templates.TemplateResponse(
            self.request,
            template,
            {"page": self, "t": self.t, "local_time": lambda moment: _local_time(moment, zone), **context},
            status_code=status_code,
        )

    def fragment(self, whole: str, part: str) -> str:
        """htmx asks for the part that changes (a filter's table); a plain request gets the whole page."""
        return part if self.request.headers.get("HX-Request") else whole


@dataclass(frozen=True)
class Listing:
    """One page of a service's list, or the refusal that left it empty (the page shows it by the list)."""

    items: list[dict[str, Any]]
    total: int
    error: ServiceError | None = None


async def fetch_list(page: Page, service: str, path: str, token: str | None = None, **filters: str) -> Listing:
    """``GET`` a list with the filters that are set (an empty one is left out), as the signed-in person."""
    params = {name: value for name, value in filters.items() if value}
    try:
        body = await services_of(page.request).get(service, path, token or page.token, params)
    except ServiceError as exc:
        return Listing([], 0, exc)
    return Listing(body.get("items", []), body.get("total", 0))


def _local_time(moment: str | datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return ""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def settings_of(request: Request) -> tuple[Settings, ConsoleSettings]:
    return request.app.state.settings, request.app.state.console


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def database(request: Request) -> AsyncIterator[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session, session.begin():
        yield session


Database = Annotated[AsyncSession, Depends(database)]


class SignInRequired(Exception):
    """Raised by pages that need a person; answered with a redirect to the sign-in page (staff's or owners')."""

    def __init__(self, path: str = "/signin") -> None:
        super().__init__(path)
        self.path = path


async def page_context(request: Request, session: Database) -> Page:
    language = language_of(request.cookies.get(LANGUAGE_COOKIE))
    found = await accounts.current(session, request.cookies.get(SESSION_COOKIE))
    if found is None:
        owner = await owners.current_owner(session, request.cookies.get(OWNER_SESSION_COOKIE))
        if owner is not None:
            return Page(request, language, translator(language), owner.csrf_token, owner=owner)
        csrf = request.cookies.get(ANONYMOUS_CSRF_COOKIE) or ""
        return Page(request, language, translator(language), csrf)
    staff_session, account = found
    return Page(request, language, translator(language), staff_session.csrf_token, staff_session, account)


AnyPage = Annotated[Page, Depends(page_context)]


async def signed_in_page(page: AnyPage) -> Page:
    """A person signed in: staff, or an owner (whom every staff screen's `page.require` then answers 403)."""
    if page.session is None and page.owner is None:
        raise SignInRequired
    return page


SignedInPage = Annotated[Page, Depends(signed_in_page)]


def check_csrf(page: Page, given: str | None) -> None:
    """Every state-changing form: the session's token, or before sign-in the double-submit cookie's."""
    if not csrf_ok(page.csrf_token, given):
        raise HTTPException(status_code=403, detail="csrf")


def redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


def safe_next(path: str | None) -> str:
    """Only a path on this console (no open redirect to another site)."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/"
