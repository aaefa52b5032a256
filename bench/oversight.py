"""Supervisors' pages latency: stuck cases, workload, flow and the funder's report through the Flask app at
10,000 and 100,000 cases with 20 events each (2 million at 100,000).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/oversight_bench .venv/bin/python bench/oversight.py

DROPS AND RECREATES ALL TABLES of DATABASE_URL (use a scratch database). The cases and tasks are the inbox
bench's (bench/inbox.py: `setup`, `insert_cases`: 3 open and 4 completed tasks per case, due dates from 10
days ago to 40 days ahead), with the case list bench's spread (bench/case_list.py: 1 case in 4 completed, 1
in 500 in error, 6 responsible advisors, last activity between start and now). On top, in SQL: each case's
20 events, an incident per case in error, the report's facts of each journey (nationality, residence path
and outcome of a worker; headcount, location and two referrals of a firm), a Kümmerer milestone for 1
employer case in 3; the typed facts and referral rows the report counts are kept from the facts as
`engine.report.keep_facts` keeps them. The measured user is a supervisor of the center. For each size it
requests PAGES and prints median and p95 server time, the CPU time per request of the app and of the
PostgreSQL server (which must run on this machine: read from /proc) and the SQL statements per page. With
BENCH_WRITE=1 (default) the figures go into docs/performance.md, section "Supervisors' pages" (other sections
are kept).

Options: BENCH_SIZES (default "10000,100000"), BENCH_REQUESTS (default 100), BENCH_WARMUP (default 20),
BENCH_REUSE=1 (measure the data a previous run left, one size: nothing dropped or inserted).
"""
import json
import os
import random
import re
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.case_list import spread_case_columns  # noqa: E402
from bench.inbox import insert_cases, measure, setup, write_figures  # noqa: E402

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "100"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "20"))
EVENTS_PER_CASE = 20

PAGES = [("stuck cases (all reasons)", "/supervisor/stuck"),
         ("stuck cases: in error", "/supervisor/stuck?reason=error"),
         ("workload", "/supervisor/workload"),
         ("flow", "/supervisor/flow"),
         ("flow with a process's steps", "/supervisor/flow?process=worker_journey"),
         ("funder's report, this month", "/supervisor/report?period=month"),
         ("funder's report, this quarter", "/supervisor/report"),
         ("funder's report, this year", "/supervisor/report?period=year"),
         ("funder's report as CSV, this year", "/supervisor/report.csv?period=year"),
         ("funder's report, 180 days to 20 days ago", "/supervisor/report?period=range&from={:%Y-%m-%d}&to={:%Y-%m-%d}"
          .format(date.today() - timedelta(days=180), date.today() - timedelta(days=20)))]


def add_supervisor(app, ids):
    from engine import users
    from engine.db import db
    from engine.models import Organisation
    with app.app_context():
        users.ensure_user("chef", "Bench Supervisor", organisation=db.session.get(Organisation, ids["center"]),
                          groups=["advisor", "supervisor"], password="bench")
        db.session.commit()


def add_oversight_rows(app, have, size):
    """Events, incidents, facts, milestones and ends for the cases with ids have+1..size (SQL, no engine)."""
    from engine.db import db
    with app.app_context():
        conn = db.session.connection()
        rows = {"lo": have, "hi": size}
        conn.execute(db.text(
            "INSERT INTO case_event (case_id, at, kind, details) "
            "SELECT c.id, c.started_at + g * interval '1 hour', "
            "CASE WHEN g = 1 THEN 'case_started' WHEN g % 3 = 0 THEN 'task_created' ELSE 'task_completed' END, '{}' "
            "FROM \"case\" c, generate_series(1, :n) g WHERE c.id > :lo AND c.id <= :hi"), {**rows, "n": EVENTS_PER_CASE})
        conn.execute(db.text(
            "INSERT INTO incident (case_id, task_id, element_id, element_name, error_type, message, created_at) "
            "SELECT id, '', 'script_check', 'Prüfung', 'ZeroDivisionError', 'division by zero', updated_at "
            "FROM \"case\" WHERE has_incident AND id > :lo AND id <= :hi"), rows)
        conn.execute(db.text(
            "UPDATE \"case\" c SET ended_at = CASE WHEN c.status = 'completed' THEN c.updated_at END, facts = CASE "
            "WHEN d.key = 'worker_journey' THEN '{\"worker_name\": \"' || c.subject || '\", \"nationality\": \"' || "
            "(ARRAY['Indien','Türkei','Ukraine','Brasilien','Philippinen'])[c.id % 5 + 1] || "
            "'\", \"residence_path\": \"' || (ARRAY['blue_card','skilled_worker_vocational','eu_free_movement'])"
            "[c.id % 3 + 1] || '\"' || CASE WHEN c.status = 'completed' THEN ', \"journey_outcome\": \"stayed\"' "
            "ELSE '' END || '}' "
            "WHEN d.key = 'employer_journey' THEN '{\"staff_count\": ' || (c.id * 37 % 400) || "
            "', \"firm_location\": \"kreis_dueren\", \"referrals\": [{\"topic\": \"language\", \"partner\": "
            "\"bamf_vhs\", \"partner_type\": \"BAMF\", \"referred_on\": \"' || to_char(c.started_at, 'YYYY-MM-DD') "
            "|| '\", \"contact_made\": \"yes\"}, {\"topic\": \"recognition\", \"partner\": \"ihk\", \"partner_type\": "
            "\"chamber\", \"referred_on\": \"' || to_char(c.started_at, 'YYYY-MM-DD') || '\", \"contact_made\": "
            "\"no\"}]}' END "
            "FROM process_definition d WHERE d.id = c.definition_id AND c.id > :lo AND c.id <= :hi"), rows)
        conn.execute(db.text(
            "INSERT INTO case_milestone (case_id, key, label, element_id, reached_at) "
            "SELECT c.id, 'kuemmerer_named', 'Kümmerer:in benannt', 'task_nominate', c.started_at + interval '5 days' "
            "FROM \"case\" c JOIN process_definition d ON d.id = c.definition_id "
            "WHERE d.key = 'employer_journey' AND c.id / 3 % 3 = 0 AND c.id > :lo AND c.id <= :hi"), rows)
        keep_report_facts(conn, have, size)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(db.text("VACUUM ANALYZE"))


