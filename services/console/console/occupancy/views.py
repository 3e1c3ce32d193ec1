"""The front desk's move-in, move-out and ownership-transfer screens, and the site's checklists for the manager:
intake's occupancy API with the person's own token; intake (and billing, through it) decides every rule."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.datastructures import UploadFile as FormFile

from console.frontdesk.rules import unit_code_of, unit_id_of, yuan
from console.occupancy import rules
from console.permissions import EDIT_OCCUPANCY_SETTINGS, RUN_OCCUPANCY
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter(prefix="/occupancy")

KindPath = Annotated[str, Path(pattern=r"^(move-ins|move-outs|transfers)$")]
HandoverKind = Annotated[str, Path(pattern=r"^(move-ins|move-outs)$")]
IdPath = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
# The actions a procedure's page posts with no more than a reason or the keys (the sign-off image has its own).
ActionPath = Annotated[str, Path(pattern=r"^(sign-agent|complete|request-settlement|return-keys|cancel)$")]
Csrf = Annotated[str, Form(max_length=128)]
MAX_UPLOAD = 5 * 1024 * 1024 + 1


def sites_of(page: Page) -> list[str]:
    assert page.account is not None
    return [s for s in page.account.sites if s != "*"]


def render(page: Page, template: str, status_code: int = 200, **context: Any) -> Response:
    """Every occupancy page with its helpers at hand."""
    return page.render(
        template,
        status_code=status_code,
        yuan=yuan,
        file_path=rules.file_path,
        settlement_state=rules.settlement_state,
        meters=rules.METERS,
        **context,
    )


async def _unit_parties(page: Page, unit_id: str) -> list[dict[str, Any]]:
    """The unit's parties as intake's lookup knows them (moved out ones too: the page names them)."""
    found = await services_of(page.request).get("intake", "/lookup", page.token, {"unit_id": unit_id})
    return [party for match in found["matches"] for party in match["parties"]]


# --- the procedures: start one, the open ones -------------------------------------------------------------


async def _index(
    page: Page,
    site: str,
    unit_code: str,
    form: dict[str, str] | None = None,
    errors: dict[str, ServiceError] | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(page.request)
    sites = sites_of(page)
    site = site or (sites[0] if sites else "")
    lists: dict[str, list[dict[str, Any]]] = {}
    errors = dict(errors or {})
    parties: list[dict[str, Any]] = []
    config: dict[str, Any] | None = None
    if site:
        try:
            for kind in rules.KINDS:
                found = await services.get("intake", f"/{kind}", page.token, {"site": site, "limit": "200"})
                lists[kind] = rules.open_only(found["items"])
            config = await services.get("intake", f"/sites/{site}/occupancy-config", page.token)
        except ServiceError as exc:
            errors.setdefault("page", exc)
    if site and unit_code:
        try:
            parties = await _unit_parties(page, unit_id_of(site, unit_code))
        except ServiceError as exc:
            errors.setdefault("unit_code", exc)
    return render(
        page,
        "occupancy/index.html",
        status_code=status_code,
        site=site,
        sites=sites,
        unit_code=unit_code,
        parties=parties,
        lists=lists,
        config=config,
        form=form or {},
        errors=errors,
        unit_code_of=unit_code_of,
    )


@router.get("")
async def index(
    page: SignedInPage,
    site: Annotated[str, Query(max_length=64)] = "",
    unit_code: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    page.require(RUN_OCCUPANCY)
    return await _index(page, site, unit_code.strip())


@router.post("/start")
async def start(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)],
    unit_code: Annotated[str, Form(max_length=64)],
    procedure: Annotated[str, Form(pattern=r"^(move-ins|move-outs)$")],
    party_id: Annotated[str, Form(max_length=64)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Csrf = "",
) -> Response:
    """Open a move-in or a move-out of a party of the unit."""
    check_csrf(page, csrf_token)
    page.require(RUN_OCCUPANCY)
    unit_id = unit_id_of(site, unit_code.strip())
    body = {"party_id": party_id, "day": day}
    try:
        created = await services_of(page.request).post("intake", f"/units/{unit_id}/{procedure}", page.token, body)
    except ServiceError as exc:
        form = {"procedure": procedure, "party_id": party_id, "day": day}
        return await _index(page, site, unit_code.strip(), form, {procedure: exc}, exc.status or 502)
    return redirect(f"/occupancy/{procedure}/{created['id']}")


@router.post("/transfers/new")
async def start_transfer(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)],
    unit_code: Annotated[str, Form(max_length=64)],
    old_party_id: Annotated[str, Form(max_length=64)] = "",
    transfer_date: Annotated[str, Form(max_length=10)] = "",
    name: Annotated[str, Form(max_length=120)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    email: Annotated[str, Form(max_length=200)] = "",
    language: Annotated[str, Form(pattern=r"^(zh-CN|en)$")] = "zh-CN",
    pays: Annotated[bool, Form()] = False,
    csrf_token: Csrf = "",
) -> Response:
    """Open an ownership transfer: the old owner, the date and the new owner's details."""
    check_csrf(page, csrf_token)
    page.require(RUN_OCCUPANCY)
    new_owner: dict[str, Any] = {"name": name.strip(), "language": language, "pays": pays}
    if phone.strip():
        new_owner["phone"] = phone.strip()
    if email.strip():
        new_owner["email"] = email.strip()
    body = {"old_party_id": old_party_id, "transfer_date": transfer_date, "new_owner": new_owner}
    unit_id = unit_id_of(site, unit_code.strip())
    try:
        created = await services_of(page.request).post("intake", f"/units/{unit_id}/transfers", page.token, body)
    except ServiceError as exc:
        form = {"old_party_id": old_party_id, "transfer_date": transfer_date, "name": name, "phone": phone}
        form |= {"email": email, "language": language}
        return await _index(page, site, unit_code.strip(), form, {"transfers": exc}, exc.status or 502)
    return redirect(f"/occupancy/transfers/{created['id']}")


