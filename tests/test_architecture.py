"""The house rules of ``readiness/``, read from its source: no import cycles, no pytest, parsing only in cli.py.

The import graph is built with ``ast`` over every module, counting imports inside functions too (a
lazy import hides a cycle from Python, not from a reader).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "readiness"


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every module name ``path`` imports, at any depth of its code, relative imports resolved."""
    own = module_name(path, root)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (``from pkg import mod`` counts as importing ``mod``)."""
    modules = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    graph = {}
    for name, path in modules.items():
        graph[name] = {imported for imported in imported_names(path, root) if imported in modules and imported != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None when the graph is acyclic."""
    visiting, done = [], set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return visiting[visiting.index(node):] + [node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(graph[node]):
            if cycle := visit(target):
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        if cycle := visit(start):
            return cycle
    return None


def test_no_module_of_readiness_imports_in_a_circle():
    graph = import_graph()
    assert len(graph) > 40, "the walk found too few modules: is PACKAGE right?"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_check_sees_lazy_and_relative_imports(tmp_path):
    package = tmp_path / "readiness"
    (package / "report").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "report" / "__init__.py").write_text("")
    (package / "report" / "packets.py").write_text("from . import proof\n")
    (package / "report" / "proof.py").write_text("def late():\n    from readiness.report import packets\n")
    assert find_cycle(import_graph(package)) == ["readiness.report.packets", "readiness.report.proof",
                                                  "readiness.report.packets"]
    (package / "report" / "proof.py").write_text("def late():\n    return 1\n")
    assert find_cycle(import_graph(package)) is None


@pytest.mark.parametrize("forbidden, allowed_in", [("pytest", set()), ("_pytest", set()), ("pytest_bdd", set()),
                                                   ("argparse", {"readiness.cli"})])
def test_the_library_imports_no_test_framework_and_parses_arguments_only_in_cli(forbidden, allowed_in):
    offenders = sorted(
        module_name(path) for path in PACKAGE.rglob("*.py")
        if module_name(path) not in allowed_in
        and any(name == forbidden or name.startswith(forbidden + ".") for name in imported_names(path))
    )
    assert offenders == [], f"{forbidden} imported by {offenders}"


def test_cli_registers_each_command_once_and_each_parses_its_own_help():
    from readiness import cli

    names = [command.name for command in cli.COMMANDS]
    assert len(names) == len(set(names)), names
    for name in names:
        with pytest.raises(SystemExit) as done:
            cli.main([name, "--help"])
        assert done.value.code == 0, name