def keep_report_facts(conn, have, size):
    """The typed facts and referral rows the report counts, from each case's `facts` as `keep_facts` keeps them."""
    from engine.db import db
    from engine.report import _fact_columns, _referral_rows
    rows = conn.execute(db.text("SELECT id, subject, facts FROM \"case\" WHERE facts IS NOT NULL AND id > :lo "
                                "AND id <= :hi"), {"lo": have, "hi": size}).all()
    columns, referrals = [], []
    for case_id, subject, facts in rows:
        facts = json.loads(facts)
        columns.append({"case_id": case_id, **_fact_columns(subject, facts)})
        referrals += [{"case_id": case_id, "topic": r.topic, "partner": r.partner, "partner_type": r.partner_type,
                       "referred_on": r.referred_on, "contact_made": r.contact_made} for r in _referral_rows(facts)]
    names = [name for name in columns[0] if name != "case_id"]
    conn.execute(db.text("UPDATE \"case\" SET " + ", ".join(f"{name} = :{name}" for name in names)
                         + " WHERE id = :case_id"), columns)
    conn.execute(db.text("INSERT INTO case_referral (case_id, topic, partner, partner_type, referred_on, contact_made) "
                         "VALUES (:case_id, :topic, :partner, :partner_type, :referred_on, :contact_made)"), referrals)


def database_cpu_ms(app) -> float:
    """The CPU time so far of the PostgreSQL processes serving the bench's database, in ms (read from /proc: the
    server runs on this machine). Unlike the response time it hardly grows with the machine's load."""
    from engine.db import db
    with app.app_context():
        pids = db.session.scalars(db.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
        db.session.rollback()
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:         # ended meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])          # utime + stime
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def supervisor_page(body):
    return {"rows": len(re.findall(r'data-case="|<tr data-(?:person|item|process|step)=', body)),
            "size": f"{len(body) // 1024} KB"}


def main():
    url = os.environ.get("DATABASE_URL")
    if not url or not url.startswith("postgres"):
        sys.exit("set DATABASE_URL to a scratch PostgreSQL database (its tables are dropped)")
    from web import create_app
    from web.config import database_url
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(url, tempfile.mkdtemp()), "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "bench", "TESTING": False})
    reuse = os.environ.get("BENCH_REUSE") == "1"
    if not reuse:
        ids = setup(app)
        add_supervisor(app, ids)
    rng = random.Random(42)
    results, have = {}, 0
    for size in SIZES:
        t0 = time.perf_counter()
        if not reuse:
            insert_cases(app, ids, have, size - have, rng)
            spread_case_columns(app, ids)
            add_oversight_rows(app, have, size)
        have = size
        print(f"{size:>7} cases, {size * EVENTS_PER_CASE:,} events: inserted in {time.perf_counter() - t0:.0f} s",
              flush=True)
        for label, page in PAGES:
            before = database_cpu_ms(app)
            r = measure(app, page, REQUESTS, "chef", warmup=WARMUP, read_page=supervisor_page)
            r["db_cpu"] = (database_cpu_ms(app) - before) / (REQUESTS + WARMUP)
            results[(size, label)] = r
            print(f"   {label:<40} median {r['median']:6.2f} ms  p95 {r['p95']:6.2f} ms  CPU app {r['cpu']:.1f} ms "
                  f"db {r['db_cpu']:.1f} ms  statements {r['statements']}  rows {r['rows']}  {r['size']}  "
                  f"load {r['load']:.1f}  cpu ref {r['cpu_ref']:.2f} ms", flush=True)
    if os.environ.get("BENCH_WRITE", "1") == "1":
        write_doc(results)


def write_doc(results):
    """The figures table of docs/performance.md's "Supervisors' pages" section (its text is written by hand)."""
    import platform
    lines = ["| cases | events | page | median ms | p95 ms | CPU app ms | CPU db ms | SQL statements | rows | page size "
             "| load | CPU ref ms |",
             "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for (size, label), r in results.items():
        lines.append(f"| {size:,} | {size * EVENTS_PER_CASE:,} | {label} | {r['median']:.2f} | {r['p95']:.2f} | "
                     f"{r['cpu']:.1f} | {r['db_cpu']:.1f} | {'/'.join(map(str, r['statements']))} | {r['rows']} | "
                     f"{r['size']} | {r['load']:.1f} | {r['cpu_ref']:.2f} |")
    lines += ["", f"{REQUESTS} requests per line after {WARMUP} of warm-up; {platform.machine()}, "
                  f"{os.cpu_count()} vCPUs, Python {platform.python_version()}, {datetime.now():%Y-%m-%d}. "
                  "CPU app: the Flask process's per request (median); CPU db: the PostgreSQL processes' per request "
                  "(mean, warm-up included)."]
    write_figures("bench/oversight.py", "\n".join(lines))

if __name__ == "__main__":
    main()
