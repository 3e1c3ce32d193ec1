"""The owners' portal: sign-in with a one-time code, then (phone-first) raise a request with a photo, follow one's
requests, answer follow-ups and surveys, see one's account and receipts, and set one's channels and quiet hours.
Every call after sign-in goes to the services with the owner's own token (role owner, the site and the party)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, UploadFile
from fastapi.responses import Response

from console.account.service import session_seconds
from console.permissions import USE_PORTAL
from console.portal import service as owners
from console.portal.rules import normalize_phone, plausible_phone
from console.services import ServiceError
from console.web import (
    ANONYMOUS_CSRF_COOKIE,
    OWNER_SESSION_COOKIE,
    AnyPage,
    Database,
    Page,
    SignInRequired,
    check_csrf,
    fetch_list,
    redirect,
    services_of,
    settings_of,
)

router = APIRouter(prefix="/portal")

KINDS = ("repair", "complaint", "inquiry", "suggestion", "praise", "emergency")
# Intake's names of the fields it may refuse, mapped to the form's inputs.
REQUEST_FIELDS = {
    "kind": "kind",
    "category": "category",
    "description": "description",
    "location": "location",
    "photos": "photo",
}
# More than intake takes (5 MB): a larger file is cut here and intake still refuses it as too large.
PHOTO_READ_LIMIT = 8 * 1024 * 1024
CHANNELS = ("sms", "email", "push", "messaging")
SURVEY_LANGUAGES = ("zh-CN", "en")
SCORES = ("overall", "speed", "attitude")


def _secure(page: Page) -> bool:
    settings, _ = settings_of(page.request)
    return not settings.dev_mode


async def owner_page(page: AnyPage) -> Page:
    """An owner signed in to the portal; staff are refused (403), nobody signed in goes to the portal's sign-in."""
    if page.owner is None and page.session is None:
        raise SignInRequired("/portal/signin")
    page.require(USE_PORTAL)
    return page


OwnerPage = Annotated[Page, Depends(owner_page)]


# --- sign-in -----------------------------------------------------------------------------------------------


def _signin_form(page: Page, template: str, status_code: int = 200, **context: Any) -> Response:
    """A sign-in step; before sign-in its forms carry the double-submit cookie's token."""
    if not page.csrf_token:
        page.csrf_token = secrets.token_urlsafe(32)
    response = page.render(template, status_code=status_code, **context)
    response.set_cookie(ANONYMOUS_CSRF_COOKIE, page.csrf_token, httponly=True, samesite="strict", secure=_secure(page))
    return response


@router.get("/signin")
async def signin_form(page: AnyPage, signed_out: bool = False) -> Response:
    if page.owner is not None:
        return redirect("/portal")
    return _signin_form(page, "portal/signin.html", message=page.t("portal.signed_out") if signed_out else None)


