"""The scenario runner as `lotse scenarios` runs it: every bundled scenario against bpmn/ and forms/ in one
`run_scenarios` call, BENCH_ROUNDS times (default 5), CPU time per round.

    .venv/bin/python bench/scenarios.py

Scenarios run on scratch in-memory SQLite databases whatever DATABASE_URL says; the app is only the
context the runner inherits its settings from.
"""
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
ROOT = Path(__file__).resolve().parent.parent


def main():
    from engine import deploy, scenarios
    from tests.conftest import make_app
    app = make_app("sqlite", tempfile.mkdtemp(prefix="lotse-bench-"))
    files = dict(deploy.collect_files([ROOT / "bpmn", ROOT / "forms"]))
    stored = scenarios.scenario_files()
    with app.app_context():
        times = []
        for _ in range(ROUNDS):
            started = time.process_time()
            results = scenarios.run_scenarios(files, scenarios=stored)
            times.append(time.process_time() - started)
            assert all(r.passed for r in results), [r.failures for r in results]
    times.sort()
    print(f"{len(stored)} scenarios in one run, {ROUNDS} rounds: CPU per run median {times[len(times) // 2]:.3f} s "
          f"(min {times[0]:.3f}, max {times[-1]:.3f})")


if __name__ == "__main__":
    main()