# --- one procedure ----------------------------------------------------------------------------------------


async def _procedure_page(
    page: Page, kind: str, procedure_id: str, errors: dict[str, ServiceError] | None = None, status_code: int = 200
) -> Response:
    services = services_of(page.request)
    errors = dict(errors or {})
    try:
        found = await services.get("intake", f"/{kind}/{procedure_id}", page.token)
        timeline = await services.get("intake", f"/{kind}/{procedure_id}/timeline", page.token)
    except ServiceError as exc:
        return render(page, "occupancy/error.html", status_code=exc.status or 502, error=exc)
    parties: dict[str, dict[str, Any]] = {}
    requests: list[dict[str, Any]] = []
    categories: list[dict[str, Any]] = []
    try:
        parties = {p["id"]: p for p in await _unit_parties(page, found["unit_id"])}
        for request_id in found.get("defect_request_ids", []):
            requests.append(await services.get("intake", f"/requests/{request_id}", page.token))
        if kind == "move-ins" and found["status"] == "open":
            found_categories = await services.get("intake", f"/sites/{found['site']}/categories", page.token)
            categories = [c for c in found_categories if c.get("active")]
    except ServiceError as exc:
        errors.setdefault("page", exc)
    return render(
        page,
        "occupancy/transfer.html" if kind == "transfers" else "occupancy/handover.html",
        status_code=status_code,
        kind=kind,
        proc=found,
        rows=rules.checklist_rows(found) if kind != "transfers" else [],
        timeline=timeline,
        parties=parties,
        requests=requests,
        categories=categories,
        errors=errors,
    )


@router.get("/{kind}/{procedure_id}")
async def procedure_page(page: SignedInPage, kind: KindPath, procedure_id: IdPath) -> Response:
    page.require(RUN_OCCUPANCY)
    return await _procedure_page(page, kind, procedure_id)


