"""Import a site's buildings, units or parties from CSV, all or nothing, and export them.

Every row is validated before anything is written; a file with any bad row is rejected as a whole with
every bad row and field listed. A valid file is applied in one transaction (with its upsert events).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from intake.archive.models import COLUMNS, MAX_ROWS, REQUIRED, ROW_MODELS, ImportResult, RecordKind, RowError
from intake.organization import service as archive
from intake.organization.models import Building, BuildingWrite, Party, PartyWrite, Unit, UnitWrite
from pm_platform.errors import Invalid
from pm_platform.uow import UnitOfWork


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError:
        raise Invalid("the file is not UTF-8 text", field="file") from None


def _row_input(kind: RecordKind, row: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {k: v.strip() for k, v in row.items() if k and v is not None and v.strip() != ""}
    if kind is RecordKind.parties:
        values.pop("id", None)
        values.pop("unit", None)
        if "extra_care" in values:
            values["extra_care"] = [c.strip() for c in values["extra_care"].split(";") if c.strip()]
    return values


async def import_csv(uow: UnitOfWork, site: str, kind: RecordKind, body: bytes) -> ImportResult:
    await archive.get_site(uow.session, site)
    rows = list(csv.DictReader(io.StringIO(_decode(body))))
    reader_fields = set(rows[0]) if rows else set()
    if not rows:
        header = next(csv.reader(io.StringIO(_decode(body))), [])
        reader_fields = set(header)
    errors: list[RowError] = []
    missing = sorted(REQUIRED[kind] - reader_fields)
    unknown = sorted(f for f in reader_fields - set(COLUMNS[kind]) if f)
    errors += [RowError(row=1, field=f, message="required column is missing") for f in missing]
    errors += [RowError(row=1, field=f, message="unknown column") for f in unknown]
    if not rows and not errors:
        raise Invalid("the file has no rows", field="file")
    if len(rows) > MAX_ROWS:
        raise Invalid(f"the file has {len(rows)} rows; at most {MAX_ROWS} per import", field="file")
    if errors:
        _reject(errors)

    parsed: list[tuple[int, BaseModel, dict[str, str]]] = []
    for line, row in enumerate(rows, start=2):
        if None in row:
            errors.append(RowError(row=line, field="(row)", message="more values than columns"))
            continue
        try:
            parsed.append((line, ROW_MODELS[kind].model_validate(_row_input(kind, row)), row))
        except ValidationError as invalid:
            for error in invalid.errors():
                field = ".".join(str(p) for p in error["loc"]) or "(row)"
                errors.append(RowError(row=line, field=field, message=error["msg"]))
    errors += await _cross_check(uow, site, kind, rows)
    if errors:
        _reject(errors)
    return await _apply(uow, site, kind, parsed, len(rows))


def _reject(errors: list[RowError]) -> None:
    bad_rows = len({e.row for e in errors})
    errors.sort(key=lambda e: (e.row, e.field))
    raise Invalid(
        f"{len(errors)} errors in {bad_rows} rows; nothing was imported",
        field=errors[0].field,
        errors=[e.model_dump() for e in errors],
    )


async def _cross_check(uow: UnitOfWork, site: str, kind: RecordKind, rows: list[dict[str, str]]) -> list[RowError]:
    """What one row cannot tell: duplicates within the file, references to buildings, units and parties
    (checked on every row, also those with other errors, so that one pass lists everything)."""
    session = uow.session
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    buildings = {b.code for b in await archive.list_buildings(session, site)}
    units = {u.code for u in await archive.list_units(session, site)}

    def value(row: dict[str, str], key: str) -> str:
        return (row.get(key) or "").strip()

    for line, row in enumerate(rows, start=2):
        key = value(row, "code") if kind is not RecordKind.parties else value(row, "id")
        if key:
            field = "code" if kind is not RecordKind.parties else "id"
            if key in seen:
                errors.append(RowError(row=line, field=field, message=f"{key} is also on line {seen[key]}"))
            seen.setdefault(key, line)
        if kind is RecordKind.units and value(row, "building") and value(row, "building") not in buildings:
            errors.append(
                RowError(
                    row=line,
                    field="building",
                    message=f"building {value(row, 'building')} does not exist at site {site}",
                )
            )
        if kind is RecordKind.parties:
            unit_code = value(row, "unit")
            if not unit_code:
                errors.append(RowError(row=line, field="unit", message="Field required"))
            elif unit_code not in units:
                errors.append(
                    RowError(row=line, field="unit", message=f"unit {unit_code} does not exist at site {site}")
                )
            existing = await session.get(Party, key) if key else None
            if existing is not None and existing.unit_id != f"{site}-{unit_code}":
                errors.append(RowError(row=line, field="id", message=f"party {key} belongs to unit {existing.unit_id}"))
    return errors


async def _apply(
    uow: UnitOfWork, site: str, kind: RecordKind, parsed: list[tuple[int, BaseModel, dict[str, str]]], rows: int
) -> ImportResult:
    session = uow.session
    created = 0
    for _, record, row in parsed:
        if isinstance(record, BuildingWrite):
            created += await session.get(Building, f"{site}-{record.code}") is None
            await archive.upsert_building(uow, site, record)
            await session.flush()
        elif isinstance(record, UnitWrite):
            created += await session.get(Unit, f"{site}-{record.code}") is None
            await archive.upsert_unit(uow, site, record)
        elif isinstance(record, PartyWrite):
            party_id = (row.get("id") or "").strip() or None
            created += party_id is None or await session.get(Party, party_id) is None
            unit = await session.get(Unit, f"{site}-{(row.get('unit') or '').strip()}")
            assert unit is not None  # checked above
            await archive.save_party(uow, unit, record, party_id=party_id)
    await uow.commit()
    return ImportResult(kind=kind, rows=rows, created=created, updated=len(parsed) - created)


async def export_csv(uow: UnitOfWork, site: str, kind: RecordKind) -> str:
    session = uow.session
    await archive.get_site(session, site)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS[kind], lineterminator="\n")
    writer.writeheader()
    if kind is RecordKind.buildings:
        for building in await archive.list_buildings(session, site):
            writer.writerow({"code": building.code, "name": building.name, "floors": building.floors})
    elif kind is RecordKind.units:
        codes = {b.id: b.code for b in await archive.list_buildings(session, site)}
        for unit in await archive.list_units(session, site):
            writer.writerow(
                {
                    "code": unit.code,
                    "building": codes.get(unit.building_id, ""),
                    "floor": unit.floor,
                    "area_m2": f"{unit.area_m2:.2f}",
                    "use": unit.use,
                    "occupied": "true" if unit.occupied else "false",
                }
            )
    else:
        unit_codes = {u.id: u.code for u in await archive.list_units(session, site)}
        parties = (await session.scalars(select(Party).where(Party.site == site).order_by(Party.id))).all()
        for party in parties:
            writer.writerow(
                {
                    "id": party.id,
                    "unit": unit_codes.get(party.unit_id or "", ""),
                    "role": party.role,
                    "name": party.name,
                    "phone": party.phone or "",
                    "email": party.email or "",
                    "language": party.language,
                    "extra_care": party.extra_care.replace(",", ";"),
                    "move_in": party.move_in.isoformat() if party.move_in else "",
                    "move_out": party.move_out.isoformat() if party.move_out else "",
                    "tenancy_registration": party.tenancy_registration or "",
                    "pays": "true" if party.pays else "false",
                }
            )
    return out.getvalue()
