"""Inbox latency: the advisor's inbox page through the Flask app at 10,000 and 100,000 open cases.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/inbox_bench .venv/bin/python bench/inbox.py

DROPS AND RECREATES ALL TABLES of DATABASE_URL (use a scratch database) and leaves the data in it (its pages
can be opened afterwards as "bench" / "jansen", password "bench"). The project's processes are deployed and
one case of each measured process is started through the engine at the other center; the measured cases'
rows are bulk-inserted directly (no engine), each with that case's stored workflow state, then vacuumed and
analyzed. Their task rows are the bench's own (element ids task_0…task_6, not the diagram's, so a task page
shows no data from the workflow). Each open case has 3 open tasks (candidate groups spread over the
user's 3 groups and others, 1 in 5 assigned to a colleague, a few to the user, some with a
future follow-up date) plus 4 completed tasks of history; 1 case in 10 belongs to another
center; 1 case in 2 has an employer (one firm), whose tasks of candidate group 'employer' are the firm's.
The measured user is an advisor in 3 groups (an employer user of the firm exists too: the inbox sends
them to the portal). For each size it requests the inbox pages of PAGES (group tasks in every sort, my
tasks, two searches) through Flask's test client, and prints median and p95 server time, the median
CPU time of this process per request (the PostgreSQL server's time not included; on a loaded machine it
varies less than the wall time) and the SQL statements per page (SQLAlchemy event listener). With BENCH_WRITE=1 (default) the figures table goes into docs/performance.md, between the
markers `<!-- figures of bench/inbox.py -->` and `<!-- end of figures -->` (nothing else is written).

Options: BENCH_SIZES (default "10000,100000"), BENCH_REQUESTS (default 300), BENCH_WARMUP (default 100).
"""
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "100"))
GROUPS = ["advisor", "visa", "recognition"]          # the measured user's groups
OTHER_GROUPS = ["supervisor", "employer"]
BATCH = 20_000


def stats(samples):
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


def setup(app):
    """The organisations and users, the project's processes deployed as `lotse deploy bpmn forms` does, and
    one case of each measured process started through the engine at the other center (out of the measured
    user's sight): its stored workflow is the state the bulk rows copy, so every case's page can load it."""
    from engine import cases, users
    from engine.db import db, drop_everything
    from engine.deploy import deploy_paths, latest_definition
    from engine.models import Case
    with app.app_context():
        drop_everything()
        db.create_all()
        center = users.get_organisation("center", "Welcome Center Aachen", code="AC")
        other = users.get_organisation("center", "Welcome Center Köln", code="K")
        firm = users.get_organisation("employer", "Elektro Jansen GmbH", center=center)
        user = users.ensure_user("bench", "Bench Advisor", organisation=center, groups=GROUPS, password="bench")
        colleagues = [users.ensure_user(f"colleague{i}", f"Colleague {i}", organisation=center, groups=["advisor"])
                      for i in range(5)]
        users.ensure_user("jansen", "Petra Jansen", organisation=firm, groups=["employer"], password="bench")
        deploy_paths([ROOT / "bpmn", ROOT / "forms"])
        definitions, states = [], {}
        for key, data in (("worker_journey", {"worker_name": "Template"}),
                          ("employer_journey", {"firm_name": "Template GmbH"}),
                          ("worker_visa", {"worker_name": "Template"})):
            definition = latest_definition(key)
            template = cases.start_case(definition, center=other, subject="Template", data=data, actor=user)
            states[definition.id] = {"state": template.state, "serializer_version": template.serializer_version,
                                     "library_version": template.library_version}
            definitions.append((definition.id, definition.key, definition.name))
        db.session.commit()
        return {"center": center.id, "other": other.id, "firm": firm.id, "user": user.id,
                "colleagues": [c.id for c in colleagues], "definitions": definitions, "states": states,
                "first_case": db.session.scalar(db.select(db.func.max(Case.id))) + 1}


TITLES = ["Erstgespräch führen", "Unterlagen prüfen", "Vorabzustimmung beantragen", "Anerkennung klären",
          "Arbeitgeber informieren", "Termin Ausländerbehörde vereinbaren", "Wohnungssuche begleiten",
          "Sprachkurs vermitteln", "Kümmerer schulen"]
NAMES = ["Ravi Kumar", "Maria Santos", "Olena Kovalenko", "Aiko Tanaka", "Chen Wei", "Ana Lima", "Omar Haddad",
         "Elektro Jansen GmbH", "Pflegedienst Schmitz", "Bäckerei Küpper"]


