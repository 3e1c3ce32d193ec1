"""Head office manages the staff accounts: create, change roles and sites, reset a password, unlock, disable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path
from fastapi.responses import Response
from pydantic import ValidationError

from console.account import service as accounts
from console.account.models import STAFF_ROLES, PasswordReset, StaffAccountCreate, StaffAccountUpdate
from console.permissions import MANAGE_ACCOUNTS
from console.web import Database, Page, SignedInPage, check_csrf, redirect
from pm_platform.errors import DomainError

router = APIRouter(prefix="/staff-accounts")

Username = Annotated[str, Path(max_length=64)]


def field_errors(page: Page, error: ValidationError) -> dict[str, str]:
    """Each refused input's rule, in the person's language (pydantic's own words are English only)."""
    errors: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        errors.setdefault(field, page.t(f"staff.invalid.{field}"))
    return errors


FULLWIDTH_COMMA = "\uff0c"  # typed by Chinese input methods


def _sites(text: str) -> list[str]:
    return [site for site in text.replace(FULLWIDTH_COMMA, ",").replace(" ", ",").split(",") if site]


@router.get("")
async def account_list(page: SignedInPage, session: Database) -> Response:
    page.require(MANAGE_ACCOUNTS)
    return page.render("staff/list.html", accounts=await accounts.list_accounts(session))


def _form(
    page: Page, template: str, form: dict[str, object], errors: dict[str, str], status_code: int = 200
) -> Response:
    return page.render(template, status_code=status_code, form=form, errors=errors, roles=STAFF_ROLES)


@router.get("/new")
async def new_account(page: SignedInPage) -> Response:
    page.require(MANAGE_ACCOUNTS)
    return _form(page, "staff/new.html", {"roles": [], "sites": ""}, {})


@router.post("/new")
async def create_account(
    page: SignedInPage,
    session: Database,
    username: Annotated[str, Form(max_length=64)],
    display_name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=256)],
    sites: Annotated[str, Form(max_length=2000)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    department: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(MANAGE_ACCOUNTS)
    form: dict[str, object] = {
        "username": username.strip(),
        "display_name": display_name,
        "roles": roles or [],
        "sites": sites,
        "department": department.strip(),
    }
    try:
        body = StaffAccountCreate.model_validate(
            {**form, "sites": _sites(sites), "department": department.strip() or None, "password": password}
        )
        await accounts.create_account(session, body)
    except ValidationError as exc:
        return _form(page, "staff/new.html", form, field_errors(page, exc), status_code=422)
    except DomainError as exc:
        return _form(page, "staff/new.html", form, {exc.field or "form": exc.detail}, status_code=exc.status)
    return redirect(f"/staff-accounts/{body.username}?saved=created")


async def _account_page(
    page: Page, session: Database, username: str, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    account = await accounts.get_account(session, username)
    saved = page.request.query_params.get("saved")
    return page.render(
        "staff/edit.html",
        status_code=status_code,
        account=account,
        errors=errors or {},
        roles=STAFF_ROLES,
        saved=page.t(f"staff.saved.{saved}") if saved in SAVED else None,
        locked=accounts.is_locked(account.locked_until),
    )


SAVED = ("created", "details", "password", "unlocked", "disabled", "enabled")


@router.get("/{username}")
async def account_page(page: SignedInPage, session: Database, username: Username) -> Response:
    page.require(MANAGE_ACCOUNTS)
    try:
        return await _account_page(page, session, username)
    except DomainError as exc:
        return page.render("error.html", status_code=exc.status, message=exc.detail)


@router.post("/{username}/details")
async def change_details(
    page: SignedInPage,
    session: Database,
    username: Username,
    display_name: Annotated[str, Form(max_length=200)],
    sites: Annotated[str, Form(max_length=2000)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    department: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(MANAGE_ACCOUNTS)
    assert page.account is not None
    try:
        body = StaffAccountUpdate.model_validate(
            {
                "display_name": display_name,
                "roles": roles or [],
                "sites": _sites(sites),
                "department": department.strip() or None,
            }
        )
        await accounts.update_account(session, username, body, acting=page.account.username)
    except ValidationError as exc:
        return await _account_page(page, session, username, field_errors(page, exc), status_code=422)
    except DomainError as exc:
        return await _account_page(page, session, username, {exc.field or "form": exc.detail}, exc.status)
    return redirect(f"/staff-accounts/{username}?saved=details")


@router.post("/{username}/password")
async def reset_password(
    page: SignedInPage,
    session: Database,
    username: Username,
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(MANAGE_ACCOUNTS)
    try:
        await accounts.reset_password(session, username, PasswordReset(password=password))
    except ValidationError as exc:
        return await _account_page(page, session, username, field_errors(page, exc), status_code=422)
    except DomainError as exc:
        return await _account_page(page, session, username, {exc.field or "form": exc.detail}, exc.status)
    return redirect(f"/staff-accounts/{username}?saved=password")


@router.post("/{username}/unlock")
async def unlock(
    page: SignedInPage, session: Database, username: Username, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    check_csrf(page, csrf_token)
    page.require(MANAGE_ACCOUNTS)
    try:
        await accounts.unlock(session, username)
    except DomainError as exc:
        return page.render("error.html", status_code=exc.status, message=exc.detail)
    return redirect(f"/staff-accounts/{username}?saved=unlocked")


@router.post("/{username}/disabled")
async def set_disabled(
    page: SignedInPage,
    session: Database,
    username: Username,
    disabled: Annotated[bool, Form()],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(MANAGE_ACCOUNTS)
    assert page.account is not None
    try:
        await accounts.set_disabled(session, username, disabled, acting=page.account.username)
    except DomainError as exc:
        return await _account_page(page, session, username, {exc.field or "form": exc.detail}, exc.status)
    return redirect(f"/staff-accounts/{username}?saved={'disabled' if disabled else 'enabled'}")
