"""Contracts from ``contracts/``: the catalog and one JSON Schema per event type and major version.

The schemas are the source of truth; producers validate before writing to the outbox and consumers
validate on receipt.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import pydantic
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from pm_platform.envelope import Envelope, parse_utc


class ContractViolation(ValueError):
    """A payload breaks its contract: permanent, never retried."""


@dataclass(frozen=True)
class EventContract:
    type: str  # e.g. intake.request.created.v1
    subject: str  # pattern, e.g. intake.request.created.v1.{site}
    producer: str
    consumers: tuple[str, ...]
    schema_path: Path
    examples: tuple[Path, ...]
    description: str = ""

    @property
    def event_type(self) -> str:
        return self.type.rsplit(".", 1)[0]

    @property
    def version(self) -> int:
        return int(self.type.rsplit(".v", 1)[1])

    @property
    def dataschema(self) -> str:
        return f"urn:pm:contracts:{self.type}"

    @property
    def has_department(self) -> bool:
        return "{department}" in self.subject


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def is_instant(value: object) -> bool:
    """``format: date-time``: an RFC 3339 time the platform can hold. RFC 3339 also allows a leap second
    (``23:59:60``) and instants that leave years 1-9999 once moved to UTC (``0001-01-01T00:00:00+01:00``);
    Python's datetime holds neither, so such a time would only fail later, inside a handler."""
    if not isinstance(value, str):
        return True  # a format constrains strings only
    if _RFC3339.fullmatch(value) is None:
        return False
    try:
        parse_utc(value.upper())
    except (ValueError, OverflowError):
        return False
    return True


_FORMATS = FormatChecker(formats=Draft202012Validator.FORMAT_CHECKER.checkers)
_FORMATS.checks("date-time")(is_instant)


class _Validator:
    """Draft 2020-12 with formats: jsonschema-rs answers "valid?" in about a microsecond (every event
    passes here twice); the reference implementation words the error when the answer is no."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.fast = jsonschema_rs.Draft202012Validator(schema, validate_formats=True, formats={"date-time": is_instant})
        self.reference = Draft202012Validator(schema, format_checker=_FORMATS)

    def first_error(self, instance: Any) -> ValidationError | None:
        if self.fast.is_valid(instance):
            return None
        return best_match(self.reference.iter_errors(instance))


@dataclass
class Catalog:
    root: Path
    envelope_schema: dict[str, Any]
    events: dict[str, EventContract]
    _validators: dict[str, _Validator] = field(default_factory=dict)

    def contract(self, event_type: str) -> EventContract:
        try:
            return self.events[event_type]
        except KeyError:
            raise ContractViolation(f"type: {event_type!r} is not in the contract catalog") from None

    def schema(self, event_type: str) -> dict[str, Any]:
        return _load_json(self.contract(event_type).schema_path)

    def _validator(self, key: str, schema: dict[str, Any]) -> _Validator:
        validator = self._validators.get(key)
        if validator is None:
            validator = _Validator(schema)
            self._validators[key] = validator
        return validator

    def validate_data(self, event_type: str, data: Any) -> None:
        error = self._validator(event_type, self.schema(event_type)).first_error(data)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise ContractViolation(f"data/{where}: {_clip(error.message)}")

    def parse(self, raw: bytes | str | dict[str, Any]) -> Envelope:
        """Decode and validate a received event (envelope and data); raise ContractViolation and nothing
        else, whatever the body holds: a consumer dead-letters a violation and goes on."""
        if isinstance(raw, dict):
            document = raw
        else:
            try:
                document = json.loads(raw, parse_constant=_not_json, parse_float=_finite)
            except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
                raise ContractViolation(f"body is not JSON: {type(exc).__name__}: {_clip(str(exc))}") from None
        try:
            return self._parse_document(document)
        except RecursionError:
            raise ContractViolation("(root): nested too deeply to validate") from None
        except UnicodeError as exc:  # a lone surrogate (\\ud800) decodes from JSON but is not Unicode text
            raise ContractViolation(f"(root): a string is not Unicode text: {_clip(str(exc))}") from None
        except pydantic.ValidationError as exc:  # what the schema lets through and the model does not
            error = exc.errors()[0]
            where = "/".join(str(p) for p in error["loc"]) or "(root)"
            raise ContractViolation(f"{where}: {_clip(error['msg'])}") from None

    def _parse_document(self, document: Any) -> Envelope:
        self._check_document(document)
        return Envelope.model_validate(document)

    def _check_document(self, document: Any) -> None:
        envelope_error = self._validator("$envelope", self.envelope_schema).first_error(document)
        if envelope_error is not None:
            where = "/".join(str(p) for p in envelope_error.absolute_path) or "(root)"
            raise ContractViolation(f"{where}: {_clip(envelope_error.message)}")
        self.validate_data(document["type"], document["data"])
        self._check_agreement(document)

    def _check_agreement(self, document: dict[str, Any]) -> None:
        """The envelope must say what its catalog entry says: a consumer receives what any producer wrote."""
        contract = self.contract(document["type"])
        if contract.has_department != bool(document.get("department")):
            expected = "required" if contract.has_department else "not allowed"
            raise ContractViolation(f"department: {expected} for {contract.type}")
        if document["source"] != f"pm/{contract.producer}":
            raise ContractViolation(
                f"source: {document['source']!r} does not produce {contract.type} "
                f"(the catalog says pm/{contract.producer})"
            )
        if document.get("dataschema") != contract.dataschema:
            raise ContractViolation(f"dataschema: {document.get('dataschema')!r} is not {contract.dataschema!r}")
        data = document["data"]
        if isinstance(data, dict) and "site" in data and data["site"] != document["site"]:
            raise ContractViolation(f"site: the envelope says {document['site']!r}, data/site {data['site']!r}")

    def check(self, envelope: Envelope) -> bytes:
        """Validate an event about to be written to the outbox as its consumers will read it (the JSON on the wire:
        the envelope schema, the data's schema, the catalog's terms) and return that JSON for the outbox. The
        Envelope model itself is not validated again: it was, when it was built."""
        body = envelope.to_json()
        try:
            document = _DECODER.decode(body.decode("utf-8", "surrogatepass"))  # as json.loads reads UTF-8 bytes
        except (ValueError, RecursionError) as exc:
            raise ContractViolation(f"(root): not JSON as written: {type(exc).__name__}: {_clip(str(exc))}") from None
        self._check_document(document)
        return body


def _not_json(constant: str) -> float:
    raise ValueError(f"{constant} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{_clip(text, 40)} is out of range for a number")
    return number


# The decoder a check reads its JSON with, as json.loads(body, parse_constant=..., parse_float=...) builds at each call.
_DECODER = json.JSONDecoder(parse_constant=_not_json, parse_float=_finite)


def _clip(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


@cache
def _load_json(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@cache
def load_catalog(root: Path) -> Catalog:
    document = yaml.safe_load((root / "catalog.yaml").read_text(encoding="utf-8"))
    events = {
        event_type: EventContract(
            type=event_type,
            subject=entry["subject"],
            producer=entry["producer"],
            consumers=tuple(entry.get("consumers", [])),
            schema_path=root / entry["schema"],
            examples=tuple(root / example for example in entry.get("examples", [])),
            description=entry.get("description", ""),
        )
        for event_type, entry in document["events"].items()
    }
    return Catalog(root=root, envelope_schema=_load_json(root / document["envelope"]), events=events)