def insert_cases(app, ids, start, count, rng):
    from engine.db import db
    from engine.models import Case, HumanTask, HumanTaskGroup
    now = datetime.now(timezone.utc)
    with app.app_context():
        done = 0
        while done < count:
            conn = db.session.connection()
            n = min(BATCH, count - done)
            case_rows, task_rows, group_rows = [], [], []
            for i in range(start + done, start + done + n):
                case_id = ids["first_case"] + i
                center = ids["other"] if i % 10 == 9 else ids["center"]
                def_id, key, pname = ids["definitions"][i % 3]
                subject = f"{NAMES[i % len(NAMES)]} {i}"
                reference = f"WC-AC-2026-{case_id:06d}"
                started = now - timedelta(days=rng.randint(1, 300))
                case_rows.append({"id": case_id, "reference": reference, "definition_id": def_id, "center_id": center,
                                  "employer_id": ids["firm"] if i % 2 else None, "subject": subject, "status": "active",
                                  "has_incident": False, **ids["states"][def_id], "lock_version": 1,
                                  "started_at": started, "updated_at": started})
                for k in range(7):
                    open_ = k < 3
                    groups = [GROUPS[(i + k) % 3]] if k != 2 else [OTHER_GROUPS[i % 2], GROUPS[i % 3]]
                    if open_ and i % 7 == 0 and k == 2:
                        groups = [OTHER_GROUPS[0]]                 # some tasks not for this user
                    assignee = None
                    if open_ and rng.random() < 0.2:
                        assignee = rng.choice(ids["colleagues"])
                    if open_ and k == 0 and i % 500 == 0:
                        assignee = ids["user"]
                    due = now + timedelta(hours=rng.randint(-24 * 10, 24 * 40)) if rng.random() < 0.85 else None
                    follow = now + timedelta(days=rng.randint(1, 20)) if open_ and rng.random() < 0.05 else None
                    task_id = f"{case_id:08d}-0000-4000-8000-{k:012d}"
                    task_rows.append({
                        "id": task_id, "case_id": case_id, "center_id": center,
                        "employer_id": ids["firm"] if i % 2 else None, "case_reference": reference,
                        "case_subject": subject, "process_key": key, "process_name": pname,
                        "element_id": f"task_{k}", "title": TITLES[(i + k) % len(TITLES)], "documentation": None,
                        "lane": None, "actor": "center", "candidate_groups": groups, "candidate_users": [],
                        "assignee_id": assignee if open_ else rng.choice(ids["colleagues"]), "due_at": due,
                        "follow_up_at": follow, "priority": rng.choice((30, 50, 50, 50, 70, 90)),
                        "form_key": None, "form_version_id": None, "state": "open" if open_ else "completed",
                        "draft": None, "created_at": started + timedelta(hours=k),
                        "completed_at": None if open_ else started + timedelta(hours=k + 1),
                        "completed_by_id": None if open_ else ids["colleagues"][0], "notices_sent": []})
                    if open_:
                        group_rows += [{"task_id": task_id, "group_name": g, "center_id": center} for g in groups]
            conn.execute(Case.__table__.insert(), case_rows)
            conn.execute(HumanTask.__table__.insert(), task_rows)
            conn.execute(HumanTaskGroup.__table__.insert(), group_rows)
            db.session.commit()
            done += n
        from engine import task_counts
        task_counts.rebuild()              # the rows went in past the engine: count the group tabs anew
        if db.engine.dialect.name == "postgresql":     # and past the id sequence: the engine's next case follows them
            db.session.execute(db.text("SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), max(id)) FROM \"case\""))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does after a bulk load (it is off on the bench server): statistics, and the
            # visibility map that lets the counts be index-only scans.
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(db.text("VACUUM ANALYZE"))
                conn.execute(db.text("CHECKPOINT"))      # write the load out now, not during the measurements
            os.sync()


def cpu_reference() -> float:
    """Milliseconds for a fixed pure-Python workload. This shared machine's speed drifts (the same page's
    median has moved ×1.6 within minutes), and the page's time with it: sampled through each line and
    printed beside it, so a slow moment shows."""
    t0 = time.perf_counter()
    sum(i * i for i in range(100_000))
    return (time.perf_counter() - t0) * 1000


def inbox_page(body):
    """What the bench reports of an inbox page: its rows and its tab counts."""
    return {"rows": body.count('data-task-id="'), "counts": dict(re.findall(r'data-count="(\w+)">([^<]+)<', body))}


