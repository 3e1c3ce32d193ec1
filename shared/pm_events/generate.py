"""Generate the event models from ``contracts/events/*.schema.json`` with datamodel-code-generator.

``python -m pm_events.generate`` rewrites ``shared/pm_events/<producer>.py``; ``--check`` only reports the
modules that differ from what the schemas give (``make lint`` runs it). Development only: the generator and
ruff are not runtime dependencies of pm_events.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"
PACKAGE = Path(__file__).resolve().parent
COMMAND = "python -m pm_events.generate"

# Words of an event type that read as two in a class name.
WORDS = {"workorder": "WorkOrder", "timelimit": "TimeLimit", "followup": "Followup"}


def class_name(event_type: str) -> str:
    """``dispatch.workorder.timelimit.v1`` -> ``WorkOrderTimeLimit`` (``...V2`` from the second major on)."""
    _, aggregate, event, version = event_type.split(".")
    words = [WORDS.get(part, part.capitalize()) for part in [aggregate, *event.split("_")]]
    suffix = "" if version == "v1" else version.upper()
    return "".join(words) + suffix


def _generate_one(schema_path: Path, name: str) -> str:
    from datamodel_code_generator import generate
    from datamodel_code_generator.enums import DataModelType, InputFileType
    from datamodel_code_generator.format import PythonVersion
    from datamodel_code_generator.parser import LiteralType

    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "model.py"
        generate(
            schema_path,
            input_file_type=InputFileType.JsonSchema,
            output=output,
            output_model_type=DataModelType.PydanticV2BaseModel,
            target_python_version=PythonVersion.PY_311,
            class_name=name,
            base_class="pm_events.base.Payload",
            base_class_map={name: "pm_events.base.Event"},
            parent_scoped_naming=True,
            # Instants and days stay the RFC 3339 text they travel as: a payload is written byte for byte
            # as the producer gave it, and a consumer parses it where it needs the instant (parse_utc).
            type_mappings=["string+date-time=string", "string+date=string"],
            enum_field_as_literal=LiteralType.All,
            use_annotated=True,
            use_type_alias=True,
            collapse_root_models=True,
            use_standard_collections=True,
            use_union_operator=True,
            disable_timestamp=True,
            formatters=[],
        )
        return output.read_text()


def _split(code: str) -> tuple[list[str], str]:
    """A generated module's import lines and its body (the classes)."""
    lines = code.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(("class ", "@")) or " = " in line)
    imports = [line for line in lines[:first] if line.startswith(("from ", "import ")) and "__future__" not in line]
    return imports, "\n".join(lines[first:]).strip() + "\n"


def _merge_imports(lines: list[str]) -> list[str]:
    names: dict[str, set[str]] = {}
    for line in lines:
        module, _, imported = line.removeprefix("from ").partition(" import ")
        names.setdefault(module, set()).update(n.strip() for n in imported.split(","))
    return [f"from {module} import {', '.join(sorted(names[module]))}" for module in sorted(names)]


def _format(code: str, filename: str) -> str:
    fixed = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--fix-only", "--select", "I", "--stdin-filename", filename, "-"],
        input=code,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    return subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", filename, "-"],
        input=fixed,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout


def _catalog_schemas(contracts: Path) -> dict[str, Path]:
    import yaml

    catalog: dict[str, Any] = yaml.safe_load((contracts / "catalog.yaml").read_text())
    return {event_type: contracts / entry["schema"] for event_type, entry in sorted(catalog["events"].items())}


def render(contracts: Path = CONTRACTS) -> dict[str, str]:
    """Every generated module's text, by file name (``intake.py``), one per producing service."""
    by_producer: dict[str, list[tuple[str, Path]]] = {}
    for event_type, schema_path in _catalog_schemas(contracts).items():
        by_producer.setdefault(event_type.split(".")[0], []).append((event_type, schema_path))
    modules: dict[str, str] = {}
    for producer, events in sorted(by_producer.items()):
        imports = ["from typing import ClassVar"]
        bodies = []
        registry = []
        for event_type, schema_path in events:
            name = class_name(event_type)
            module_imports, body = _split(_generate_one(schema_path, name))
            imports += module_imports
            header = f"class {name}(Event):\n"
            title = json.loads(schema_path.read_text()).get("title", event_type)
            docstring = f'    """{title} ({event_type})."""\n\n'
            body = body.replace(header, f'{header}{docstring}    event_type: ClassVar[str] = "{event_type}"\n', 1)
            bodies.append(body)
            registry.append(f'    "{event_type}": {name},')
        code = "\n".join(
            [
                f'"""Events produced by {producer}: one model per contract in contracts/events/.',
                "",
                f"Generated by `{COMMAND}` (datamodel-code-generator) from the schemas; do not edit by hand.",
                '"""',
                "",
                "from __future__ import annotations",
                "",
                *_merge_imports(imports),
                "",
                "",
                "\n\n".join(bodies),
                "",
                f"EVENTS: dict[str, type[Event]] = {{\n{chr(10).join(registry)}\n}}",
                "",
            ]
        )
        modules[f"{producer}.py"] = _format(code, f"shared/pm_events/{producer}.py")
    return modules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if a generated module is out of date")
    args = parser.parse_args(argv)
    stale = []
    for filename, code in render().items():
        path = PACKAGE / filename
        if path.exists() and path.read_text() == code:
            continue
        stale.append(filename)
        if not args.check:
            path.write_text(code)
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run `{COMMAND}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