# Before the general action's route: Starlette matches the path first, the pattern only validates.
@router.post("/move-ins/{procedure_id}/sign-owner")
async def sign_owner(
    page: SignedInPage,
    procedure_id: IdPath,
    csrf_token: Csrf = "",
    signature: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """The owner signs on the agent's device: the drawn signature (a PNG the page made) or a photo of it; with
    neither, intake says what is missing."""
    check_csrf(page, csrf_token)
    page.require(RUN_OCCUPANCY)
    files: dict[str, tuple[str, bytes, str]] = {}
    if signature is not None and signature.filename:
        content = await signature.read(MAX_UPLOAD)
        files["signature"] = (signature.filename, content, signature.content_type or "application/octet-stream")
    path = f"/move-ins/{procedure_id}/sign-owner"
    try:
        await services_of(page.request).post_file("intake", path, page.token, {}, files)
    except ServiceError as exc:
        return await _procedure_page(page, "move-ins", procedure_id, {"sign-owner": exc}, exc.status or 502)
    return redirect(f"/occupancy/move-ins/{procedure_id}")


@router.post("/{kind}/{procedure_id}/{action}")
async def act(
    page: SignedInPage,
    kind: KindPath,
    procedure_id: IdPath,
    action: ActionPath,
    reason: Annotated[str, Form(max_length=2000)] = "",
    keys: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: Csrf = "",
) -> Response:
    """A step of the procedure; intake's refusal (a 409 naming what is missing or why) shows by its form."""
    check_csrf(page, csrf_token)
    page.require(RUN_OCCUPANCY)
    body: dict[str, Any] | None = None
    if action == "cancel":
        body = {"reason": reason.strip()}
    elif action == "return-keys":
        body = {"keys": rules.parse_keys(keys)}
    try:
        await services_of(page.request).post("intake", f"/{kind}/{procedure_id}/{action}", page.token, body)
    except ServiceError as exc:
        return await _procedure_page(page, kind, procedure_id, {action: exc}, exc.status or 502)
    return redirect(f"/occupancy/{kind}/{procedure_id}")


async def _upload(page: Page, site: str, upload: FormFile) -> str:
    content = await upload.read(MAX_UPLOAD)
    files = {"file": (upload.filename or "photo", content, upload.content_type or "application/octet-stream")}
    stored = await services_of(page.request).post_file("intake", "/occupancy/files", page.token, {"site": site}, files)
    return str(stored["key"])


@router.post("/{kind}/{procedure_id}/items/{code}")
async def record_item(
    request: Request,
    page: SignedInPage,
    kind: HandoverKind,
    procedure_id: IdPath,
    code: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,47}$")],
) -> Response:
    """One checklist item as its kind asks: a check, keys, cards, readings with photos, defects."""
    form = await request.form()
    check_csrf(page, str(form.get("csrf_token") or ""))
    page.require(RUN_OCCUPANCY)
    text = {name: value for name, value in form.items() if isinstance(value, str)}
    body: dict[str, Any] = {}
    if text.get("note", "").strip():
        body["note"] = text["note"].strip()
    item_kind = text.get("item_kind", "check")
    try:
        if item_kind == "keys":
            body["keys"] = rules.parse_keys(text.get("keys", ""))
        elif item_kind == "cards":
            body["cards"] = rules.parse_cards(text.get("cards", ""))
        elif item_kind == "readings":
            photos: dict[str, str] = {}
            for meter in rules.METERS:
                upload = form.get(f"photo_{meter}")
                if isinstance(upload, FormFile) and upload.filename and text.get(f"value_{meter}", "").strip():
                    photos[meter] = await _upload(page, text.get("site", ""), upload)
            values = {meter: text.get(f"value_{meter}", "") for meter in rules.METERS}
            body["readings"] = rules.readings_of(values, photos)
        elif item_kind == "defects":
            rows = [
                (text.get(f"description_{i}", ""), text.get(f"location_{i}", ""), text.get(f"category_{i}", ""))
                for i in range(3)
            ]
            body["defects"] = rules.defects_of(rows)
        await services_of(page.request).post("intake", f"/{kind}/{procedure_id}/items/{code}", page.token, body)
    except ServiceError as exc:
        return await _procedure_page(page, kind, procedure_id, {code: exc}, exc.status or 502)
    return redirect(f"/occupancy/{kind}/{procedure_id}#item-{code}")


@router.get("/files/{site}/{name}")
async def stored_file(
    page: SignedInPage,
    site: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    name: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,120}$")],
) -> Response:
    """A meter's photo or the owner's signature, as intake serves it to the site's staff."""
    page.require(RUN_OCCUPANCY)
    try:
        content, content_type = await services_of(page.request).get_bytes(
            "intake", f"/occupancy/files/{site}/{name}", page.token
        )
    except ServiceError as exc:
        return Response(exc.detail, status_code=exc.status or 502, media_type="text/plain")
    return Response(content, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})


# --- the site's checklists and transfer rule (managers) ---------------------------------------------------


async def _settings_page(
    page: Page, site: str, error: ServiceError | None = None, saved: bool = False, status_code: int = 200
) -> Response:
    sites = sites_of(page)
    site = site or (sites[0] if sites else "")
    config: dict[str, Any] | None = None
    try:
        config = await services_of(page.request).get("intake", f"/sites/{site}/occupancy-config", page.token)
    except ServiceError as exc:
        error = error or exc
    return render(
        page,
        "occupancy/settings.html",
        status_code=(error.status or 502) if error and status_code == 200 else status_code,
        site=site,
        sites=sites,
        config=config,
        error=error,
        saved=saved,
    )


@router.get("/settings")
async def settings_page(
    page: SignedInPage, site: Annotated[str, Query(max_length=64)] = "", saved: bool = False
) -> Response:
    page.require(EDIT_OCCUPANCY_SETTINGS)
    return await _settings_page(page, site, saved=saved)


@router.post("/settings")
async def save_settings(request: Request, page: SignedInPage) -> Response:
    """The items' wording, whether each is required, and the balance rule (codes and kinds stay as they are)."""
    form = await request.form()
    check_csrf(page, str(form.get("csrf_token") or ""))
    page.require(EDIT_OCCUPANCY_SETTINGS)
    site = str(form.get("site") or "")
    services = services_of(page.request)
    try:
        config = await services.get("intake", f"/sites/{site}/occupancy-config", page.token)
        body = {
            "move_in_items": rules.edited_items(config["move_in_items"], "move_in", form),
            "move_out_items": rules.edited_items(config["move_out_items"], "move_out", form),
            "balance_rule": str(form.get("balance_rule") or config["balance_rule"]),
        }
        await services.put("intake", f"/sites/{site}/occupancy-config", page.token, body)
    except ServiceError as exc:
        return await _settings_page(page, site, exc, status_code=exc.status or 502)
    return redirect(f"/occupancy/settings?site={site}&saved=true")
