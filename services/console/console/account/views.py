"""Sign-in, sign-out, the language switch and the home page."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from console.account import service as accounts
from console.i18n import LANGUAGE_COOKIE, LANGUAGES
from console.permissions import screens_for
from console.web import (
    ANONYMOUS_CSRF_COOKIE,
    SESSION_COOKIE,
    AnyPage,
    Database,
    SignedInPage,
    check_csrf,
    redirect,
    safe_next,
    settings_of,
)

router = APIRouter()


def _secure(request: Request) -> bool:
    # Secure cookies outside development mode (`make run` serves plain http on 127.0.0.1).
    settings, _ = settings_of(request)
    return not settings.dev_mode


@router.get("/signin")
async def signin_form(page: AnyPage, signed_out: bool = False) -> Response:
    if page.session is not None:
        return redirect("/")
    if not page.csrf_token:
        page.csrf_token = secrets.token_urlsafe(32)
    response = page.render("signin.html", message=page.t("signin.signed_out") if signed_out else None)
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
    result = await accounts.sign_in(session, settings, console, username.strip(), password)
    if isinstance(result, accounts.SignInRefusal):
        message = page.t(f"signin.{result.value}", minutes=console.lockout_minutes)
        return page.render("signin.html", status_code=401, message=message, error=True, username=username)
    response = redirect("/")
    response.set_cookie(
        SESSION_COOKIE,
        result.cookie_value,
        max_age=accounts.session_seconds(settings, console),
        httponly=True,
        samesite="lax",  # lax: a link from elsewhere still opens the console signed in; POSTs need the token
        secure=_secure(page.request),
    )
    response.delete_cookie(ANONYMOUS_CSRF_COOKIE)
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
    return page.render("home.html", screens=screens_for(page.account.roles), role_names=role_names)
