"""The inbox's sort orders and an employer user's group tab, as the user sees them (row order in the page).

Each sort is the order of a partial index over open tasks (engine.inbox._order), so these tests pin down
what each order means, ties and tasks without due date included.
"""
import re
from datetime import timedelta

from sqlalchemy import select, text as sql

from engine import clock, inbox, users
from engine.db import db
from engine.models import HumanTask, HumanTaskGroup


def text(response):
    return response.get_data(as_text=True)


def row_ids(html):
    return re.findall(r'data-task-id="([^"]+)"', html)


def counts(html):
    return {m.group(1): m.group(2) for m in re.finditer(r'data-count="(\w+)">([^<]+)<', html)}


def add_tasks(template, specs):
    """Open task rows copied from `template`, one per spec (a dict of column values: id, groups, …)."""
    columns = [c.name for c in HumanTask.__table__.columns]
    rows, group_rows = [], []
    for spec in specs:
        spec = dict(spec)
        groups = spec.pop("groups", ["advisor"])
        row = {name: getattr(template, name) for name in columns}
        row.update({"state": "open", "assignee_id": None, "follow_up_at": None, "draft": None,
                    "candidate_groups": groups}, **spec)
        rows.append(row)
        if row["state"] == "open":
            group_rows += [{"task_id": row["id"], "group_name": g, "center_id": row["center_id"]} for g in groups]
    db.session.execute(HumanTask.__table__.insert(), rows)
    if group_rows:
        db.session.execute(HumanTaskGroup.__table__.insert(), group_rows)
    db.session.commit()
    return rows


def first_open_task(case):
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")
                             .order_by(HumanTask.created_at))


def test_every_sort_orders_rows_as_the_user_expects(ws, client_for):
    now = clock.now()
    day = timedelta(days=1)
    # (due in days or None, priority, created hours ago); ties in each key, two tasks without due date
    specs = {"t-a": (2, 50, 5), "t-b": (None, 50, 4), "t-c": (-1, 90, 3), "t-d": (5, 30, 2),
             "t-e": (None, 90, 3), "t-f": (5, 50, 1), "t-g": (1, 30, 6), "t-h": (None, 30, 1)}
    rows = add_tasks(first_open_task(ws["cases"][0]), [
        {"id": task_id, "due_at": None if due is None else now + due * day, "priority": priority,
         "created_at": now - timedelta(hours=hours)}
        for task_id, (due, priority, hours) in specs.items()])
    by_id = {r["id"]: r for r in rows}
    client = client_for("anna")

    def page(sort):
        ids = row_ids(text(client.get(f"/?view=group&sort={sort}")))
        return [i for i in ids if i in by_id]          # the fixture's own tasks are in the list too

    due = {i: specs[i][0] for i in specs}
    created = {i: -specs[i][2] for i in specs}
    # due date: soonest first, tasks without due date last
    assert page("due") == sorted(specs, key=lambda i: (due[i] is None, due[i] or 0, i))
    # due date descending: latest first, tasks without due date still last (as in Camunda's Tasklist)
    assert page("-due") == sorted(specs, key=lambda i: (due[i] is None, -(due[i] or 0), i))
    assert page("-due")[:4] == ["t-d", "t-f", "t-a", "t-g"] and page("-due")[-3:] == ["t-b", "t-e", "t-h"]
    # priority: highest first, then soonest due (without due date last)
    by_priority = sorted(specs, key=lambda i: (-specs[i][1], due[i] is None, due[i] or 0, i))
    assert page("priority") == by_priority
    # lowest priority first: the same list upside down (within a priority the latest due first,
    # tasks without due date first)
    assert page("-priority") == by_priority[::-1]
    assert page("-priority")[:3] == ["t-h", "t-d", "t-g"]
    # creation: oldest first (ties by id); newest first is the same list upside down
    by_created = sorted(specs, key=lambda i: (created[i], i))
    assert page("created") == by_created
    assert page("-created") == by_created[::-1]


