"""Process owners' work: the dry run and migration of running cases, and the bundled scenarios.

    createdb -h 127.0.0.1 -U postgres bench     # a scratch database: the bench drops every table in it
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/migration.py

Without DATABASE_URL it runs on a temporary SQLite file. BENCH_CASES (default 200) cases of a small
process (a user task with a boundary timer) are moved to a version that adds a task; then each scenario
in bpmn/scenarios/ runs against bpmn/ and forms/ (on its own scratch in-memory SQLite either way).
"""
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CASES = int(os.environ.get("BENCH_CASES", "200"))
ROOT = Path(__file__).resolve().parent.parent


def main():
    from engine import cases, clock, deploy, migration, scenarios, state, users
    from engine.db import db, drop_everything
    from tests.conftest import make_app
    from tests.engine.test_migration import approval
    backend = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    app = make_app(backend, tempfile.mkdtemp(prefix="lotse-bench-"))
    with app.app_context():
        drop_everything()
        db.create_all()
        db.session.commit()
        clock.freeze()
        center = users.get_organisation("center", "Bench", code="BE")
        deploy.deploy([approval()])
        db.session.commit()
        for _ in range(CASES):
            cases.start_case("approval", center=center)
        deploy.deploy([approval(due="P5D", archive=True)])
        db.session.commit()
        state.spec_cache.clear()
        db.session.expire_all()
        started = time.perf_counter()
        migration.plan("approval", 1, 2)
        dry = time.perf_counter() - started
        started = time.perf_counter()
        result = migration.migrate("approval", 1, 2)
        moved = time.perf_counter() - started
        assert all(c.migrated for c in result.cases) and len(result.cases) == CASES
        print(f"{backend}, {CASES} cases: dry run {dry * 1000:.0f} ms ({dry / CASES * 1000:.2f} ms/case), "
              f"migration {moved * 1000:.0f} ms ({moved / CASES * 1000:.2f} ms/case)")
        files = dict(deploy.collect_files([ROOT / "bpmn", ROOT / "forms"]))
        for name, content in scenarios.scenario_files().items():
            started = time.perf_counter()
            [run] = scenarios.run_scenarios(files, scenarios={name: content})
            print(f"scenario {name}: {(time.perf_counter() - started) * 1000:.0f} ms, "
                  f"{'passed' if run.passed else 'FAILED'}")
        drop_everything()


if __name__ == "__main__":
    main()
