"""Backward-compatibility check of event schemas within one major version.

A schema may evolve inside ``v<major>`` only in ways that keep every document valid under the old schema
valid under the new one, and keep the fields consumers read: adding an optional property, widening a
type, adding an enum value, relaxing a bound are fine; everything ``breaking_changes`` lists needs a new
major version (a new event type ``...v<major+1>`` with its own schema, subject and consumers).

``python -m pm_platform.compat [contracts_dir]`` compares ``events/*.schema.json`` with
``baseline/*.schema.json`` and exits 1 listing the breaking changes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Keywords whose value may only go down (old data must still pass) and those that may only go up.
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


def _join(path: str, key: str) -> str:
    return f"{path}/{key}" if path else key


def _at(path: str) -> str:
    return path or "(root)"


def _types(schema: dict[str, Any]) -> set[str] | None:
    value = schema.get("type")
    if value is None:
        return None
    return {value} if isinstance(value, str) else set(value)


def _type_changes(old: dict[str, Any], new: dict[str, Any], path: str) -> list[str]:
    old_types, new_types = _types(old), _types(new)
    if new_types is None:
        return []
    if old_types is None:
        return [f"{_at(path)}: type restricted to {sorted(new_types)}"]
    # An integer is a number: "integer" -> "number" widens, it loses nothing.
    lost = {t for t in old_types - new_types if not (t == "integer" and "number" in new_types)}
    return [f"{_at(path)}: type narrowed, lost {sorted(lost)}"] if lost else []


def _enum_changes(old: dict[str, Any], new: dict[str, Any], path: str) -> list[str]:
    if "enum" not in new:
        return []
    if "enum" not in old:
        return [f"{_at(path)}: enum added {new['enum']!r}"]
    lost = [value for value in old["enum"] if value not in new["enum"]]
    return [f"{_at(path)}: enum lost {value!r}" for value in lost]


def _keyword_changes(old: dict[str, Any], new: dict[str, Any], path: str) -> list[str]:
    changes: list[str] = []
    for keyword in ("const", "pattern", "format", "$ref"):
        if keyword in new and (keyword not in old or old[keyword] != new[keyword]):
            before = f"from {old[keyword]!r} " if keyword in old else ""
            changes.append(f"{_at(path)}: {keyword} changed {before}to {new[keyword]!r}")
    for keyword in _LOWER_BOUNDS:
        if keyword in new and (keyword not in old or new[keyword] > old[keyword]):
            before = f"from {old[keyword]!r} " if keyword in old else ""
            changes.append(f"{_at(path)}: {keyword} raised {before}to {new[keyword]!r}")
    for keyword in _UPPER_BOUNDS:
        if keyword in new and (keyword not in old or new[keyword] < old[keyword]):
            before = f"from {old[keyword]!r} " if keyword in old else ""
            changes.append(f"{_at(path)}: {keyword} lowered {before}to {new[keyword]!r}")
    return changes


def _object_changes(old: dict[str, Any], new: dict[str, Any], path: str) -> list[str]:
    changes: list[str] = []
    old_properties: dict[str, Any] = old.get("properties", {})
    new_properties: dict[str, Any] = new.get("properties", {})
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in old_properties:
        if name not in new_properties:
            changes.append(f"{_join(path, name)}: property removed")
    for name in sorted(new_required - old_required):
        changes.append(f"{_join(path, name)}: became required")
    # Consumers read required fields without checking; an optional one may be missing.
    for name in sorted(old_required - new_required):
        changes.append(f"{_join(path, name)}: no longer required")
    for name, old_property in old_properties.items():
        if name in new_properties:
            changes += breaking_changes(old_property, new_properties[name], _join(path, name))
    old_additional = old.get("additionalProperties", True)
    new_additional = new.get("additionalProperties", True)
    if new_additional is False and old_additional is not False:
        changes.append(f"{_at(path)}: additionalProperties became false")
    elif isinstance(old_additional, dict) and isinstance(new_additional, dict):
        changes += breaking_changes(old_additional, new_additional, _join(path, "additionalProperties"))
    return changes


def _nested_changes(old: dict[str, Any], new: dict[str, Any], path: str) -> list[str]:
    changes: list[str] = []
    if "items" in old and "items" in new:
        changes += breaking_changes(old["items"], new["items"], _join(path, "items"))
    elif "items" in new:
        changes += breaking_changes(True, new["items"], _join(path, "items"))
    for keyword in ("oneOf", "anyOf"):
        old_branches: list[Any] = old.get(keyword, [])
        new_branches: list[Any] = new.get(keyword, [])
        if keyword in new and keyword not in old:
            changes.append(f"{_at(path)}: {keyword} added")
        elif len(new_branches) < len(old_branches):
            changes.append(f"{_join(path, keyword)}: branches reduced from {len(old_branches)} to {len(new_branches)}")
        for index, (old_branch, new_branch) in enumerate(zip(old_branches, new_branches, strict=False)):
            changes += breaking_changes(old_branch, new_branch, _join(path, f"{keyword}/{index}"))
    old_defs: dict[str, Any] = old.get("$defs", {})
    new_defs: dict[str, Any] = new.get("$defs", {})
    for name, old_def in old_defs.items():
        if name not in new_defs:
            changes.append(f"{_join(path, '$defs/' + name)}: definition removed")
        else:
            changes += breaking_changes(old_def, new_defs[name], _join(path, "$defs/" + name))
    return changes


def breaking_changes(old: Any, new: Any, path: str = "") -> list[str]:
    """The changes from schema ``old`` to schema ``new`` that break producers' old data or consumers.

    Each message names the JSON path of the property (``data/reporter/name: became required``).
    """
    if new is False and old is not False:
        return [f"{_at(path)}: schema became false"]
    if not isinstance(new, dict):
        return []
    if not isinstance(old, dict):
        old = {} if old is True else new  # an old ``false`` schema accepted nothing: nothing can break
    return (
        _type_changes(old, new, path)
        + _enum_changes(old, new, path)
        + _keyword_changes(old, new, path)
        + _object_changes(old, new, path)
        + _nested_changes(old, new, path)
    )


def compare_directories(current: Path, baseline: Path) -> list[str]:
    """Breaking changes of every ``current/*.schema.json`` against the file of the same name in ``baseline``.

    A schema without a baseline is new (fine); a baseline whose schema disappeared is breaking.
    """
    changes: list[str] = []
    for baseline_file in sorted(baseline.glob("*.schema.json")):
        name = baseline_file.name.removesuffix(".schema.json")
        current_file = current / baseline_file.name
        if not current_file.exists():
            changes.append(f"{name}: schema removed (the baseline has it)")
            continue
        old = json.loads(baseline_file.read_text(encoding="utf-8"))
        new = json.loads(current_file.read_text(encoding="utf-8"))
        changes += [f"{name}: {change}" for change in breaking_changes(old, new, "data")]
    return changes


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        contracts_dir = Path(args[0])
    else:
        from pm_platform.settings import Settings

        contracts_dir = Settings().contracts_dir
    changes = compare_directories(contracts_dir / "events", contracts_dir / "baseline")
    for change in changes:
        print(change)
    if changes:
        print(f"{len(changes)} breaking change(s): publish a new major version instead", file=sys.stderr)
        return 1
    print(f"no breaking changes in {contracts_dir / 'events'} against {contracts_dir / 'baseline'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
