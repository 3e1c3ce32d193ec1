"""The front-desk registers' pure rules: the body each intake command takes from a form, and which input a
refusal's field belongs next to. Intake decides everything else (the arrears rule, one use at the gate)."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from console.followup.rules import local_moment

# "sofa x2", "chairs * 4", "table" (one), the multiplication sign too: a line of the items box.
_QUANTITY = re.compile(r"^(?P<description>.*?)(?:\s+x|\s*[\u00d7*])\s*(?P<quantity>\d{1,5})$", re.IGNORECASE)

# How the desk verified the owner's authorisation (intake's AuthorisationMethod).
AUTHORISATION_METHODS = ("owner_present", "call_back", "written")
# Who collects a parcel (intake's Collector).
COLLECTORS = ("resident", "nominee")
VISITOR_KINDS = ("visitor", "temporary_resident")
DOCUMENT_KINDS = ("certificate", "contract", "card", "permit", "other")
PARCEL_KINDS = ("parcel", "mail")

# A refusal's field (as intake names it) -> the form input it belongs next to; items.<n>.* is the items box.
FIELD_INPUTS = {
    "unit_id": "unit_id",
    "items": "items",
    "carrier": "carrier",
    "vehicle_plate": "vehicle_plate",
    "valid_until": "valid_until",
    "method": "method",
    "note": "note",
    "document_key": "document",
    "arrears_override": "arrears_override",
    "reason": "reason",
    "name": "name",
    "id_last4": "id_last4",
    "phone": "phone",
    "purpose": "purpose",
    "valid_to": "valid_to",
    "tag": "tag",
    "opens": "opens",
    "to": "to",
    "by": "by",
    "signature": "signer",
    "signature.name": "signer",
    "tracking_number": "tracking_number",
    "shelf": "shelf",
    "addressee": "addressee",
    "collected_by": "collected_by",
    "nominated_by": "nominated_by",
    "title": "title",
    "notes": "notes",
    "pickup_location": "pickup_location",
    "gate": "gate",
}


def input_for(field: str | None) -> str | None:
    """The form input a refusal's field names, if any (every items.<n>.<x> is the items box)."""
    if field and field.startswith("items."):
        return "items"
    return FIELD_INPUTS.get(field or "")


def text(value: str) -> str | None:
    """A typed value, or None when the input was left empty (the service then applies its default)."""
    stripped = value.strip()
    return stripped or None


def items_of(box: str) -> list[dict[str, Any]]:
    """The items box, one item a line with an optional "x<quantity>" at its end; empty lines ignored."""
    items: list[dict[str, Any]] = []
    for line in box.splitlines():
        line = line.strip()
        if not line:
            continue
        found = _QUANTITY.match(line)
        if found and found["description"]:
            items.append({"description": found["description"], "quantity": int(found["quantity"])})
        else:
            items.append({"description": line, "quantity": 1})
    return items


def without_empty(body: dict[str, Any]) -> dict[str, Any]:
    """The body without the inputs left empty (intake's defaults apply)."""
    return {name: value for name, value in body.items() if value is not None}


def release_pass_body(unit_id: str, items: str, carrier: str, vehicle_plate: str, valid_until: str) -> dict[str, Any]:
    return without_empty(
        {
            "unit_id": unit_id.strip(),
            "items": items_of(items),
            "carrier": text(carrier),
            "vehicle_plate": text(vehicle_plate),
            "valid_until": text(valid_until),
        }
    )


def authorisation_body(method: str, note: str, document_key: str | None) -> dict[str, Any]:
    """How the desk verified the owner: the method, a note, the written authorisation uploaded first."""
    return without_empty({"method": method, "note": text(note), "document_key": document_key})


def issue_body(arrears_override: str) -> dict[str, Any]:
    """A supervisor's reason to issue although the unit is in arrears; nothing otherwise."""
    return without_empty({"arrears_override": text(arrears_override)})


def own_site(sites: list[str], asked: str = "") -> str:
    """The site asked for, else the person's first own site (head office's "every site" is no site to list)."""
    own = [code for code in sites if code != "*"]
    return asked or (own[0] if own else "")


def visitor_body(form: dict[str, str], zone: str) -> dict[str, Any]:
    return without_empty(
        {
            "unit_id": form.get("unit_id", "").strip(),
            "kind": form.get("kind") or "visitor",
            "name": text(form.get("name", "")),
            "id_last4": text(form.get("id_last4", "")),
            "phone": text(form.get("phone", "")),
            "purpose": text(form.get("purpose", "")),
            "vehicle_plate": text(form.get("vehicle_plate", "")),
            "valid_to": local_moment(form.get("valid_to", ""), ZoneInfo(zone)),
        }
    )


def signature(name: str) -> dict[str, str] | None:
    """The typed name of whoever signs (no image from the desk's form)."""
    typed = text(name)
    return {"name": typed} if typed else None


def key_issue_body(to: str, purpose: str, signer: str) -> dict[str, Any]:
    return without_empty({"to": text(to), "purpose": text(purpose), "signature": signature(signer or to)})


def key_return_body(by: str, note: str) -> dict[str, Any]:
    return without_empty({"by": text(by), "signature": signature(by), "note": text(note)})


def collect_body(collected_by: str, collector: str, nominated_by: str) -> dict[str, Any]:
    """A parcel collected: by whom (their typed name signs), a resident or someone a resident named."""
    return without_empty(
        {
            "collected_by": text(collected_by),
            "collector": collector or "resident",
            "nominated_by": text(nominated_by) if collector == "nominee" else None,
            "signature": signature(collected_by),
        }
    )


# The commands of each register's rows: the register's path at intake -> its actions here.
ROW_ACTIONS: dict[str, tuple[str, ...]] = {
    "visitors": ("cancel",),
    "keys": ("issue", "return"),
    "parcels": ("collect",),
    "documents": ("start", "ready", "collect", "cancel"),
}


def command_body(register: str, action: str, form: dict[str, str]) -> dict[str, Any] | None:
    """The body of a row's command from its form's inputs (None: the command takes none)."""
    if action in ("cancel", "revoke"):
        return without_empty({"reason": text(form.get("reason", ""))})
    if register == "keys" and action == "issue":
        return key_issue_body(form.get("to", ""), form.get("purpose", ""), form.get("signer", ""))
    if register == "keys" and action == "return":
        return key_return_body(form.get("by", ""), form.get("note", ""))
    if register == "parcels" and action == "collect":
        return collect_body(form.get("collected_by", ""), form.get("collector", ""), form.get("nominated_by", ""))
    if register == "documents" and action == "ready":
        return without_empty({"pickup_location": text(form.get("pickup_location", ""))})
    if register == "documents" and action == "collect":
        collected_by = form.get("collected_by", "")
        return without_empty({"collected_by": text(collected_by), "signature": signature(collected_by)})
    return None
