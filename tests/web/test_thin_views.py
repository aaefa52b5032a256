"""The workspace's and the notifications' views never query the database themselves.

They check input, call one engine function (`engine.pages` for what a page reads, `engine.cases` and
`engine.notifications` for changes, `engine.access` for decisions) and render the result. This reads
their source: any use of `db.session` (or a SQLAlchemy `select`) in a view module fails here.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VIEW_PACKAGES = [ROOT / "web" / "advisor", ROOT / "web" / "notifications", ROOT / "web" / "processes",
                 ROOT / "web" / "employer", ROOT / "web" / "library"]


def _database_uses(path: Path):
    """(function name, line) of every `db.session…`, `select(…)` or import of `engine.db` in a module."""
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
    for package in VIEW_PACKAGES:
        for path in sorted(package.glob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            offending += [f"{relative}:{line} ({function}): {what}" for function, line, what in _database_uses(path)]
    assert not offending, "views query the database:\n" + "\n".join(offending)


def test_the_check_finds_a_query_in_a_view(tmp_path):
    view = tmp_path / "view.py"
    view.write_text("from engine.db import db\n\ndef page():\n    return db.session.get(object, 1)\n")
    assert _database_uses(view) == [("page", 4, "db.session")]
