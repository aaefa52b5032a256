"""Employer portal: the start page's read (engine.portal.home) for a firm with its own journey and N worker journeys.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/portal.py

DROPS AND RECREATES ALL TABLES of DATABASE_URL (use a scratch database; SQLite in a temporary folder when
unset). Deploys the bundled processes, starts the cases, then reads the page BENCH_READS times after one
warm-up and prints the mean time and the SQL statements per read. Options: BENCH_CASES (default 100),
BENCH_READS (default 10).
"""
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = int(os.environ.get("BENCH_CASES", "100"))
READS = int(os.environ.get("BENCH_READS", "10"))


def main():
    from sqlalchemy import event

    from engine import cases, deploy, portal, users
    from engine.db import db, drop_everything
    from web import create_app
    from web.config import database_url

    folder = tempfile.mkdtemp(prefix="lotse-bench-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL"), folder),
                      "TESTING": True, "SECRET_KEY": "bench"})
    with app.app_context():
        drop_everything()
        db.create_all()
        deploy.deploy(deploy.collect_files([ROOT / "bpmn", ROOT / "forms"]))
        center = users.get_organisation("center", "Welcome Center Aachen", code="AC")
        firm = users.get_organisation("employer", "Elektro Jansen GmbH", center=center)
        anna = users.ensure_user("anna", "Anna Berger", organisation=center, groups=["advisor"], password="x" * 12)
        jansen = users.ensure_user("jansen", "Petra Jansen", organisation=firm, groups=["employer"], password="x" * 12)
        db.session.commit()
        cases.start_case("employer_journey", center=center, employer=firm, subject=firm.name, actor=anna)
        for i in range(CASES):
            cases.start_case("worker_journey", center=center, employer=firm, subject=f"Worker {i}",
                             data={"worker_name": f"Worker {i}"}, actor=anna)
        db.session.commit()
        portal.home(jansen, "de")
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        started = time.perf_counter()
        for _ in range(READS):
            page = portal.home(jansen, "de")
        elapsed = (time.perf_counter() - started) / READS
        print(f"{db.engine.dialect.name}: {len(page.own) + len(page.workers)} cases on the page, "
              f"{elapsed * 1000:.0f} ms per read, {len(statements) / READS:.0f} statements")


if __name__ == "__main__":
    main()