def measure(app, url, requests, username="bench", warmup=None, read_page=inbox_page):
    """Median and p95 server time of `url`, the statements per request and what `read_page` finds on it."""
    from sqlalchemy import event

    from engine.db import db
    client = app.test_client()
    client.post("/login", data={"username": username, "password": "bench"})
    with app.app_context():
        engine = db.engine
    counter = [0]

    def count(*_a, **_k):
        counter[0] += 1
    for _ in range(WARMUP if warmup is None else warmup):    # warm up: caches, plans, pool
        client.get(url)
    event.listen(engine, "before_cursor_execute", count)
    samples, cpu, statements = [], [], set()
    load, references = os.getloadavg()[0], []
    try:
        for i in range(requests):
            if i % 30 == 0:
                references.append(cpu_reference())          # between requests, not timed with them
            counter[0] = 0
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url)
            samples.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            statements.add(counter[0])
            assert response.status_code == 200, (url, response.status_code, response.headers.get("Location"))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    median, p95 = stats(samples)
    load = max(load, os.getloadavg()[0])
    return {"median": median, "p95": p95, "cpu": statistics.median(cpu) * 1000, "statements": sorted(statements),
            "load": load,
            "cpu_ref": statistics.median(references + [cpu_reference()]),
            **read_page(response.get_data(as_text=True))}


# (label, URL[, user]): the advisor "bench" unless a user is given.
PAGES = [("group tasks (default sort)", "/?view=group"), ("my tasks", "/?view=mine"),
         ("group tasks by priority", "/?view=group&sort=priority"),
         ("search 'Santos'", "/?view=group&q=Santos"),
         ("search a case reference", "/?view=group&q=WC-AC-2026-000042"),
         ("group tasks by -due", "/?view=group&sort=-due"),
         ("group tasks by created", "/?view=group&sort=created"),
         ("group tasks by -created", "/?view=group&sort=-created"),
         ("group tasks by -priority", "/?view=group&sort=-priority")]


def warm_up(app, rounds=100):
    """All pages in turn before the first measurement: the first page measured in a fresh process (after the
    bulk load) came out ~10 % slower than the same page measured again later."""
    clients = {}
    for _label, _page, *user in PAGES:
        username = (user or ["bench"])[0]
        if username not in clients:
            clients[username] = app.test_client()
            clients[username].post("/login", data={"username": username, "password": "bench"})
    for _ in range(rounds):
        for _label, page, *user in PAGES:
            clients[(user or ["bench"])[0]].get(page)


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
        have = size
        print(f"{size:>7} open cases: inserted in {time.perf_counter() - t0:.0f} s", flush=True)
        warm_up(app)
        for label, page, *user in PAGES:
            r = measure(app, page, REQUESTS, *user)
            results[(size, label)] = r
            print(f"   {label:<28} median {r['median']:5.2f} ms  p95 {r['p95']:5.2f} ms  CPU {r['cpu']:5.2f} ms  "
                  f"statements {r['statements']}  rows {r['rows']}  counts {r['counts']}  load {r['load']:.1f}  "
                  f"cpu ref {r['cpu_ref']:.2f} ms",
                  flush=True)
    if os.environ.get("BENCH_WRITE", "1") == "1":
        write_doc(results)


def write_doc(results):
    """The figures table of docs/performance.md's "Inbox" section (the section's text is written by hand)."""
    import platform
    lines = ["| open cases | page | median ms | p95 ms | CPU median ms | statements | rows | tab counts | load | CPU ref ms |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for (size, label), r in results.items():
        counts = ", ".join(f"{k}: {v}" for k, v in r["counts"].items())
        lines.append(f"| {size:,} | {label} | {r['median']:.2f} | {r['p95']:.2f} | {r['cpu']:.2f} | "
                     f"{'/'.join(map(str, r['statements']))} | {r['rows']} | {counts} | {r['load']:.1f} | "
                     f"{r['cpu_ref']:.2f} |")
    lines += ["", f"{REQUESTS} requests per line after a warm-up; {platform.machine()}, {os.cpu_count()} vCPUs, "
                  f"Python {platform.python_version()}, {datetime.now():%Y-%m-%d}."]
    write_figures("bench/inbox.py", "\n".join(lines))


def write_figures(bench, table):
    """Put `table` between the markers `<!-- figures of BENCH -->` and `<!-- end of figures -->` in
    docs/performance.md, and nothing else: what the figures mean is the document's own text."""
    path = ROOT / "docs" / "performance.md"
    text = path.read_text()
    start, end = f"<!-- figures of {bench} -->", "<!-- end of figures -->"
    pattern = re.compile(rf"^{re.escape(start)}\n.*?^{re.escape(end)}$", re.S | re.M)
    if not pattern.search(text):
        sys.exit(f"{path} has no '{start}' … '{end}' block for these figures: add one where they belong")
    path.write_text(pattern.sub(lambda _m: f"{start}\n{table}\n{end}", text, count=1))
    print(f"figures written to {path}")


if __name__ == "__main__":
    main()
