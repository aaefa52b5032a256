"""Process owners: deploying one changed file on its own (validated with the newest deployed version of
everything else, engine.deploy.with_deployed_context) against deploying the whole bundled set, and the
/processes overview's read model.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/processes.py

DROPS AND RECREATES ALL TABLES of DATABASE_URL (use a scratch database; without it, a SQLite file in a
temporary folder). Prints the median of BENCH_RUNS (default 5) runs of each.
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import deploy, processes  # noqa: E402
from engine.db import db, drop_everything  # noqa: E402
from web import create_app  # noqa: E402
from web.config import database_url  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def timed(action) -> float:
    start = time.perf_counter()
    action()
    db.session.commit()
    return time.perf_counter() - start


def main():
    folder = tempfile.mkdtemp()
    url = database_url(os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.db", folder)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        drop_everything()
        db.create_all()
        db.session.commit()
        full = timed(lambda: deploy.deploy_paths([ROOT / "bpmn", ROOT / "forms"]))
        bpmn = (ROOT / "bpmn" / "worker_journey.bpmn").read_bytes()
        dmn = (ROOT / "bpmn" / "worker_path.dmn").read_bytes()
        one_bpmn = [timed(lambda i=i: deploy.deploy([("worker_journey.bpmn", bpmn.replace(
            b'camunda:dueDate="P7D"', f'camunda:dueDate="P{8 + i}D"'.encode(), 1))])) for i in range(RUNS)]
        one_dmn = [timed(lambda i=i: deploy.deploy([("worker_path.dmn", dmn.replace(
            b"? &gt;= 50700", f"? &gt;= {51000 + i}".encode()))])) for i in range(RUNS)]
        overview = [timed(processes.overview) for _ in range(RUNS)]
        print(f"{db.engine.dialect.name}: whole set (first deploy) {full * 1000:.0f} ms; one BPMN file "
              f"{statistics.median(one_bpmn) * 1000:.0f} ms; one DMN file (+2 processes) "
              f"{statistics.median(one_dmn) * 1000:.0f} ms; overview {statistics.median(overview) * 1000:.0f} ms "
              f"({len(processes.overview())} keys)")


if __name__ == "__main__":
    main()
