"""The engine's module graph: acyclic (counting function-local imports too) and never importing web/.

A cycle hides wiring: which module needs which becomes a matter of import order. The graph is read
from the source with `ast`, so an import inside a function counts as much as one at the top.
"""
import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "web")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[_module_name(path)] = path
    return found


def _resolve(name: str, modules: dict) -> str | None:
    """The longest known module that `name` names or lies in (`engine.models.case.Case` -> `engine.models.case`)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path, modules: dict) -> set[str]:
    is_package = path.name == "__init__.py"
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            # `from engine import timers` imports the module engine.timers; `from engine.db import db` imports engine.db.
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            target = _resolve(name, modules)
            if target and target != module:
                targets.add(target)
    return targets


@functools.cache        # three tests read it, none changes it: the sources are parsed once per process
def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        edges = _imports(module, path, modules)
        # a module in a package runs the package's __init__ first, but importing a package from a child
        # of it is the ordinary Python layout, not a cycle of ideas: drop edges to ancestor packages.
        graph[module] = {t for t in edges if not module.startswith(t + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, result = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return result


def _in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _engine(graph):
    """The engine's modules with their edges to other engine modules."""
    return {m: {t for t in ts if _in_package(t, "engine")} for m, ts in graph.items() if _in_package(m, "engine")}


def test_the_engine_has_no_import_cycle():
    found = cycles(_engine(import_graph()))
    assert not found, "import cycles in engine/ (function-local imports count):\n" + "\n".join(
        " <-> ".join(c) for c in found)


def test_the_engine_never_imports_web():
    graph = import_graph()
    wrong = sorted(f"{m} -> {t}" for m, ts in graph.items() if _in_package(m, "engine")
                   for t in ts if _in_package(t, "web"))
    assert not wrong, "engine modules import web/: " + ", ".join(wrong)


@pytest.mark.parametrize("source, expected", [
    ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
])
def test_the_cycle_finder_finds_cycles(source, expected):
    assert cycles(source) == expected


def test_function_local_imports_are_in_the_graph():
    """The check would be hollow if it missed the imports inside functions, where the cycles hide."""
    graph = import_graph()
    source = (ROOT / "web" / "__init__.py").read_text()
    assert "    from web.auth import bp" in source      # a function-local import in create_app
    assert "web.auth" in graph["web"]


def test_an_import_inside_a_function_or_a_method_is_an_edge(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text("class C:\n    def m(self):\n        import engine.timers as t\n\n"
                      "def f():\n    if True:\n        from engine import jobs\n        from .mail import send_job\n")
    assert _imports("engine.probe", source, _modules()) >= {"engine.timers", "engine.jobs", "engine.mail"}
    assert cycles({"engine.probe": {"engine.timers"}, "engine.timers": {"engine.probe"}}) == \
        [["engine.probe", "engine.timers"]]


def test_importing_the_engine_switches_no_hook_on_and_init_app_switches_on_all(tmp_path):
    """Hooks are registered by engine.wiring.init_app, not by importing a module for its side effects."""
    import subprocess
    import sys
    probe = """
from sqlalchemy import event
import engine.cases, engine.deploy, engine.inbox, engine.messages, engine.notifications, engine.timers, engine.users
from engine import wiring
on = lambda: [event.contains(t, n, f) for t, n, f in wiring.LISTENERS]
assert not any(on()), on()
from web import create_app
create_app(); create_app()
assert all(on()), on()
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/probe.db"})
    assert result.stdout.strip() == "ok", result.stderr


def _missing_module_attributes(path: Path, modules: dict) -> list[str]:
    """`x.name` where `x` is an engine module imported by `from engine import x` and the module has no `name`."""
    import importlib
    tree = ast.parse(path.read_text(), str(path))
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "engine" and not node.level:
            for alias in node.names:
                if f"engine.{alias.name}" in modules:
                    bound[alias.asname or alias.name] = f"engine.{alias.name}"
    missing = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
            module = importlib.import_module(bound[node.value.id])
            if not hasattr(module, node.attr):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {bound[node.value.id]}.{node.attr}")
    return missing


def test_every_engine_function_called_through_its_module_exists():
    """Moving a function between modules must not leave a caller behind (such a caller fails only when it runs)."""
    modules = _modules()
    missing = [m for path in modules.values() for m in _missing_module_attributes(path, modules)]
    assert not missing, "no such engine function:\n" + "\n".join(missing)
