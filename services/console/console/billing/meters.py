"""Meters and their readings (抄表) for a period, and the split of the shared meters (公摊). Engineering's workers
(on a phone), clerks and managers enter the period's readings by hand or import a CSV (serial,value) that billing
takes whole or refuses with every bad row named; a reading billing flags (below the last one, or far above the
meter's average) waits for a re-read, or a manager lets it stand. Clerks and managers add meters; anyone who reads
them sees a building's split per shared meter. Billing's API with the person's own token decides every rule."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, HTTPException, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from console.billing.form_rules import METER_KINDS, bad_rows, flagged, typed_readings
from console.billing.rules import period_of
from console.billing.views import SiteQuery, chosen, render, site_choices
from console.permissions import (
    CONFIRM_READINGS,
    MANAGE_METERS,
    METER_READERS,
    RECORD_READINGS,
    SEE_METERS,
    worker_elsewhere,
)
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter(prefix="/billing/meters")

PERIOD = r"^(\d{4}-(0[1-9]|1[0-2]))?$"
PeriodQuery = Annotated[str, Query(pattern=PERIOD)]
KindQuery = Annotated[str, Query(pattern="^(water|electricity|gas|hot_water)?$")]
SCOPES = ("unit", "building", "site")
SPLITS = ("area", "household", "equal")
MAX_IMPORT_BYTES = 2 * 1024 * 1024
# The new-meter form's inputs, by the name billing gives the field in a problem.
METER_INPUTS = ("kind", "serial", "scope", "unit_id", "building", "apportion_by", "opening_reading", "rollover_at")


class Imported(BaseModel):
    """What an import did, carried to the page it redirects to."""

    readings: Annotated[int, Field(ge=0)] = 0
    replaced: Annotated[int, Field(ge=0)] = 0
    flagged: Annotated[int, Field(ge=0)] = 0


def _require(page: Page, permission: Any) -> None:
    """The screen's permission; a worker only of the department that reads the meters (billing refuses others)."""
    page.require(permission)
    department = page.account.department if page.account else None
    if worker_elsewhere(page.roles, department, permission, METER_READERS):
        raise HTTPException(status_code=403, detail="forbidden")


def _this_period(page: Page) -> str:
    return period_of(datetime.now(ZoneInfo(page.request.app.state.console.display_timezone)).date())


async def _readings_page(
    page: Page,
    site: str,
    period: str,
    kind: str = "",
    *,
    typed: dict[str, str] | None = None,
    reading_errors: dict[str, str] | None = None,
    confirm_errors: dict[str, str] | None = None,
    import_error: ServiceError | None = None,
    import_message: str = "",
    meter_form: dict[str, str] | None = None,
    meter_errors: dict[str, str] | None = None,
    saved: int = 0,
    imported: Imported | None = None,
    error: ServiceError | None = None,
    status_code: int = 200,
) -> Response:
    sites = await site_choices(page)
    site = chosen(site, sites)
    period = period or _this_period(page)
    readings: list[dict[str, Any]] = []
    if site:
        params = {"period": period, "limit": "500", **({"kind": kind} if kind else {})}
        try:
            body = await services_of(page.request).get(
                "billing", f"/sites/{quote(site)}/meter-readings", page.token, params
            )
            readings = body["items"]
        except ServiceError as exc:
            error = error or exc
    response = render(
        page,
        "billing/meters.html",
        error,
        site=site,
        sites=sites,
        period=period,
        kind=kind,
        kinds=METER_KINDS,
        scopes=SCOPES,
        splits=SPLITS,
        readings=readings,
        flagged=flagged(readings),
        typed=typed or {},
        reading_errors=reading_errors or {},
        confirm_errors=confirm_errors or {},
        import_message=import_error.detail if import_error else import_message,
        bad_rows=bad_rows(import_error.rows) if import_error else [],
        meter_form=meter_form or {"kind": "water", "scope": "unit"},
        errors=meter_errors or {},
        saved=saved,
        imported=imported,
        may_record=page.may(RECORD_READINGS),
        may_confirm=page.may(CONFIRM_READINGS),
        may_add=page.may(MANAGE_METERS),
    )
    if error is None:
        response.status_code = status_code
    return response


def _back(site: str, period: str, kind: str = "", **extra: object) -> Response:
    query = {"site": site, "period": period, **({"kind": kind} if kind else {}), **extra}
    return redirect(f"/billing/meters?{urlencode(query)}")


@router.get("")
async def readings_page(
    page: SignedInPage,
    imported: Annotated[Imported, Query()],
    site: SiteQuery = "",
    period: PeriodQuery = "",
    kind: KindQuery = "",
    saved: Annotated[int, Query(ge=0)] = 0,
    done: bool = False,
) -> Response:
    _require(page, SEE_METERS)
    return await _readings_page(page, site, period, kind, saved=saved, imported=imported if done else None)


@router.post("/readings")
async def record_readings(page: SignedInPage) -> Response:
    """The readings typed for the period, one call per meter (a meter read again is a re-read that replaces the
    reading): those billing takes are kept; those it refuses come back as typed, each with billing's words."""
    form = await page.request.form()
    check_csrf(page, str(form.get("csrf_token") or ""))
    _require(page, RECORD_READINGS)
    site, period, kind = (str(form.get(name) or "")[:64] for name in ("site", "period", "kind"))
    meter_ids = [str(value)[:64] for value in form.getlist("meter_id")][:500]
    typed = typed_readings({name: str(value)[:32] for name, value in form.items()}, meter_ids)
    services = services_of(page.request)
    errors: dict[str, str] = {}
    status = 422
    for meter_id, value in typed.items():
        body = {"period": period, "value": value, "source": "hand"}
        try:
            await services.post("billing", f"/meters/{quote(meter_id)}/readings", page.token, body)
        except ServiceError as exc:
            if not exc.status:
                return await _readings_page(page, site, period, kind, typed=typed, error=exc)
            errors[meter_id], status = exc.detail, exc.status
    if errors:
        kept = {meter_id: value for meter_id, value in typed.items() if meter_id in errors}
        return await _readings_page(
            page,
            site,
            period,
            kind,
            typed=kept,
            reading_errors=errors,
            saved=len(typed) - len(errors),
            status_code=status,
        )
    return _back(site, period, kind, saved=len(typed))