@router.post("/signin/code")
async def ask_for_code(
    page: AnyPage,
    session: Database,
    phone: Annotated[str, Form(max_length=32)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    number = normalize_phone(phone)
    if not plausible_phone(number):
        return _signin_form(page, "portal/signin.html", 422, phone=phone, error=page.t("portal.phone_invalid"))
    settings, _ = settings_of(page.request)
    try:
        wait = await owners.request_code(session, services_of(page.request), settings, number, page.language)
    except ServiceError as exc:
        return _signin_form(page, "portal/signin.html", exc.status or 502, phone=phone, service_error=exc)
    if wait:
        message, status_code = page.t("portal.code_wait", seconds=wait), 429
    else:
        message, status_code = page.t("portal.code_sent", minutes=owners.POLICY.valid_minutes), 200
    return _signin_form(page, "portal/code.html", status_code, phone=number, message=message, error=bool(wait))


@router.post("/signin")
async def signin(
    page: AnyPage,
    session: Database,
    phone: Annotated[str, Form(max_length=32)],
    code: Annotated[str, Form(max_length=16)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    settings, console = settings_of(page.request)
    result = await owners.verify_code(session, settings, console, phone, code)
    if isinstance(result, owners.CodeRefused):
        message = page.t(f"portal.code_{result.verdict.value}", left=result.attempts_left)
        return _signin_form(page, "portal/code.html", 401, phone=normalize_phone(phone), message=message, error=True)
    response = redirect("/portal")
    response.set_cookie(
        OWNER_SESSION_COOKIE,
        result.cookie_value,
        max_age=session_seconds(settings, console),
        httponly=True,
        samesite="lax",
        secure=_secure(page),
    )
    response.delete_cookie(ANONYMOUS_CSRF_COOKIE)
    return response


@router.post("/signout")
async def signout(
    page: OwnerPage, session: Database, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    check_csrf(page, csrf_token)
    await owners.sign_out(session, page.request.cookies.get(OWNER_SESSION_COOKIE, ""))
    response = redirect("/portal/signin?signed_out=true")
    response.delete_cookie(OWNER_SESSION_COOKIE)
    return response


# --- my requests -------------------------------------------------------------------------------------------


@router.get("")
async def home(page: OwnerPage) -> Response:
    """My requests, newest first."""
    items: list[dict[str, Any]] = []
    error: ServiceError | None = None
    try:
        found = await services_of(page.request).get("intake", "/requests", page.token, {"limit": "50"})
        items = found.get("items", [])
    except ServiceError as exc:
        error = exc
    return page.render("portal/home.html", items=items, error=error)


async def _request_form(
    page: Page, form: dict[str, str], errors: dict[str, str], error: ServiceError | None = None, status_code: int = 200
) -> Response:
    assert page.owner is not None
    categories: list[dict[str, Any]] = []
    try:
        found = await services_of(page.request).get("intake", f"/sites/{page.owner.site}/categories", page.token)
        categories = [c for c in found if c.get("active")]
    except ServiceError as exc:
        error = error or exc
    return page.render(
        "portal/request_new.html",
        status_code=(error.status or 502) if error else status_code,
        form=form,
        errors=errors,
        error=error,
        kinds=KINDS,
        categories=categories,
    )


@router.get("/requests/new")
async def new_request(page: OwnerPage) -> Response:
    return await _request_form(page, {"kind": "repair", "in_unit": "on"}, {})


@router.post("/requests/new")
async def raise_request(
    page: OwnerPage,
    kind: Annotated[str, Form(max_length=32)],
    category: Annotated[str, Form(max_length=64)],
    description: Annotated[str, Form(max_length=4000)],
    photo: Annotated[UploadFile | None, File()] = None,
    in_unit: Annotated[str, Form(max_length=8)] = "",
    location: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    owner = page.owner
    assert owner is not None
    form = {"kind": kind, "category": category, "description": description, "in_unit": in_unit, "location": location}
    services = services_of(page.request)
    photos: list[str] = []
    if photo is not None and photo.filename:
        # Intake checks the photo's type and size (by its content) and words any refusal.
        content = await photo.read(PHOTO_READ_LIMIT)
        try:
            stored = await services.post_file(
                "intake",
                "/photos",
                page.token,
                data={"site": owner.site},
                files={"file": (photo.filename, content, photo.content_type or "application/octet-stream")},
            )
        except ServiceError as exc:
            if exc.status and exc.status < 500:
                return await _request_form(page, form, {"photo": exc.detail}, status_code=exc.status)
            return await _request_form(page, form, {}, exc)
        photos.append(stored["ref"])
    body: dict[str, Any] = {
        "site": owner.site,
        "kind": kind,
        "channel": "app",
        "category": category,
        "description": description.strip(),
        # Intake records the owner's own archive entry as the reporter; the name here is only the schema's.
        "reporter": {"name": owner.name},
        "photos": photos,
    }
    if in_unit and owner.unit_id:
        body["unit_id"], body["in_unit"] = owner.unit_id, True
    else:
        body["location"] = location.strip() or None
        if owner.unit_id and not body["location"]:
            body["unit_id"] = owner.unit_id
    try:
        created = await services.post("intake", "/requests", page.token, body)
    except ServiceError as exc:
        input_name = REQUEST_FIELDS.get(exc.field or "")
        if exc.status and exc.status < 500 and input_name:
            return await _request_form(page, form, {input_name: exc.detail}, status_code=exc.status)
        return await _request_form(page, form, {}, exc)
    return redirect(f"/portal/requests/{created['id']}")


@router.get("/requests/{request_id}")
async def request_page(page: OwnerPage, request_id: Annotated[str, Path(max_length=64)]) -> Response:
    """One of my requests: its status, timeline and replies, and the follow-up to answer once it is done."""
    services = services_of(page.request)
    try:
        item = await services.get("intake", f"/requests/{request_id}", page.token)
    except ServiceError as exc:
        return page.render("portal/request.html", status_code=exc.status or 502, item=None, error=exc)
    follow_ups: list[dict[str, Any]] = []
    try:
        found = await services.get("survey", "/follow-ups", page.token, {"request_id": request_id})
        follow_ups = found.get("items", [])
    except ServiceError:
        follow_ups = []  # the request's page still shows; the follow-up appears when survey answers again
    return page.render("portal/request.html", item=item, error=None, follow_ups=follow_ups, scores=SCORES)


@router.get("/photos/{site}/{name}")
async def photo(
    page: OwnerPage, site: Annotated[str, Path(max_length=64)], name: Annotated[str, Path(max_length=64)]
) -> Response:
    """A photo of my request, fetched from intake with my token."""
    try:
        content, content_type = await services_of(page.request).get_bytes(
            "intake", f"/photos/{site}/{name}", page.token
        )
    except ServiceError as exc:
        raise HTTPException(status_code=exc.status or 502, detail=exc.detail) from None
    return Response(content, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})


@router.post("/follow-ups/{followup_id}")
async def answer_follow_up(
    page: OwnerPage,
    followup_id: Annotated[str, Path(max_length=64)],
    request_id: Annotated[str, Form(max_length=64)],
    solved: Annotated[str, Form(max_length=8)],
    overall: Annotated[int, Form(ge=1, le=5)],
    speed: Annotated[int, Form(ge=1, le=5)],
    attitude: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    body = {
        "solved": solved == "yes",
        "scores": {"overall": overall, "speed": speed, "attitude": attitude},
        "comment": comment.strip() or None,
    }
    try:
        await services_of(page.request).post("survey", f"/follow-ups/{followup_id}/answer", page.token, body)
    except ServiceError as exc:
        return page.render(
            "portal/message.html", status_code=exc.status or 502, error=exc, back=f"/portal/requests/{request_id}"
        )
    return redirect(f"/portal/requests/{request_id}?answered=true")


# --- surveys -----------------------------------------------------------------------------------------------


@router.get("/surveys")
async def surveys(page: OwnerPage) -> Response:
    items: list[dict[str, Any]] = []
    error: ServiceError | None = None
    try:
        items = (await services_of(page.request).get("survey", "/invitations", page.token)).get("items", [])
    except ServiceError as exc:
        error = exc
    return page.render("portal/surveys.html", items=items, error=error)


@router.get("/surveys/{invitation_id}")
async def survey(page: OwnerPage, invitation_id: Annotated[str, Path(max_length=64)]) -> Response:
    try:
        item = await services_of(page.request).get("survey", f"/invitations/{invitation_id}", page.token)
    except ServiceError as exc:
        return page.render("portal/survey.html", status_code=exc.status or 502, item=None, error=exc)
    return page.render("portal/survey.html", item=item, error=None)


@router.post("/surveys/{invitation_id}")
async def answer_survey(page: OwnerPage, invitation_id: Annotated[str, Path(max_length=64)]) -> Response:
    form = await page.request.form()
    check_csrf(page, str(form.get("csrf_token") or ""))
    services = services_of(page.request)
    try:
        item = await services.get("survey", f"/invitations/{invitation_id}", page.token)
    except ServiceError as exc:
        return page.render("portal/survey.html", status_code=exc.status or 502, item=None, error=exc)
    answers: list[dict[str, Any]] = []
    for question in item["questions"]:
        raw = str(form.get(f"q-{question['id']}") or "").strip()[:2000]
        if not raw:
            continue  # survey says which required question is missing
        value: int | str = int(raw) if question["kind"] == "scale" and raw.isdigit() else raw
        answers.append({"question_id": question["id"], "value": value})
    try:
        await services.post("survey", f"/invitations/{invitation_id}/answer", page.token, {"answers": answers})
    except ServiceError as exc:
        return page.render("portal/survey.html", status_code=exc.status or 502, item=item, error=exc)
    return redirect("/portal/surveys?answered=true")


# --- my account --------------------------------------------------------------------------------------------


# The bills listed on my account (a year and more of monthly bills); older ones stay in billing.
MY_BILLS = 24


@router.get("/account")
async def account(page: OwnerPage) -> Response:
    """My unit's account: my bills (newest first, each opening its statement), what is owed, the payments with
    their receipt numbers and the deposits held for the unit."""
    owner = page.owner
    assert owner is not None
    if owner.unit_id is None:
        return page.render("portal/account.html", item=None, error=None)
    try:
        item = await services_of(page.request).get(
            "billing", f"/accounts/{owner.unit_id}", page.token, {"site": owner.site}
        )
    except ServiceError as exc:
        return page.render("portal/account.html", status_code=exc.status or 502, item=None, error=exc)
    bills = await fetch_list(page, "billing", "/bills", site=owner.site, unit_id=owner.unit_id, limit=str(MY_BILLS))
    # The deposits billing holds for the unit (decoration, tenancy, keys and cards): held money, never a fee.
    deposits = await fetch_list(page, "billing", "/deposits", site=owner.site, unit_id=owner.unit_id, limit="50")
    return page.render(
        "portal/account.html",
        item=item,
        error=None,
        money=money,
        bills=bills.items,
        bills_error=bills.error,
        deposits=deposits.items,
        deposits_error=deposits.error,
    )


def money(cents: int | None) -> str:
    """Cents as yuan with two decimals (exact: integer arithmetic, no float)."""
    value = cents or 0
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


# --- my preferences ----------------------------------------------------------------------------------------


async def _preferences(page: Page) -> dict[str, Any]:
    assert page.owner is not None
    found: dict[str, Any] = await services_of(page.request).get(
        "notification", f"/preferences/{page.owner.party_id}", page.token
    )
    return found


@router.get("/preferences")
async def preferences(page: OwnerPage, saved: bool = False) -> Response:
    try:
        prefs = await _preferences(page)
    except ServiceError as exc:
        return page.render("portal/preferences.html", status_code=exc.status or 502, prefs=None, error=exc)
    return page.render(
        "portal/preferences.html",
        prefs=prefs,
        error=None,
        saved=saved,
        channels=CHANNELS,
        languages=SURVEY_LANGUAGES,
    )


@router.post("/preferences")
async def save_preferences(page: OwnerPage) -> Response:
    form = await page.request.form()
    check_csrf(page, str(form.get("csrf_token") or ""))
    assert page.owner is not None
    quiet = form.get("quiet_hours") == "on"
    body: dict[str, Any] = {
        "channels": [c for c in CHANNELS if form.get(f"channel-{c}") == "on"],
        "language": str(form.get("language") or "") or None,
        "opt_outs": [c for c in ("events", "surveys") if form.get(f"opt_out-{c}") == "on"],
        "quiet_hours": quiet,
        "quiet_start": str(form.get("quiet_start") or "") or None,
        "quiet_end": str(form.get("quiet_end") or "") or None,
    }
    try:
        await services_of(page.request).put("notification", f"/preferences/{page.owner.party_id}", page.token, body)
    except ServiceError as exc:
        prefs = {**body, "quiet_start": body["quiet_start"] or "", "quiet_end": body["quiet_end"] or ""}
        return page.render(
            "portal/preferences.html",
            status_code=exc.status or 502,
            prefs=prefs,
            error=exc,
            saved=False,
            channels=CHANNELS,
            languages=SURVEY_LANGUAGES,
        )
    return redirect("/portal/preferences?saved=true")
