"""Views never query the database themselves.

They check input, call one engine function (`engine.pages` for what a page reads, `engine.cases` and
`engine.notifications` for changes, `engine.access` for decisions) and render the result. This reads
their source: any use of `db.session` (or an import from SQLAlchemy) in a module of web/ fails here,
except the app factory and the command line's setup, which open and end sessions.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SETUP_MODULES = {WEB / "__init__.py", WEB / "cli.py"}


def _database_uses(path: Path):
    """(function name, line, what) of every `db.session…` and import from SQLAlchemy in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node, function):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if isinstance(node, ast.Attribute) and node.attr == "session" and getattr(node.value, "id", "") == "db":
            found.append((function, node.lineno, "db.session"))
        if isinstance(node, ast.ImportFrom) and node.module in ("sqlalchemy", "sqlalchemy.orm"):
            found.append((function, node.lineno, f"from {node.module} import …"))
        for child in ast.iter_child_nodes(node):
            visit(child, function)
    visit(tree, "<module>")
    return found


def test_view_modules_leave_the_database_to_the_engine():
    offending = []
    for path in sorted(set(WEB.rglob("*.py")) - SETUP_MODULES):
        relative = path.relative_to(ROOT).as_posix()
        offending += [f"{relative}:{line} ({function}): {what}" for function, line, what in _database_uses(path)]
    assert not offending, "views query the database:\n" + "\n".join(offending)


def test_the_check_finds_a_query_in_a_view(tmp_path):
    view = tmp_path / "view.py"
    view.write_text("from engine.db import db\n\ndef page():\n    return db.session.get(object, 1)\n")
    assert _database_uses(view) == [("page", 4, "db.session")]


def test_every_module_of_web_is_checked():
    checked = set(WEB.rglob("*.py")) - SETUP_MODULES
    assert WEB / "admin" / "views.py" in checked and WEB / "auth" / "views.py" in checked
    assert len(checked) > 20



def _requires_calls(path: Path) -> list[int]:
    """Lines of `requires(…)` calls: the one family of view decorators is built in web/permissions.py only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "requires"]


def test_every_view_decorator_is_built_in_web_permissions():
    found = [f"{path.relative_to(ROOT).as_posix()}:{line}"
             for path in sorted(set(WEB.rglob("*.py")) - {WEB / "permissions.py"}) for line in _requires_calls(path)]
    assert not found, "view decorators built outside web/permissions.py: " + ", ".join(found)


def test_the_check_finds_a_decorator_built_in_a_view(tmp_path):
    view = tmp_path / "view.py"
    view.write_text("from web import permissions\nmine_required = permissions.requires(lambda user: True)\n")
    assert _requires_calls(view) == [2]
    assert _requires_calls(WEB / "permissions.py")          # where they are built