@router.post("/readings/{reading_id}/confirm")
async def confirm_reading(
    page: SignedInPage,
    reading_id: Annotated[str, Path(max_length=64)],
    site: Annotated[str, Form(max_length=64)],
    period: Annotated[str, Form(max_length=7)],
    kind: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """A manager lets a flagged reading stand (a real jump, a roll-over), saying why."""
    check_csrf(page, csrf_token)
    _require(page, CONFIRM_READINGS)
    path = f"/meter-readings/{quote(reading_id)}/confirm"
    try:
        await services_of(page.request).post("billing", path, page.token, {"note": note.strip()})
    except ServiceError as exc:
        if exc.status:
            return await _readings_page(
                page, site, period, kind, confirm_errors={reading_id: exc.detail}, status_code=exc.status
            )
        return await _readings_page(page, site, period, kind, error=exc)
    return _back(site, period, kind)


@router.post("/import")
async def import_readings(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)],
    period: Annotated[str, Form(pattern=PERIOD)],
    file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """A file of the period's readings, taken whole or refused with every bad row."""
    check_csrf(page, csrf_token)
    _require(page, RECORD_READINGS)
    content = await file.read(MAX_IMPORT_BYTES + 1) if file is not None and file.filename else b""
    if not content or len(content) > MAX_IMPORT_BYTES:
        message = page.t("meter.import.file_missing" if not content else "meter.import.too_large")
        return await _readings_page(page, site, period, import_message=message, status_code=422)
    path = f"/sites/{quote(site)}/meter-readings/import?{urlencode({'period': period})}"
    files = {"file": (file.filename if file and file.filename else "readings.csv", content, "text/csv")}
    try:
        result = await services_of(page.request).post_file("billing", path, page.token, {}, files)
    except ServiceError as exc:
        if exc.status:
            return await _readings_page(page, site, period, import_error=exc, status_code=exc.status)
        return await _readings_page(page, site, period, error=exc)
    counts = {name: result[name] for name in ("readings", "replaced", "flagged")}
    return _back(site, period, done="true", **counts)


@router.post("/new")
async def add_meter(page: SignedInPage) -> Response:
    """A meter for the register: a unit's, or a shared one over a building or the site (split by area, household
    or equally)."""
    form_data = await page.request.form()
    check_csrf(page, str(form_data.get("csrf_token") or ""))
    _require(page, MANAGE_METERS)
    form = {name: str(form_data.get(name) or "").strip()[:64] for name in ("site", "period", *METER_INPUTS)}
    body: dict[str, Any] = {name: form[name] for name in METER_INPUTS if form[name]}
    if form["scope"] != "unit":
        body.pop("unit_id", None)
    if form["scope"] != "building":
        body.pop("building", None)
    try:
        await services_of(page.request).post("billing", f"/sites/{quote(form['site'])}/meters", page.token, body)
    except ServiceError as exc:
        name = exc.field if exc.field in METER_INPUTS else None
        if exc.status and exc.status < 500 and name:
            return await _readings_page(
                page,
                form["site"],
                form["period"],
                meter_form=form,
                meter_errors={name: exc.detail},
                status_code=exc.status,
            )
        return await _readings_page(page, form["site"], form["period"], meter_form=form, error=exc)
    return _back(form["site"], form["period"])


@router.get("/apportionment")
async def apportionment(
    page: SignedInPage,
    site: SiteQuery = "",
    building: Annotated[str, Query(max_length=32)] = "",
    period: PeriodQuery = "",
    kind: KindQuery = "",
) -> Response:
    """A building's split of the period per shared meter over it (its own and the site's): each unit's part, or
    why billing holds the split (a reading missing or flagged)."""
    _require(page, SEE_METERS)
    sites = await site_choices(page)
    site = chosen(site, sites)
    period = period or _this_period(page)
    services = services_of(page.request)
    report: dict[str, Any] | None = None
    buildings: list[str] = []
    error: ServiceError | None = None
    building_error = ""
    if site:
        try:
            shared = await services.get(
                "billing", f"/sites/{quote(site)}/meters", page.token, {"scope": "building", "limit": "500"}
            )
            buildings = sorted({m["building"] for m in shared["items"] if m["building"]})
        except ServiceError as exc:
            error = exc
        building = building.strip() or (buildings[0] if buildings else "")
    if site and building and error is None:
        path = f"/sites/{quote(site)}/buildings/{quote(building)}/apportionment"
        try:
            report = await services.get(
                "billing", path, page.token, {"period": period, **({"kind": kind} if kind else {})}
            )
        except ServiceError as exc:
            if exc.status == 404:  # a building with no units: by the building box
                building_error = exc.detail
            else:
                error = exc
    response = render(
        page,
        "billing/apportionment.html",
        error,
        site=site,
        sites=sites,
        building=building,
        buildings=buildings,
        building_error=building_error,
        period=period,
        kind=kind,
        kinds=METER_KINDS,
        report=report,
    )
    if building_error:
        response.status_code = 404
    return response
