"""Inbox latency: the advisor's inbox page through the Flask app at 10,000 and 100,000 open cases.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/inbox_bench .venv/bin/python bench/inbox.py

DROPS AND RECREATES ALL TABLES of DATABASE_URL (use a scratch database). Rows are bulk-inserted
directly (no engine), then vacuumed and analyzed: each open case has 3 open tasks (candidate groups spread over the
user's 3 groups and others, 1 in 5 assigned to a colleague, a few to the user, some with a
future follow-up date) plus 4 completed tasks of history; 1 case in 10 belongs to another
center; 1 case in 2 has an employer (one firm), whose tasks of candidate group 'employer' are the firm's.
The measured user is an advisor in 3 groups; one page is an employer user's (the firm's contact, group
'employer'). For each size it requests the inbox pages of PAGES (group tasks in every sort, my tasks,
two searches, the employer's group tasks) through Flask's test client, and
prints median and p95 server time and the SQL statements per page (SQLAlchemy event
listener). With BENCH_WRITE=1 (default) the figures go into docs/performance.md, section
"Inbox" (other sections are kept).

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
    from engine import users
    from engine.db import db, drop_everything
    from engine.models import Deployment, DeployedFile, ProcessDefinition
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
        deployment = Deployment(checksum="x" * 64)
        db.session.add(deployment)
        db.session.flush()
        source = DeployedFile(deployment_id=deployment.id, name="bench.bpmn", kind="bpmn", checksum="x" * 64,
                              content="<bpmn:definitions/>")
        db.session.add(source)
        db.session.flush()
        definitions = []
        for key, name in (("worker_journey", "Fachkraft begleiten"), ("employer_journey", "Arbeitgeber begleiten"),
                          ("worker_visa", "Visum und Einreise")):
            d = ProcessDefinition(key=key, version=1, name=name, checksum="x" * 64, deployment_id=deployment.id,
                                  source_file_id=source.id, spec_json="{}", forms={}, message_starts=[])
            db.session.add(d)
            definitions.append(d)
        db.session.commit()
        return {"center": center.id, "other": other.id, "firm": firm.id, "user": user.id,
                "colleagues": [c.id for c in colleagues], "definitions": [(d.id, d.key, d.name) for d in definitions]}


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
                case_id = i + 1
                center = ids["other"] if i % 10 == 9 else ids["center"]
                def_id, key, pname = ids["definitions"][i % 3]
                subject = f"{NAMES[i % len(NAMES)]} {i}"
                reference = f"WC-AC-2026-{case_id:06d}"
                started = now - timedelta(days=rng.randint(1, 300))
                case_rows.append({"id": case_id, "reference": reference, "definition_id": def_id, "center_id": center,
                                  "employer_id": ids["firm"] if i % 2 else None, "subject": subject, "status": "active",
                                  "has_incident": False, "state": "{}", "serializer_version": "1.5",
                                  "library_version": "3.2.0", "lock_version": 1, "started_at": started,
                                  "updated_at": started})
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
    samples, statements = [], set()
    load, references = os.getloadavg()[0], []
    try:
        for i in range(requests):
            if i % 30 == 0:
                references.append(cpu_reference())          # between requests, not timed with them
            counter[0] = 0
            t0 = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - t0)
            statements.add(counter[0])
            assert response.status_code == 200, (url, response.status_code, response.headers.get("Location"))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    median, p95 = stats(samples)
    load = max(load, os.getloadavg()[0])
    return {"median": median, "p95": p95, "statements": sorted(statements), "load": load,
            "cpu_ref": statistics.median(references + [cpu_reference()]),
            **read_page(response.get_data(as_text=True))}


# (label, URL[, user]): the advisor "bench" unless a user is given ("jansen": the firm's employer user).
PAGES = [("group tasks (default sort)", "/?view=group"), ("my tasks", "/?view=mine"),
         ("group tasks by priority", "/?view=group&sort=priority"),
         ("search 'Santos'", "/?view=group&q=Santos"),
         ("search a case reference", "/?view=group&q=WC-AC-2026-000042"),
         ("group tasks by -due", "/?view=group&sort=-due"),
         ("group tasks by created", "/?view=group&sort=created"),
         ("group tasks by -created", "/?view=group&sort=-created"),
         ("group tasks by -priority", "/?view=group&sort=-priority"),
         ("employer's group tasks", "/?view=group", "jansen")]


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
            print(f"   {label:<28} median {r['median']:5.2f} ms  p95 {r['p95']:5.2f} ms  "
                  f"statements {r['statements']}  rows {r['rows']}  counts {r['counts']}  load {r['load']:.1f}  "
                  f"cpu ref {r['cpu_ref']:.2f} ms",
                  flush=True)
    if os.environ.get("BENCH_WRITE", "1") == "1":
        write_doc(results)


def write_doc(results):
    import platform
    lines = ["## Inbox", "",
             "The advisor's inbox page (`GET /`), server time through Flask's test client (routing, login, "
             "queries, Jinja rendering), on PostgreSQL, for an advisor in 3 candidate groups, and (last line) for "
             "an employer user of the one firm, group 'employer'. Each open case has "
             "3 open tasks plus 4 completed ones (history); 10 % of the cases belong to another center; half "
             "the cases have the firm as employer, and their tasks for candidate group 'employer' (about 1 in 3 of the "
             "firm's open tasks) are the employer user's group tasks. "
             f"{REQUESTS} requests per line, after a warm-up (100 rounds of all pages, then {WARMUP} requests "
             "of the line's page); the tables are vacuumed and analyzed after the bulk load (what autovacuum "
             "does; it is off on the bench server).", "",
             "```sh", "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/inbox_bench .venv/bin/python bench/inbox.py",
             "```", "",
             "| open cases | page | median ms | p95 ms | SQL statements per page | rows | tab counts | load | "
             "CPU ref ms |",
             "| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for (size, label), r in results.items():
        counts = ", ".join(f"{k}: {v}" for k, v in r["counts"].items())
        lines.append(f"| {size:,} | {label} | {r['median']:.2f} | {r['p95']:.2f} | "
                     f"{'/'.join(map(str, r['statements']))} | {r['rows']} | {counts} | {r['load']:.1f} | "
                     f"{r['cpu_ref']:.2f} |")
    lines += ["", "*load*: the machine's 1-minute load average during the line (2 vCPUs, shared with other "
                  "test runs: above ~1 the figures include waiting for a core). *CPU ref*: the time of a fixed "
                  "pure-Python workload, median of 11 samples taken between the line's requests: the machine's "
                  "speed during the line, which drifts; the page's time moves with it."]
    sizes = sorted({s for s, _ in results})
    default = PAGES[0][0]
    if len(sizes) >= 2:
        a, b = results[(sizes[0], default)], results[(sizes[-1], default)]
        growth = b["p95"] / a["p95"]
        lines += ["", f"Growth of the default page from {sizes[0]:,} to {sizes[-1]:,} open cases: "
                      f"median ×{b['median'] / a['median']:.2f}, p95 ×{growth:.2f}."]
        p95s = [results[(size, default)]["p95"] for size in sizes]
        statements = {n for size in sizes for (sz, _), r in results.items() if sz == size for n in r["statements"]}
        met = max(p95s) < 10 and growth < 1.5 and len(statements) == 1
        verdict = ("**Goal met on this run**" if met else "**Goal not met on this run**")
        lines += ["", f"Goal (issue 5): p95 under 10 ms at both sizes, growth under 1.5×, a constant number of "
                      f"statements. {verdict}: default page p95 {' / '.join(f'{p:.1f}' for p in p95s)} ms, "
                      f"growth ×{growth:.2f}, statements per page {sorted(statements)}. Before this work the same "
                      "page took median 21 / p95 29 ms at 10,000 cases and 42 / 63 ms at 100,000 (6 statements; "
                      "load 5 during the 100,000 run), ~20 ms p95 on a quiet machine.",
                  "",
                  "The machine's speed drifts: *CPU ref* moves between about 4.6 and 7.5 ms within minutes, and at "
                  "the same *CPU ref* the same page's p95 still varies by ±20 % from one line to the next. "
                  "With 3 statements and BEGIN/COMMIT per page, seven runs gave a default-page p95 (10,000 / "
                  "100,000 cases) of 8.5 / 6.4, 9.1 / 8.7, 8.4 / 11.8, 11.0 / 14.5, 11.6 / 12.5, 9.5 / 15.3 and "
                  "9.6 / 10.4 ms (CPU ref 4.8–7.5): the goal was met in two. With the page, its counts and the "
                  "process list in one statement and a GET read without a transaction (2026-11-27), the runs "
                  "gave 6.4 / 5.6, 6.8 / 8.5 and 7.0 / 6.9 ms with CPU ref ~4.6 ms (the machine's fast moments): "
                  "goal met; 10.9 / 11.5 ms (CPU ref 7.5 / 5.5 ms) and 10.6 / 11.7 ms (CPU ref 4.8 / 7.5 ms): missed. "
                  "Interleaved A/B against the previous code (batches of 50 requests alternating between two "
                  "processes, 1,500 requests each): median 7.69 → 6.96 ms, CPU 5.79 → 5.31 ms. "
                  "With the group tab's count kept (`engine.task_counts`) the first run gave 5.8 / 5.6 ms with CPU "
                  "ref ~4.8 ms; an interleaved A/B of that change alone (in one process, batches of 50, 1,000 "
                  "requests a side, 100,000 cases) gave median 4.67 → 4.26 ms and p95 5.55 → 5.02 ms, and "
                  "PostgreSQL's time for the page statement went from ~1.1–1.4 ms to 0.36 ms (median of 200, server "
                  "log). Equivalent sorts "
                  "in the same run (`created`, `-due` and `-priority` each read an index of the same kind) show "
                  "the same spread."]
    lines += ["", "Statements per page (2): the user with organisation, groups and the header's capped "
                  "unread-notification count (Flask-Login, one joined SELECT), and the page with its tab counts "
                  "and the process list for the filter (one statement: the counts row LEFT JOINed to the page's "
                  "rows, the processes by UNION ALL). Besides them each request does the pool's pre-ping; a GET "
                  "reads without a transaction, so there is no BEGIN or COMMIT (`engine.db.read_without_transaction`).",
              "",
              "What makes it flat and fast:",
              "",
              "- **Page**: `human_task` read in due order through the partial index `ix_human_task_open_center_due` "
              "(`center_id, due_at, id WHERE state = 'open'`), `LIMIT 51`, the group condition probing "
              "`ix_human_task_group_center_task` per row: ~0.3 ms in PostgreSQL at either size. Every sort "
              "reads a partial index over open tasks the same way, forwards or backwards: `priority` "
              "`ix_human_task_open_center_priority` (`center_id, priority DESC, due_at, id`), and `-priority` the "
              "same backwards (the priority list upside down); `created` and `-created` "
              "`ix_human_task_open_center_created` (`center_id, created_at, id`) forwards and backwards; `-due` "
              "its own `ix_human_task_open_center_due_desc` (`center_id, due_at DESC NULLS LAST, id`), because "
              "tasks without due date stay last (as in Camunda's Tasklist), so it is not `due` backwards. An "
              "employer user's page reads the firm's open tasks in due order (`ix_human_task_open_employer_due`: "
              "`employer_id, due_at, id WHERE state = 'open' AND employer_id IS NOT NULL`): ~1.5–2 ms here, "
              "where 1 task in 5 read is an 'employer' task.",
              "- **Counts**: capped at 1,000 (shown as \"999+\"). A center user's group tab count is kept, not "
              "counted: `group_task_count` holds, per center and set of candidates, how many tasks are open, "
              "unassigned and without a follow-up date (engine.task_counts keeps it in the transactions that "
              "change tasks, as one upsert at commit); the page sums the few sets that hold one of the user's "
              "groups and adds a capped count of the open, unassigned tasks with a follow-up date that has "
              "passed (`ix_human_task_open_unassigned_follow_up`: `center_id, follow_up_at, id`). The bench's "
              "bulk load goes past the engine, so it recounts (`task_counts.rebuild`, `lotse recount`). Before, "
              "that count was a merge of two index-only scans capped at 1,000 entries (~0.7 ms of the page in "
              "PostgreSQL); now the whole statement takes ~0.36 ms there. An employer user's group count is "
              "still that merge, over the firm's open unassigned tasks (`ix_human_task_open_employer_unassigned`) "
              "and the 'employer' group rows (`ix_human_task_group_group_center`): ~2 ms. \"My tasks\" counts "
              "from `ix_human_task_open_assignee`. A filtered list's count probes row by row (its filters are not "
              "in those indexes).",
              "- **Search** (a part of the case reference or the subject): trigram indexes (pg_trgm, GIN, over "
              "open tasks) find a rare name or a reference through its few matches; a common name ('Santos', 1 "
              "case in 10) is found faster by reading the page's index in order until 50 match. Which one "
              "depends on the pattern, so a search statement is planned with its pattern each time (run "
              "unprepared, ~1 ms of planning) instead of keeping one plan. A complete case reference "
              "(WC-AC-2026-00042) is looked up exactly, through the case's unique reference: its trigrams are "
              "shared by every reference (17–25 ms at 100,000 cases through the trigram index). Before, a rare "
              "pattern read every open task of the center: 200–350 ms at 100,000 cases.",
              "- **Plans kept**: the statements are built once per shape; 'open', the organisation, the user, the "
              "groups, the due bound and the offset are written into the SQL (the clock, the process key and "
              "the search patterns stay bound), so psycopg prepares the common pages and PostgreSQL reuses one "
              "generic plan — planning was ~1 ms a page. A GET reads in autocommit, so no ROLLBACK ends it: "
              "psycopg drops its prepared statements on every ROLLBACK.",
              "- **Python**: rows come back as plain tuples from Core statements (no ORM objects); the 50 table "
              "rows are HTML built in Python with f-strings (`web.advisor.inbox.render_rows`; in Jinja, 50 rows × "
              "~60 fragments were the largest part of rendering); dates are formatted with the request's "
              "`Dates`; Flask-Login loads the user, organisation, groups and unread count in one statement; "
              "templates translate with the catalog bound once per render "
              "(`web.filters.translations_for_render`: Flask-Babel's template functions looked it up for each "
              "of the page's ~40 strings, ~7 µs each).",
              "",
              "Where the time still goes (default page, 100,000 cases, a fast moment: 4.9 ms a request through "
              "the test client; each part timed on its own, medians): the pool's checkout and pre-ping 0.25 ms, "
              "the user's load 0.55 ms, the page statement 1.6 ms (PostgreSQL ran it in ~1.1–1.4 ms, most of "
              "that the capped group count, now kept: ~0.36 ms since), the table rows 0.97 ms, "
              "the rest of the template 0.9 ms, the session's end 0.14 ms; Flask, the session cookie, routing "
              "and the test client the rest (~0.4 ms). The page is CPU-bound, and this 2-vCPU machine's speed "
              "drifts: the same code's median moved between 5.6 and 11 ms within an hour, with the machine "
              "otherwise idle, and the p95 follows. So the figures above are one run's. The interpreter "
              "matters as well: Debian's python3.11 (built with PGO and LTO) served the page ~13 % faster than "
              "the pyenv build the project's venv uses here (median of 12 alternating runs).",
              "",
              "Every sort of the center's tabs and an employer user's group tab now read a page in index order "
              "(before, `-due`, `created`, `-created` and `-priority` sorted the whole center and the employer's "
              "page and count scanned it: 110–350 ms in PostgreSQL at 100,000 cases). The indexes are partial, "
              "over open tasks: a task's completion enters none of them, and the two employer indexes (over open "
              "tasks that have an employer) replace a plain index on `employer_id` that every completion "
              "updated. Not covered: an employer user's tabs in another order than due date sort the firm's open "
              "tasks — a firm's worth of rows, not a center's (the bench's firm, with half of all cases, "
              "is an extreme: ~200 ms).",
              f"Machine: {platform.machine()}, {os.cpu_count()} vCPUs, Python {platform.python_version()}, "
              f"measured {datetime.now().strftime('%Y-%m-%d')}.", ""]
    write_section("Inbox", "\n".join(lines))


def write_section(title, section):
    """Put `section` in docs/performance.md in place of its `## title` section (or at the end)."""
    path = ROOT / "docs" / "performance.md"
    text = path.read_text() if path.exists() else "# Performance\n\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
