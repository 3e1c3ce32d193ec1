"""Catalog.parse on hostile input, no server: every input raises ContractViolation or returns an Envelope
whose time converts to UTC, never anything else (a stray exception stops a consumer)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings

from pm_platform.consumer import _storable, _storable_payload, is_poison
from pm_platform.contracts import ContractViolation, is_instant, load_catalog
from pm_platform.envelope import Envelope, as_utc
from pm_platform.settings import REPO_ROOT
from tests.platform.hostile import DEEP_ARRAY, LEAP_SECOND, encode, hostile_bodies, hostile_envelope, valid_envelope

CATALOG = load_catalog(REPO_ROOT / "contracts")
EVENT_TYPES = sorted(CATALOG.events)
FAST = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def parse_or_violation(raw: bytes) -> Envelope | None:
    try:
        envelope = CATALOG.parse(raw)
    except ContractViolation:
        return None
    as_utc(envelope.time)  # what a handler does with it must not fail either
    return envelope


def test_the_reported_deep_array_is_a_contract_violation() -> None:
    with pytest.raises(ContractViolation, match="not JSON"):
        CATALOG.parse(DEEP_ARRAY)


def test_the_reported_leap_second_is_a_contract_violation_naming_the_field() -> None:
    document = valid_envelope(CATALOG, "intake.request.created.v1")
    document["time"] = LEAP_SECOND
    with pytest.raises(ContractViolation, match=r"^time: "):
        CATALOG.parse(json.dumps(document).encode())


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_contract_example_still_parses(event_type: str) -> None:
    contract = CATALOG.contract(event_type)
    for index in range(len(contract.examples)):
        assert CATALOG.parse(encode(valid_envelope(CATALOG, event_type, index))).type == event_type


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b"{" * 50_000,
        b'{"a":' * 20_000,
        b"1" * 5000,
        b"NaN",
        b'{"a": Infinity}',
        b'{"a": 1e999}',
        b"\xff\xfe\x00",
        b"",
        b"null",
        b"[]",
    ],
)
def test_bodies_that_are_not_usable_json_are_violations(body: bytes) -> None:
    with pytest.raises(ContractViolation):
        CATALOG.parse(body)


def test_deep_nesting_inside_valid_data_is_a_violation_or_an_envelope() -> None:
    document = valid_envelope(CATALOG, "intake.request.created.v1")
    for depth in (500, 900, 990, 1500, 5000):
        document["data"]["location"] = f"<nested:{depth}>"
        assert parse_or_violation(encode(document)) is None


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2026-11-23T08:00:00Z", True),
        ("2026-11-23T08:00:00.123456+08:00", True),
        ("2026-11-23t08:00:00z", True),
        ("0001-01-01T00:00:00Z", True),
        ("9999-12-31T23:59:59Z", True),
        (LEAP_SECOND, False),
        ("0001-01-01T00:00:00+01:00", False),
        ("9999-12-31T23:59:59-01:00", False),
        ("2026-02-30T00:00:00Z", False),
        ("2026-11-23T08:00:00", False),
        ("2026-11-23", False),
        ("junk", False),
        (17, True),  # a format constrains strings only; the type is the schema's business
    ],
)
def test_a_date_time_is_an_instant_the_platform_can_hold(value: object, valid: bool) -> None:
    assert is_instant(value) is valid


@FAST
@given(body=hostile_bodies(CATALOG, EVENT_TYPES))
@example(body=DEEP_ARRAY)
@example(body=encode({**valid_envelope(CATALOG, "intake.request.created.v1"), "time": LEAP_SECOND}))
def test_any_body_is_an_envelope_or_a_contract_violation(body: bytes) -> None:
    parse_or_violation(body)


@FAST
@given(document=hostile_envelope(CATALOG, EVENT_TYPES))
def test_any_envelope_with_hostile_values_is_an_envelope_or_a_contract_violation(document: dict[str, object]) -> None:
    parse_or_violation(encode(document))


@pytest.mark.parametrize(
    ("text", "limit", "stored"),
    [
        ("plain", 64, "plain"),
        ("a\x00b", 64, "a\\x00b"),
        ("\ud800x", 64, "\\ud800x"),
        ("x" * 100, 10, "xxxxxxx..."),
        (None, 64, None),
    ],
)
def test_dead_letter_text_is_storable_on_every_backend(text: str | None, limit: int, stored: str | None) -> None:
    assert _storable(text, limit) == stored
    if stored is not None:
        stored.encode("utf-8")


def test_a_payload_is_kept_as_is_unless_it_cannot_be_stored() -> None:
    assert _storable_payload('{"a": "é"}'.encode()) == ('{"a": "é"}', False)
    assert _storable_payload(b'{"a":\x00}') == ('{"a":\\x00}', True)
    assert _storable_payload(b"\xff{}") == ("\\xff{}", True)


def test_failures_only_the_content_causes_are_poison() -> None:
    assert is_poison(RecursionError())
    assert is_poison(OverflowError("date value out of range"))
    assert is_poison(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"))
    try:
        try:
            raise OverflowError("inner")
        except OverflowError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert is_poison(outer)
    # A database that is down, a timeout, a bug: retried.
    assert not is_poison(TimeoutError("database briefly unavailable"))
    assert not is_poison(ConnectionError())
    assert not is_poison(KeyError("unit_area"))
