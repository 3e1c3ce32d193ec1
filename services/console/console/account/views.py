"""Sign-in, sign-out, the language switch and the home page."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from console.account import oidc
from console.account import service as accounts
from console.i18n import LANGUAGE_COOKIE, LANGUAGES
from console.web import (
    ANONYMOUS_CSRF_COOKIE,
    SESSION_COOKIE,
    AnyPage,
    Database,
    Page,
    SignedInPage,
    check_csrf,
    redirect,
    safe_next,
    services_of,
    settings_of,
)

OIDC_COOKIE = "console_oidc"

router = APIRouter()


def _secure(request: Request) -> bool:
    # Secure cookies outside development mode (`make run` serves plain http on 127.0.0.1).
    settings, _ = settings_of(request)
    return not settings.dev_mode


def _passwords_work(request: Request) -> bool:
    """With the services on a provider's JWKS, a token the console mints would be refused: passwords are off."""
    settings, _ = settings_of(request)
    return not settings.jwt_jwks_url


def _signin_page(page: Page, status_code: int = 200, **context: object) -> Response:
    _, console = settings_of(page.request)
    return page.render(
        "signin.html",
        status_code=status_code,
        oidc=bool(console.oidc_issuer),
        passwords=_passwords_work(page.request),
        **context,
    )


@router.get("/signin")
async def signin_form(page: AnyPage, signed_out: bool = False) -> Response:
    if page.session is not None:
        return redirect("/")
    if not page.csrf_token:
        page.csrf_token = secrets.token_urlsafe(32)
    response = _signin_page(page, message=page.t("signin.signed_out") if signed_out else None)
    response.set_cookie(
        ANONYMOUS_CSRF_COOKIE, page.csrf_token, httponly=True, samesite="strict", secure=_secure(page.request)
    )
    return response


@router.post("/signin")
async def signin(
    page: AnyPage,
    session: Database,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    settings, console = settings_of(page.request)
    if not _passwords_work(page.request):
        return _signin_page(page, status_code=401, message=page.t("signin.federated"), error=True)
    result = await accounts.sign_in(session, settings, console, username.strip(), password)
    if isinstance(result, accounts.SignInRefusal):
        message = page.t(f"signin.{result.value}", minutes=console.lockout_minutes)
        return _signin_page(page, status_code=401, message=message, error=True, username=username)
    return _signed_in(page.request, result, accounts.session_seconds(settings, console))


def _signed_in(request: Request, signed_in: accounts.SignedIn, seconds: int) -> Response:
    response = redirect("/")
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.cookie_value,
        max_age=seconds,
        httponly=True,
        samesite="lax",  # lax: a link from elsewhere still opens the console signed in; POSTs need the token
        secure=_secure(request),
    )
    response.delete_cookie(ANONYMOUS_CSRF_COOKIE)
    return response


@router.get("/signin/oidc")
async def signin_with_provider(page: AnyPage) -> Response:
    """Off to the OpenID Connect provider, remembering this attempt's state, nonce and PKCE verifier."""
    _, console = settings_of(page.request)
    if not console.oidc_issuer:
        raise HTTPException(status_code=404, detail="Not Found")
    try:
        provider = await oidc.discover(services_of(page.request).client, console.oidc_issuer)
    except oidc.OidcError as exc:
        return _signin_page(page, status_code=502, message=page.t("signin.oidc_failed", reason=str(exc)), error=True)
    attempt = oidc.Attempt.new()
    response = RedirectResponse(oidc.authorization_url(provider, console, attempt), status_code=303)
    # Lax, so the cookie comes back on the provider's top-level redirect to the callback; 10 minutes to sign in.
    response.set_cookie(
        OIDC_COOKIE, attempt.cookie(), max_age=600, httponly=True, samesite="lax", secure=_secure(page.request)
    )
    return response


@router.get("/signin/oidc/callback")
async def provider_callback(
    page: AnyPage,
    session: Database,
    code: Annotated[str, Query(max_length=4096)] = "",
    state: Annotated[str, Query(max_length=512)] = "",
    error: Annotated[str, Query(max_length=512)] = "",
) -> Response:
    settings, console = settings_of(page.request)
    if not console.oidc_issuer:
        raise HTTPException(status_code=404, detail="Not Found")
    attempt = oidc.Attempt.from_cookie(page.request.cookies.get(OIDC_COOKIE))
    try:
        if error:
            raise oidc.OidcError(error)
        if attempt is None or not code or not secrets.compare_digest(attempt.state, state):
            raise oidc.OidcError("this sign-in was not started here, or it took too long")
        client = services_of(page.request).client
        provider = await oidc.discover(client, console.oidc_issuer)
        id_token, access_token = await oidc.exchange(client, provider, console, code, attempt)
        identity = await oidc.verify_id_token(provider, console, id_token, attempt.nonce)
        result = await accounts.sign_in_federated(session, settings, console, identity, access_token)
    except oidc.OidcError as exc:
        return _signin_page(page, status_code=401, message=page.t("signin.oidc_failed", reason=str(exc)), error=True)
    if isinstance(result, accounts.SignInRefusal):
        return _signin_page(page, status_code=401, message=page.t(f"signin.{result.value}", minutes=0), error=True)
    signed_in, seconds = result
    response = _signed_in(page.request, signed_in, seconds)
    response.delete_cookie(OIDC_COOKIE)
    return response


@router.post("/signout")
async def signout(
    page: SignedInPage, session: Database, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    check_csrf(page, csrf_token)
    await accounts.sign_out(session, page.request.cookies.get(SESSION_COOKIE, ""))
    response = redirect("/signin?signed_out=true")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/language")
async def switch_language(
    page: AnyPage,
    language: Annotated[str, Form(max_length=8)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "/",
) -> Response:
    check_csrf(page, csrf_token)
    response = redirect(safe_next(next_path))
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="lax", secure=_secure(page.request)
        )
    return response


@router.get("/")
async def home(page: SignedInPage) -> Response:
    if page.owner is not None:
        return redirect("/portal")  # an owner's home is the portal
    assert page.account is not None
    separator = "、" if page.language == "zh" else ", "
    role_names = separator.join(page.t.value("role", role) for role in page.account.roles)
    return page.render("home.html", screens=page.screens, role_names=role_names)
