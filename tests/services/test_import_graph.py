"""No import cycle inside a service: its domain packages (request, incident, workorder, ...) import each other in
one direction only, so a module can be read, moved and loaded without the rest of the circle. Imports inside
functions count too (a deferred import only hides a cycle). Read from the source with ``ast``: nothing is imported."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
NAMES = sorted(p.name for p in SERVICES.iterdir() if (p / p.name / "__init__.py").is_file())


def modules(service: str) -> dict[str, Path]:
    """Every module of the service's package by dotted name (migrations are generated, not imported)."""
    root = SERVICES / service
    found = {}
    for path in (root / service).rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imported(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The service's own modules that ``module`` imports, anywhere in its body."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                # `from pkg import module` names a module; `from module import name` names the module.
                names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {name for name in names if name in known and name != module}


def import_graph(service: str) -> dict[str, set[str]]:
    known = modules(service)
    return {module: imported(module, path, known) for module, path in known.items()}


@pytest.mark.parametrize("service", NAMES)
def test_no_import_cycle(service: str) -> None:
    graph = import_graph(service)
    assert graph, f"no modules found for {service}"
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        pytest.fail(f"{service} has an import cycle: {' -> '.join(exc.args[1])}")


def test_the_check_sees_a_deferred_import(tmp_path: Path) -> None:
    """The graph counts an import inside a function, the way the request/incident circle was hidden."""
    package = tmp_path / "svc"
    (package / "a").mkdir(parents=True)
    (package / "b").mkdir()
    for path in (package / "__init__.py", package / "a" / "__init__.py", package / "b" / "__init__.py"):
        path.write_text("")
    (package / "a" / "service.py").write_text("from svc.b import service as other\n")
    (package / "b" / "service.py").write_text("def f() -> None:\n    from svc.a.service import other\n")
    known = {
        "svc.a.service": package / "a" / "service.py",
        "svc.b.service": package / "b" / "service.py",
    }
    assert imported("svc.a.service", known["svc.a.service"], known) == {"svc.b.service"}
    assert imported("svc.b.service", known["svc.b.service"], known) == {"svc.a.service"}
