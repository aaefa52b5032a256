"""A bare `pytest` without the built assets or catalogs stops at once and says to run `make setup`."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import BUILT, setup_problems

ROOT = Path(__file__).resolve().parent.parent


def _fresh_clone_like(tmp_path, *, built):
    """The test suite's conftest in a tree without (or with) the build outputs."""
    tests = tmp_path / "tests"
    tests.mkdir()
    shutil.copy(ROOT / "tests" / "conftest.py", tests / "conftest.py")
    (tests / "__init__.py").write_text("")
    (tests / "test_anything.py").write_text("def test_runs():\n    pass\n")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "viewer.js").write_text("// source\n")
    catalog = tmp_path / "web" / "translations" / "en" / "LC_MESSAGES"
    catalog.mkdir(parents=True)
    (catalog / "messages.po").write_text("")
    if built:
        time.sleep(0.01)
        dist = tmp_path / "web" / "static" / "dist"
        dist.mkdir(parents=True)
        for name in BUILT["web/static/dist"]:
            (dist / name).write_text("")
        (catalog / "messages.mo").write_text("")
    return tmp_path


def test_missing_assets_and_catalogs_stop_pytest_with_the_setup_command(tmp_path):
    tree = _fresh_clone_like(tmp_path, built=False)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "DATABASE_URL", "REDIS_URL")}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=tree,
                            env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 4, output                        # a usage error, before any test runs
    assert "make setup" in output
    assert "web/static/dist/form-conditionals.js is missing" in output
    assert "web/translations/en/LC_MESSAGES/messages.mo is missing" in output
    assert "test_anything" not in output and "passed" not in output


def test_a_built_tree_is_ready_until_a_source_changes(tmp_path):
    tree = _fresh_clone_like(tmp_path, built=True)
    assert setup_problems(tree) == []
    later = time.time() + 5
    os.utime(tree / "assets" / "viewer.js", (later, later))
    assert setup_problems(tree) == [
        "web/static/dist is older than assets, package.json, package-lock.json, .bpmnlintrc"]
    os.utime(tree / "web" / "translations" / "en" / "LC_MESSAGES" / "messages.po", (later, later))
    assert "web/translations/en/LC_MESSAGES/messages.mo is older than its .po" in setup_problems(tree)

