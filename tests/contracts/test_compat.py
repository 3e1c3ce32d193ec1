"""The backward-compatibility checker on small hand-written schema pairs, and its command line."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pm_platform.compat import breaking_changes, compare_directories, main
from pm_platform.settings import REPO_ROOT

BASE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "reporter"],
    "additionalProperties": True,
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-z0-9-]+$"},
        "amount": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000},
        "when": {"type": "string", "format": "date-time"},
        "kind": {"enum": ["repair", "complaint"]},
        "version": {"const": 1},
        "reporter": {
            "type": "object",
            "required": ["party_id"],
            "properties": {"party_id": {"type": "string"}, "name": {"type": "string"}},
        },
        "parts": {"type": "array", "items": {"type": "string", "maxLength": 120}},
        "charge": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {"item": {"type": "string"}}}]},
        "contact": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "site": {"$ref": "#/$defs/token"},
    },
    "$defs": {"token": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}},
}


def evolve(change: str, value: Any) -> dict[str, Any]:
    """A copy of BASE with the JSON pointer ``change`` (``/properties/id/minLength``) set, or removed if None."""
    schema = copy.deepcopy(BASE)
    *parents, last = change.strip("/").split("/")
    node: Any = schema
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return schema


def test_identical_schemas_have_no_breaking_changes() -> None:
    assert breaking_changes(BASE, copy.deepcopy(BASE), "data") == []


@pytest.mark.parametrize(
    ("change", "value", "expected"),
    [
        ("/properties/amount", None, "data/amount: property removed"),
        ("/properties/reporter/properties/name", None, "data/reporter/name: property removed"),
        ("/required", ["id", "reporter", "kind"], "data/kind: became required"),
        ("/properties/reporter/required", ["party_id", "name"], "data/reporter/name: became required"),
        ("/required", ["id"], "data/reporter: no longer required"),
        ("/properties/amount/type", "integer", "data/amount: type narrowed, lost ['null']"),
        ("/properties/amount/type", ["number", "null"], None),  # widening integer -> number is fine
        ("/properties/kind/type", "string", "data/kind: type restricted to ['string']"),
        ("/properties/kind/enum", ["repair"], "data/kind: enum lost 'complaint'"),
        ("/properties/id/enum", ["a"], "data/id: enum added ['a']"),
        ("/properties/version/const", 2, "data/version: const changed from 1 to 2"),
        ("/properties/amount/minimum", 1, "data/amount: minimum raised from 0 to 1"),
        ("/properties/amount/maximum", 999, "data/amount: maximum lowered from 1000 to 999"),
        ("/properties/amount/exclusiveMinimum", 0, "data/amount: exclusiveMinimum raised to 0"),
        ("/properties/id/minLength", 2, "data/id: minLength raised from 1 to 2"),
        ("/properties/id/maxLength", 32, "data/id: maxLength lowered from 64 to 32"),
        ("/properties/reporter/properties/name/maxLength", 10, "data/reporter/name: maxLength lowered to 10"),
        ("/properties/id/pattern", "^[a-z]+$", "data/id: pattern changed from '^[a-z0-9-]+$' to '^[a-z]+$'"),
        ("/properties/reporter/properties/name/pattern", "^x", "data/reporter/name: pattern changed to '^x'"),
        ("/properties/when/format", "date", "data/when: format changed from 'date-time' to 'date'"),
        ("/properties/id/format", "uuid", "data/id: format changed to 'uuid'"),
        ("/additionalProperties", False, "data: additionalProperties became false"),
        ("/properties/reporter/additionalProperties", False, "data/reporter: additionalProperties became false"),
        ("/properties/parts/items/maxLength", 60, "data/parts/items: maxLength lowered from 120 to 60"),
        ("/properties/parts/items/type", "integer", "data/parts/items: type narrowed, lost ['string']"),
        ("/properties/charge/oneOf", [{"type": "null"}], "data/charge/oneOf: branches reduced from 2 to 1"),
        ("/properties/contact/anyOf", [{"type": "string"}], "data/contact/anyOf: branches reduced from 2 to 1"),
        ("/properties/charge/oneOf/1/required", ["item"], "data/charge/oneOf/1/item: became required"),
        (
            "/properties/charge/oneOf/1/properties/item/type",
            "integer",
            "data/charge/oneOf/1/item: type narrowed, lost ['string']",
        ),
        ("/$defs/token/pattern", "^[a-z]{1,8}$", "data/$defs/token: pattern changed"),
        ("/$defs/token", None, "data/$defs/token: definition removed"),
        ("/properties/site/$ref", "#/$defs/other", "data/site: $ref changed from '#/$defs/token' to '#/$defs/other'"),
        ("/properties/when", False, "data/when: schema became false"),
    ],
)
def test_each_rule_is_detected(change: str, value: Any, expected: str | None) -> None:
    changes = breaking_changes(BASE, evolve(change, value), "data")
    if expected is None:
        assert changes == []
    else:
        assert len(changes) == 1, changes
        assert changes[0].startswith(expected), changes


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("/properties/note", {"type": "string"}),  # a new optional property
        ("/properties/reporter/properties/email", {"type": ["string", "null"]}),
        ("/properties/id/type", ["string", "null"]),  # widened
        ("/properties/kind/enum", ["repair", "complaint", "praise"]),  # a value added
        ("/properties/amount/minimum", None),  # bounds relaxed or dropped
        ("/properties/amount/maximum", 5000),
        ("/properties/id/minLength", 0),
        ("/properties/id/maxLength", 128),
        ("/properties/id/pattern", None),
        ("/properties/when/format", None),
        ("/properties/version/const", None),
        ("/properties/charge/oneOf", [*BASE["properties"]["charge"]["oneOf"], {"type": "string"}]),
        ("/properties/parts/items", {}),
        ("/$defs/other", {"type": "integer"}),
        ("/description", "A description changed"),
    ],
)
def test_compatible_evolutions_are_not_breaking(change: str, value: Any) -> None:
    assert breaking_changes(BASE, evolve(change, value), "data") == []


def test_additional_properties_from_false_to_true_is_not_breaking() -> None:
    old = {"type": "object", "additionalProperties": False, "properties": {"a": {"type": "string"}}}
    new = {"type": "object", "additionalProperties": True, "properties": {"a": {"type": "string"}}}
    assert breaking_changes(old, new) == []
    assert breaking_changes(new, old) == ["(root): additionalProperties became false"]


def test_several_changes_are_all_listed() -> None:
    new = evolve("/properties/amount", None)
    new["properties"]["kind"]["enum"] = []
    new["required"].append("when")
    changes = breaking_changes(BASE, new, "data")
    assert "data/amount: property removed" in changes
    assert "data/when: became required" in changes
    assert "data/kind: enum lost 'repair'" in changes
    assert "data/kind: enum lost 'complaint'" in changes


def _write(directory: Path, name: str, schema: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.schema.json").write_text(json.dumps(schema), encoding="utf-8")


def test_compare_directories(tmp_path: Path) -> None:
    _write(tmp_path / "baseline", "a.thing.done.v1", BASE)
    _write(tmp_path / "events", "a.thing.done.v1", evolve("/properties/id/maxLength", 10))
    _write(tmp_path / "events", "a.thing.done.v2", {"type": "object"})  # new: no baseline, fine
    _write(tmp_path / "baseline", "a.thing.gone.v1", BASE)  # its schema disappeared
    assert compare_directories(tmp_path / "events", tmp_path / "baseline") == [
        "a.thing.done.v1: data/id: maxLength lowered from 64 to 10",
        "a.thing.gone.v1: schema removed (the baseline has it)",
    ]


def test_cli_exits_1_and_prints_breaking_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "baseline", "a.thing.done.v1", BASE)
    _write(tmp_path / "events", "a.thing.done.v1", evolve("/required", ["id", "reporter", "when"]))
    assert main([str(tmp_path)]) == 1
    assert "a.thing.done.v1: data/when: became required" in capsys.readouterr().out


def test_cli_exits_0_when_compatible(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "baseline", "a.thing.done.v1", BASE)
    _write(tmp_path / "events", "a.thing.done.v1", evolve("/properties/note", {"type": "string"}))
    assert main([str(tmp_path)]) == 0
    assert "no breaking changes" in capsys.readouterr().out


def test_cli_as_a_module_on_the_repository_contracts() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pm_platform.compat"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no breaking changes" in result.stdout
