"""The README's "Where things live" table and the source tree say the same thing."""

from __future__ import annotations

import ast
import re

from .conftest import REPO

SRC = REPO / "src" / "chipwar"


def _table() -> str:
    readme = (REPO / "README.md").read_text("utf-8")
    return readme.split("## Where things live", 1)[1].split("\n## ", 1)[0]


def _listed() -> set[str]:
    """Every module the table names: `x.py` rows, and `name.py` items inside a package's row."""
    out: set[str] = set()
    for row in re.findall(r"^\| `([^`]+)` \| (.*) \|$", _table(), re.M):
        name, holds = row
        if name.endswith("/"):
            out |= {name + m for m in re.findall(r"`([a-z_]+\.py)`", holds)}
        else:
            out.add(name)
    return out


def _modules() -> set[str]:
    return {p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py")
            if p.name not in ("__main__.py",) and not (p.name == "__init__.py" and p.parent == SRC)
            and not (p.name == "__init__.py" and p.parent.name != "cli")}


def test_the_table_lists_every_module_and_only_those() -> None:
    assert _listed() == _modules()


def test_every_module_says_first_what_it_holds() -> None:
    for path in SRC.rglob("*.py"):
        doc = ast.get_docstring(ast.parse(path.read_text("utf-8")))
        assert doc and len(doc.splitlines()[0]) > 20, f"{path.relative_to(REPO)}: no first line saying what it holds"


def test_no_module_imports_the_cli_or_click_outside_it() -> None:
    for path in SRC.rglob("*.py"):
        if "cli" in path.relative_to(SRC).parts or path.name == "__main__.py":
            continue
        text = path.read_text("utf-8")
        assert "import click" not in text and ".cli" not in re.sub(r'""".*?"""', "", text, flags=re.S), path


def test_no_import_cycles() -> None:
    """The import graph of chipwar's modules (module-level and deferred imports alike) has no cycle."""
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                deps.add(target)
                deps |= {f"{target}.{a.name}" for a in node.names}
        graph[name] = deps
    graph = {k: {d for d in v if d in graph and d != k} for k, v in graph.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1 and not (dep == node.rpartition(".")[0]):
                raise AssertionError("import cycle: " + " -> ".join([*trail, node, dep]))
            if dep not in state:
                visit(dep, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
