"""How the occupancy screens read the front desk's typing and intake's procedures: key and card numbers as typed,
a checklist item by item with what was recorded, billing's settlement answer, the open procedures. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# The console's path segment of each procedure, and intake's.
KINDS = {"move-ins": "move_in", "move-outs": "move_out", "transfers": "transfer"}
FINISHED = ("completed", "cancelled")
METERS = ("water", "electricity", "gas")


def parse_keys(text: str) -> list[dict[str, str]]:
    """One key a line: its number, then optionally what it opens ("B0302-1 front door" or "B0302-1, front door")."""
    keys: list[dict[str, str]] = []
    for line in text.splitlines():
        number, _, label = line.strip().replace(",", " ", 1).replace("\uff0c", " ", 1).partition(" ")
        if number:
            key = {"number": number}
            if label.strip():
                key["label"] = label.strip()
            keys.append(key)
    return keys


def parse_cards(text: str) -> list[str]:
    """Card numbers separated by spaces, commas or lines."""
    return [card for card in re.split("[\\s,\uff0c\u3001]+", text) if card]


def checklist_rows(handover: dict[str, Any]) -> list[dict[str, Any]]:
    """The procedure's checklist in its order, each item with what was recorded for it (None while not done) and
    whether a required item is still missing."""
    missing = set(handover.get("missing") or [])
    items = handover.get("items") or {}
    return [
        {**item, "record": items.get(item["code"]), "missing": item["code"] in missing}
        for item in handover["checklist"]
    ]


def settlement_state(procedure: dict[str, Any]) -> str | None:
    """Billing's answer as the page shows it: cleared, owed (an amount), waiting (asked, no answer yet), or None
    before anyone asked."""
    if procedure.get("settlement_cleared") is True:
        return "cleared"
    if procedure.get("settlement_cleared") is False and (procedure.get("owed_cents") or 0) > 0:
        return "owed"
    if procedure["status"] == "settlement_requested":
        return "waiting"
    return None


def open_only(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The procedures still under way (neither completed nor cancelled), oldest first."""
    return sorted((i for i in items if i["status"] not in FINISHED), key=lambda i: str(i["created_at"]))


def readings_of(values: dict[str, str], photos: dict[str, str]) -> list[dict[str, str]]:
    """The meters given a value (as typed; intake checks the number), each with its uploaded photo's key."""
    readings: list[dict[str, str]] = []
    for meter in METERS:
        value = values.get(meter, "").strip()
        if value:
            reading = {"meter": meter, "value": value}
            if photos.get(meter):
                reading["photo"] = photos[meter]
            readings.append(reading)
    return readings


def defects_of(rows: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    """The defect rows the agent filled in: (description, location, category); empty rows are left out."""
    defects: list[dict[str, str]] = []
    for description, location, category in rows:
        if description.strip():
            defect = {"description": description.strip(), "category": category or "other"}
            if location.strip():
                defect["location"] = location.strip()
            defects.append(defect)
    return defects


def file_path(key: str | None) -> str:
    """The console's address of a stored photo or signature ("occupancy/<site>/<name>" at intake)."""
    if not key:
        return ""
    return "/occupancy/files/" + key.removeprefix("occupancy/")


def edited_items(items: list[dict[str, Any]], procedure: str, form: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The site's checklist as the manager edited it: each item's wording ("<procedure>.<code>.label", kept when
    left empty) and whether it is required (a checkbox "<procedure>.<code>.required"); codes and kinds stay."""
    edited: list[dict[str, Any]] = []
    for item in items:
        prefix = f"{procedure}.{item['code']}"
        label = str(form.get(f"{prefix}.label") or "").strip() or item["label"]
        edited.append({**item, "label": label, "required": form.get(f"{prefix}.required") is not None})
    return edited