def test_employer_group_tab_shows_open_unassigned_employer_tasks_of_the_firm(ws, people, client_for):
    fritz = users.ensure_user("fritz", "Fritz Recruiting", organisation=people["firm"], groups=["recruiting"],
                              password="pw-fritz")
    db.session.commit()
    ravi, maria = ws["cases"][0], ws["cases"][1]                   # employer: firm, other_firm
    template = first_open_task(ravi)
    now = clock.now()
    firm, other_firm = people["firm"].id, people["other_firm"].id
    add_tasks(template, [
        {"id": "e-employer", "employer_id": firm, "groups": ["employer"], "due_at": now + timedelta(days=3)},
        {"id": "e-both", "employer_id": firm, "groups": ["employer", "advisor"], "due_at": now + timedelta(days=1)},
        {"id": "e-recruiting", "employer_id": firm, "groups": ["employer", "recruiting"], "due_at": None},
        {"id": "e-center-only", "employer_id": firm, "groups": ["advisor"]},
        {"id": "e-other-firm", "employer_id": other_firm, "case_id": maria.id, "groups": ["employer"]},
        {"id": "e-assigned", "employer_id": firm, "groups": ["employer"], "assignee_id": people["jansen"].id},
        {"id": "e-later", "employer_id": firm, "groups": ["employer"], "follow_up_at": now + timedelta(days=2)},
        {"id": "e-done", "employer_id": firm, "groups": ["employer"], "state": "completed"},
    ])
    # employer users work in the portal now; the inbox's queries keep their rule for them (the portal's
    # task list is engine.portal.open_tasks, tested in test_employer_portal.py)
    jansen = people["jansen"]                                      # in the group 'employer'

    def ids(**query):
        return [r.id for r in inbox.inbox_page(jansen, inbox.InboxQuery(**query)).rows]
    assert ids(view="group") == ["e-both", "e-employer", "e-recruiting"]           # due order, no due date last
    assert inbox.inbox_page(jansen, inbox.InboxQuery(view="group")).counts["group"] == 3
    assert ids(view="group", sort="-due") == ["e-employer", "e-both", "e-recruiting"]
    assert "e-later" in ids(view="group", followup=True)
    assert ids(view="mine") == ["e-assigned"]
    # a firm user outside the group 'employer' (no workspace for them, but the inbox's rule holds):
    # employer tasks that also name one of their groups
    page = inbox.inbox_page(fritz, inbox.InboxQuery(view="group"))
    assert [r.id for r in page.rows] == ["e-recruiting"] and page.counts["group"] == 1
    # the other firm sees its own only
    assert [r.id for r in inbox.inbox_page(people["schmitz"], inbox.InboxQuery(view="group")).rows] == ["e-other-firm"]


def test_a_search_is_planned_with_its_pattern_and_finds_a_part_of_a_name_or_reference(ws):
    # PostgreSQL keeps one plan for a prepared statement, which cannot suit both a rare pattern (the
    # trigram index's few matches) and a common one (the page's index read in order), so search pages
    # run unprepared (engine.db.plan_each_time) while the other pages' statements are prepared.
    anna, ravi = ws["anna"], ws["cases"][0]
    search = inbox.InboxQuery.from_args({"view": "group", "q": "kuma"})
    for _ in range(7):          # psycopg prepares a statement from its fifth execution on
        found = inbox.inbox_page(anna, search)
        inbox.inbox_page(anna, inbox.InboxQuery.from_args({"view": "group"}))
    assert {r.case_id for r in found.rows} == {ravi.id}
    by_reference = inbox.inbox_page(anna, inbox.InboxQuery.from_args({"view": "group", "q": ravi.reference[-5:]}))
    assert {r.case_id for r in by_reference.rows} == {ravi.id}
    if db.engine.dialect.name != "postgresql":
        return                  # SQLite prepares nothing on a server
    prepared = db.session.execute(sql("SELECT statement FROM pg_prepared_statements")).scalars().all()
    assert any("FROM human_task" in sql and "ORDER BY" in sql for sql in prepared), prepared
    assert not any("ILIKE" in sql for sql in prepared), prepared


def test_a_complete_case_reference_finds_exactly_that_case(ws, client_for):
    # Looked up through the case's unique reference, whatever the letter case, and counted; not a part
    # of a longer reference (…-00042 is a prefix of …-000421), and not a case of another center.
    ravi, maria, olena = ws["cases"]
    longer = add_tasks(first_open_task(maria), [{"id": "t-longer", "case_reference": ravi.reference + "1"}])
    client = client_for("anna")
    html = text(client.get(f"/?view=group&q={ravi.reference.lower()}"))
    assert set(row_ids(html)) == {first_open_task(ravi).id} and longer[0]["id"] not in row_ids(html)
    assert "1 Treffer" in html
    assert row_ids(text(client.get(f"/?view=group&q={olena.reference}"))) == []
    part = text(client.get(f"/?view=group&q={ravi.reference[:-1]}"))      # a part: still a substring search
    assert {first_open_task(ravi).id, "t-longer"} <= set(row_ids(part))
