"""Case list latency: the center's case list ("Fälle", GET /cases) through the Flask app at 10,000 and 100,000 cases.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/inbox_bench .venv/bin/python bench/case_list.py

DROPS AND RECREATES ALL TABLES of DATABASE_URL (use a scratch database). The data are the inbox bench's
(bench/inbox.py: `setup`, `insert_cases`), with the case columns the inbox does not read spread over them:
1 case in 4 completed, 1 in 500 in error, each case's responsible advisor one of 6 (the measured advisor
among them), its last activity between its start and now. For each size it requests the pages of PAGES and
prints median and p95 server time and the SQL statements per page. With BENCH_WRITE=1 (default) the figures
table goes into docs/performance.md between `<!-- figures of bench/case_list.py -->` and `<!-- end of figures -->`.

Options: BENCH_SIZES (default "10000,100000"), BENCH_REQUESTS (default 200), BENCH_WARMUP (default 50).
"""
import os
import random
import re
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.inbox import insert_cases, measure, setup, write_figures  # noqa: E402

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "50"))

PAGES = [("running cases (default: latest activity)", "/cases"),
         ("my cases (responsible)", "/cases?responsible={user}"),
         ("in error", "/cases?incident=1"),
         ("no activity for 60 days, quietest first", "/cases?idle=60&sort=updated"),
         ("search 'Santos'", "/cases?q=Santos"),
         ("search a rare name 'Haddad 4242'", "/cases?q=Haddad%204242"),
         ("search a case reference", "/cases?q=WC-AC-2026-000042"),
         ("firm", "/cases?firm={firm}"),
         ("every status, newest first", "/cases?status=all&sort=-started"),
         ("completed", "/cases?status=completed"),
         ("process, page 5", "/cases?process=worker_visa&page=5")]


def spread_case_columns(app, ids):
    """The columns the case list reads and the inbox bench leaves at one value, set by id (reproducible)."""
    from engine.db import db
    team = [ids["user"], *ids["colleagues"]]
    with app.app_context():
        conn = db.session.connection()
        conn.execute(db.text("UPDATE \"case\" SET status = CASE WHEN id % 4 = 3 THEN 'completed' ELSE 'active' END, "
                             "has_incident = (id % 500 = 6), "
                             "responsible_id = CASE id % 6 " + " ".join(f"WHEN {i} THEN {u}" for i, u in enumerate(team))
                             + " END, updated_at = started_at + (now() - started_at) * ((id * 7919) % 100) / 100.0"))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(db.text("VACUUM ANALYZE \"case\""))


def case_list_page(body):
    """What the bench reports of a case-list page: its rows and the count it shows."""
    summary = re.search(r'class="result-summary"[^>]*>([^<]+)<', body)
    return {"rows": body.count('data-case="'), "total": summary.group(1).strip() if summary else ""}


def main():
    url = os.environ.get("DATABASE_URL")
    if not url or not url.startswith("postgres"):
        sys.exit("set DATABASE_URL to a scratch PostgreSQL database (its tables are dropped)")
    from web import create_app
    from web.config import database_url
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(url, tempfile.mkdtemp()), "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "bench", "TESTING": False})
    ids = setup(app)
    rng = random.Random(42)
    results, have = {}, 0
    for size in SIZES:
        t0 = time.perf_counter()
        insert_cases(app, ids, have, size - have, rng)
        spread_case_columns(app, ids)
        have = size
        print(f"{size:>7} cases: inserted in {time.perf_counter() - t0:.0f} s", flush=True)
        for label, page in PAGES:
            r = measure(app, page.format(user=ids["user"], firm=ids["firm"]), REQUESTS, warmup=WARMUP,
                        read_page=case_list_page)
            results[(size, label)] = r
            print(f"   {label:<42} median {r['median']:5.2f} ms  p95 {r['p95']:5.2f} ms  "
                  f"statements {r['statements']}  rows {r['rows']}  {r['total']}  load {r['load']:.1f}  "
                  f"cpu ref {r['cpu_ref']:.2f} ms", flush=True)
    if os.environ.get("BENCH_WRITE", "1") == "1":
        write_doc(results)


def write_doc(results):
    """The figures table of docs/performance.md's "Case list" section (the section's text is written by hand)."""
    import platform
    lines = ["| cases | page | median ms | p95 ms | statements | rows | shown count | load | CPU ref ms |",
             "| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for (size, label), r in results.items():
        lines.append(f"| {size:,} | {label} | {r['median']:.2f} | {r['p95']:.2f} | "
                     f"{'/'.join(map(str, r['statements']))} | {r['rows']} | {r['total']} | {r['load']:.1f} | "
                     f"{r['cpu_ref']:.2f} |")
    lines += ["", f"{REQUESTS} requests per line after {WARMUP} of warm-up; {platform.machine()}, "
                  f"{os.cpu_count()} vCPUs, Python {platform.python_version()}, {datetime.now():%Y-%m-%d}."]
    write_figures("bench/case_list.py", "\n".join(lines))


if __name__ == "__main__":
    main()
