"""axe-core in the browser tests: every page a test visits can be checked for accessibility.

axe-core comes from npm (pinned in package.json and the lock file, installed by `make setup`). It is
evaluated through the DevTools protocol, so the app's Content-Security-Policy needs no exception.
"""
from functools import cache
from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


@cache
def _axe_source():
    """axe.min.js, read once: the walks inject it into a few hundred pages."""
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run `make setup`")
    return AXE_JS.read_text(encoding="utf-8") + "\n;undefined"


def axe_violations(page, impacts=BLOCKING, include=None):
    """The violations axe-core finds on the page as it is now, limited to the given impacts; with `include`
    (a list of CSS selectors), only in those parts of the page."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    result = page.evaluate("async include => await window.axe.run(include ? {include: include.map(s => [s])} : document,"
                           " {resultTypes: ['violations']})", include)
    return [v for v in result["violations"] if v.get("impact") in impacts]


def describe(violations):
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — " + ", ".join(str(n["target"]) for n in v["nodes"][:5])
        for v in violations)


def assert_accessible(page, impacts=BLOCKING):
    """Fail naming each serious or critical violation and the elements it concerns."""
    violations = axe_violations(page, impacts)
    assert not violations, f"axe-core on {page.url}:\n{describe(violations)}"
