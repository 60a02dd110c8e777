"""The house plan, checked on the source: no import cycle, and the arrows point down.

Every module of src/omnioffer and training/ is parsed (nothing is imported). An edge is
any import a module runs: top-level, lazy ones inside functions, `importlib`
reach-backs (`import_module("...")`) and uvicorn-style "module:attribute" strings;
imports under `if TYPE_CHECKING:` are for the type checker only and do not count.
See docs/architecture.md for the picture.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGES = {"omnioffer": ROOT / "src" / "omnioffer", "training": ROOT / "training"}
HEAVY = ("training", "lightgbm", "implicit", "scipy", "onnxmltools", "matplotlib")
TARGET = re.compile(r"^((?:omnioffer|training)(?:\.\w+)*)(?::\w+)?$")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top, root in PACKAGES.items():
        for path in root.rglob("*.py"):
            parts = [top, *path.relative_to(root).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, except what sits under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in (child, *_nodes(child)))
            continue
        yield node
        yield from _nodes(node)


def imports(name: str) -> set[str]:
    """Every module (of any package) that `name` imports when it runs."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            subs = {f"{base}.{a.name}" for a in node.names} & MODULES.keys()
            out.update(subs)
            if len(subs) < len(node.names):  # names from the module itself, not only submodules
                out.add(base)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = TARGET.match(node.value)
            if match and ":" in node.value and match.group(1) in MODULES:
                out.add(match.group(1))  # "omnioffer.service:app_from_env"
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.add(arg.value)
    return out


GRAPH = {name: {t for t in imports(name) if t in MODULES and t != name} for name in MODULES}


def _cycle() -> list[str] | None:
    """One import cycle among the modules, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(GRAPH):
        if start not in state and (found := visit(start)):
            return found
    return None


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_parser_sees_lazy_imports_and_reach_backs() -> None:
    assert "omnioffer.service" in GRAPH["omnioffer.server"]  # the uvicorn factory string
    assert "training.simulate.generate" in imports("omnioffer.cli.data")  # inside a function
    assert "omnioffer.version.model" in GRAPH["omnioffer.features.items"]


def test_no_import_cycle_anywhere() -> None:
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_a_cycle_would_be_found() -> None:
    GRAPH["omnioffer.features.spec"].add("omnioffer.features.items")
    try:
        assert _cycle() is not None
    finally:
        GRAPH["omnioffer.features.spec"].discard("omnioffer.features.items")


@pytest.mark.parametrize(
    ("lower", "forbidden"),
    [
        ("omnioffer.decide", ("omnioffer.api", "omnioffer.service", "omnioffer.cli")),
        ("omnioffer.features", ("omnioffer.decide", "omnioffer.api", "omnioffer.store")),
        ("omnioffer.version", ("omnioffer.decide", "omnioffer.api")),
        ("omnioffer.store", ("omnioffer.decide", "omnioffer.api", "omnioffer.features")),
        ("omnioffer.api", ("omnioffer.decide", "omnioffer.features", "omnioffer.version")),
        ("omnioffer.jobs", ("omnioffer.api", "omnioffer.cli")),
        ("training", ("omnioffer.cli", "omnioffer.api", "omnioffer.decide")),
    ],
)
def test_arrows_point_down(lower: str, forbidden: tuple[str, ...]) -> None:
    bad = sorted(
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if _under(name, lower)
        for target in targets
        if _under(target, *forbidden)
    )
    assert not bad, bad


def test_contracts_are_the_leaf() -> None:
    """contracts/ reads only itself, the errors and the feature spec (itself a leaf)."""
    allowed = ("omnioffer.contracts", "omnioffer.errors", "omnioffer.features.spec",
               "omnioffer.identity")  # fmt: skip
    bad = sorted(
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if _under(name, "omnioffer.contracts", "omnioffer.features.spec")
        for target in targets
        if _under(target, "omnioffer", "training") and not _under(target, *allowed)
    )
    assert not bad, bad


def test_only_the_cli_reaches_training_and_its_libraries() -> None:
    """The online package never imports training code or libraries (the CLI's training
    commands import them lazily, inside the command)."""
    bad = sorted(
        f"{name} -> {target}"
        for name in MODULES
        if _under(name, "omnioffer") and not _under(name, "omnioffer.cli")
        for target in imports(name)
        if _under(target, *HEAVY)
    )
    assert not bad, bad


def test_stats_is_numpy_and_the_standard_library() -> None:
    """The statistics serve the online service and training alike: numpy, the standard
    library and omnioffer's contracts and errors, nothing else (no scipy)."""
    allowed = {"numpy", "omnioffer", *sys.stdlib_module_names}
    bad = sorted(
        f"{name} -> {target}"
        for name in MODULES
        if _under(name, "omnioffer.stats")
        for target in imports(name)
        if target.partition(".")[0] not in allowed
        or (_under(target, "omnioffer") and not _under(
            target, "omnioffer.stats", "omnioffer.contracts", "omnioffer.errors"))
    )  # fmt: skip
    assert not bad, bad
    assert any(_under(name, "omnioffer.stats") for name in MODULES)
