"""CSV import and export of a site's owner archive: one file per record kind, validated as a whole."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from intake.organization.models import BuildingWrite, PartyWrite, UnitWrite


class RecordKind(StrEnum):
    buildings = "buildings"
    units = "units"
    parties = "parties"


# The columns of each file, in export order. Parties name their unit by its code within the site (A-0101);
# extra_care is ';'-separated; an empty id creates a new party.
COLUMNS: dict[RecordKind, list[str]] = {
    RecordKind.buildings: ["code", "name", "floors"],
    RecordKind.units: ["code", "building", "floor", "area_m2", "use", "occupied"],
    RecordKind.parties: [
        "id",
        "unit",
        "role",
        "name",
        "phone",
        "email",
        "language",
        "extra_care",
        "move_in",
        "move_out",
        "tenancy_registration",
        "pays",
    ],
}
REQUIRED: dict[RecordKind, set[str]] = {
    RecordKind.buildings: {"code", "name", "floors"},
    RecordKind.units: {"code", "building", "floor", "area_m2"},
    RecordKind.parties: {"unit", "role", "name"},
}
ROW_MODELS: dict[RecordKind, type[BaseModel]] = {
    RecordKind.buildings: BuildingWrite,
    RecordKind.units: UnitWrite,
    RecordKind.parties: PartyWrite,
}
MAX_ROWS = 20_000


class RowError(BaseModel):
    row: int  # the line in the file (the header is line 1)
    field: str
    message: str


class ImportResult(BaseModel):
    kind: RecordKind
    rows: int
    created: int
    updated: int
