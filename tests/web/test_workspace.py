"""The advisor workspace through Flask's test client: authorization, CSRF, inbox, task, case, deadlines."""
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from engine import cases, clock, users
from engine import inbox as queries
from engine.db import db
from engine.models import Case, CaseComment, HumanTask

from tests.engine.test_db import runs_in_a_transaction
from tests.web.conftest import Client


def open_task(case, title=None):
    stmt = select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")
    if title:
        stmt = stmt.where(HumanTask.title == title)
    return db.session.scalar(stmt.order_by(HumanTask.created_at))


VALID = {"passport_no": "C01X00T47", "salary": "52000", "contract_type": "permanent", "entry_date": "2027-03-01"}


def text(response):
    return response.get_data(as_text=True)


# --- login, roles, CSRF ------------------------------------------------------------------------------

def test_pages_need_login(ws, client_for):
    client = client_for()
    for url in ("/", "/deadlines", f"/cases/{ws['cases'][0].reference}", "/cases/new"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_wrong_password_and_csrf(ws, client_for):
    client = client_for()
    client.get("/login")
    assert client.post("/login", {"username": "anna", "password": "nope"}).status_code == 401
    response = client.post("/login", {"username": "anna", "password": "pw-anna"}, csrf=False)
    assert response.status_code == 400 and "Sicherheitsprüfung" in text(response)


def test_session_cookie_is_httponly_and_samesite(ws, client_for):
    client = client_for()
    client.get("/login")
    response = client.post("/login", {"username": "anna", "password": "pw-anna"})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_other_roles_get_a_clear_403_and_a_start_page_of_their_own(ws, client_for):
    users.ensure_user("paul", "Paul Prozess", organisation=ws["center"], groups=["process_owner"], password="pw-paul")
    db.session.commit()
    client = client_for("paul")
    response = client.get("/deadlines")
    assert response.status_code == 403
    assert "Nicht erlaubt" in text(response) and "Prozessverantwortliche" in text(response)
    # the 403 page's link to the start page leads to a page for their role, not back to a 403
    start = re.search(r'<a href="([^"]+)">Zur Startseite</a>', text(response)).group(1)
    response = client.get(start)
    assert response.status_code == 302 and response.headers["Location"].endswith("/processes/")
    assert client.get(response.headers["Location"]).status_code == 200
    welcome = client.get("/welcome")
    assert welcome.status_code == 200 and "Willkommen, Paul Prozess" in text(welcome)
    assert 'href="/processes/"' in text(welcome) and "/notifications/" in text(welcome)
    # someone without any role still gets a page of their own, not a 403 loop
    users.ensure_user("nina", "Nina Neu", organisation=ws["center"], groups=[], password="pw-nina")
    db.session.commit()
    nina = client_for("nina")
    response = nina.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/welcome")
    assert "Willkommen, Nina Neu" in text(nina.get("/welcome"))
    assert nina.get("/processes/").status_code == 403
    # employers have the portal instead: the start page leads there, the workspace's pages are a 403
    jansen = client_for("jansen")
    response = jansen.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal/")
    assert jansen.get("/welcome").headers["Location"].endswith("/portal/")
    assert jansen.get("/portal/").status_code == 200
    for url in ("/cases/new", f"/cases/{ws['cases'][0].reference}", "/deadlines", "/cases"):
        assert jansen.get(url).status_code == 403, url
    assert jansen.post(f"/cases/{ws['cases'][0].reference}/comments", {"body": "x"}).status_code == 403


def test_next_keeps_paths_of_the_site(ws, client_for):
    """The redirect check (engine.access.safe_next; attacks in tests/security/test_redirects.py) keeps the
    user's own pages, with their queries."""
    task = open_task(ws["cases"][0])
    anna = client_for("anna")
    here = "/?view=group&q=Ravi%20Kumar&sort=-due"
    anna.get(here)
    response = anna.post(f"/tasks/{task.id}/claim", {"next": here})
    assert response.status_code == 302 and response.headers["Location"] == here
    response = anna.post("/language", {"language": "de", "next": f"/tasks/{task.id}?next=%2F"})
    assert response.headers["Location"] == f"/tasks/{task.id}?next=%2F"
    client = client_for()
    client.get("/login")
    response = client.post("/login?next=%2Fdeadlines%3Fweeks%3D8", {"username": "anna", "password": "pw-anna"})
    assert response.headers["Location"] == "/deadlines?weeks=8"


def test_every_form_carries_a_csrf_token_and_posts_without_one_fail(ws, client_for):
    client = client_for("anna")
    task = open_task(ws["cases"][0])
    for url in ("/?view=group", f"/tasks/{task.id}", f"/cases/{ws['cases'][0].reference}", "/cases/new/ws_permit"):
        html = text(client.get(url))
        forms = re.findall(r'<form[^>]*method="post".*?</form>', html, re.S)
        assert forms, url
        for form in forms:
            assert 'name="csrf_token"' in form, (url, form[:200])
    assert client.post(f"/tasks/{task.id}/claim", csrf=False).status_code == 400
    assert db.session.get(HumanTask, task.id).assignee_id is None


def test_language_switch_is_kept_in_the_session(ws, client_for):
    client = client_for("anna")
    assert "Meine Aufgaben" in text(client.get("/"))
    client.post("/language", {"language": "en", "next": "/"})
    html = text(client.get("/"))
    assert "My tasks" in html and "Group tasks" in html and 'lang="en"' in html
    assert "Check documents" in text(client.get("/?view=group"))       # task titles through the catalog too
    task_page = text(client.get(f"/tasks/{open_task(ws['cases'][0]).id}"))
    assert "Check the <strong>passport</strong>" in task_page and "Ravi Kumar" in task_page   # instructions too


# --- inbox -----------------------------------------------------------------------------------------

def test_pages_read_outside_a_transaction_and_changes_run_in_one(ws, client_for):
    client = client_for("anna")
    task = open_task(ws["cases"][0])
    db.session.commit()             # the test's own transaction ends, as each request begins without one
    during = []

    def note(conn, *_args):
        during.append(runs_in_a_transaction(conn.connection.dbapi_connection))
    event.listen(db.engine, "after_cursor_execute", note)
    try:
        assert client.get("/?view=group").status_code == 200
        page = list(during)
        during.clear()
        response = client.post(f"/tasks/{task.id}/claim", {"next": "/"})
        change = list(during)
    finally:
        event.remove(db.engine, "after_cursor_execute", note)
    assert response.status_code == 302 and db.session.get(HumanTask, task.id).assignee_id == ws["anna"].id
    assert page and not any(page)           # no BEGIN, so no COMMIT: two round trips less per page
    assert change and all(change)           # the claim: one transaction


def test_a_get_request_that_writes_fails_and_writes_nothing(ctx):
    from engine.db import WriteInReadOnlySession
    from engine.models import Organisation
    db.session.commit()
    with ctx.test_request_context("/", method="GET"):
        ctx.preprocess_request()            # what the app does before any view of a GET
        db.session.add(Organisation(kind="center", name="Written by a GET"))
        with pytest.raises(WriteInReadOnlySession, match="INSERT INTO organisation"):
            db.session.flush()
    assert db.session.scalar(select(Organisation).where(Organisation.name == "Written by a GET")) is None


def counts(html):
    return {m.group(1): m.group(2) for m in re.finditer(r'data-count="(\w+)">([^<]+)<', html)}


def test_group_tasks_claim_unclaim_and_counts(ws, client_for):
    client = client_for("anna")
    html = text(client.get("/?view=group"))
    assert counts(html) == {"mine": "0", "group": "2"}
    assert "Ravi Kumar" in html and "Maria Santos" in html and "Olena" not in html   # other center
    task = open_task(ws["cases"][0])
    response = client.post(f"/tasks/{task.id}/claim", {"next": "/?view=group"})
    assert response.status_code == 302 and response.headers["Location"] == "/?view=group"
    html = text(client.get("/"))
    assert counts(html) == {"mine": "1", "group": "1"}
    assert "übernommen" in html and "Ravi Kumar" in html
    # another advisor cannot claim it any more
    ben = client_for("ben")
    ben.post(f"/tasks/{task.id}/claim", {"next": "/"})
    assert "ist Anna Berger zugewiesen" in text(ben.get("/"))
    assert db.session.get(HumanTask, task.id).assignee_id == ws["anna"].id
    client.post(f"/tasks/{task.id}/unclaim", {"next": "/"})
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee_id is None


def test_second_claim_shows_who_has_it(ws, client_for):
    task = open_task(ws["cases"][0])
    cases.claim_task(task.id, ws["anna"])
    ben = client_for("ben")
    response = ben.post(f"/tasks/{task.id}/claim", {"next": "/"})
    assert response.status_code == 302
    assert "Anna Berger" in text(ben.get("/"))


def test_filters_search_sort_live_in_the_url(ws, client_for):
    client = client_for("anna")
    html = text(client.get("/?view=group&q=ravi"))
    assert "Ravi Kumar" in html and "Maria Santos" not in html
    assert 'value="ravi"' in html
    assert "Suchergebnis" in html
    html = text(client.get(f"/?view=group&q={ws['cases'][1].reference}"))
    assert "Maria Santos" in html and "Ravi Kumar" not in html
    assert "Ravi Kumar" in text(client.get("/?view=group&process=ws_permit"))
    assert "Ravi Kumar" not in text(client.get("/?view=group&process=other"))
    assert "Ravi Kumar" in text(client.get("/?view=group&task=unterlagen"))
    assert "Ravi Kumar" not in text(client.get("/?view=group&due=overdue"))
    # due in 3 days (the ws process's P3D): within the week only from Monday to Thursday
    due_this_week = open_task(ws["cases"][0]).due_at < queries.day_bounds(clock.now())[2]
    assert ("Ravi Kumar" in text(client.get("/?view=group&due=week"))) == due_this_week
    clock.advance(timedelta(days=4))
    html = text(client.get("/?view=group&due=overdue"))
    assert "Ravi Kumar" in html and "überfällig" in html
    # sort links keep the filters and toggle direction
    html = text(client.get("/?view=group&q=a&sort=priority"))
    assert 'href="/?view=group&amp;q=a&amp;sort=-priority"' in html
    assert 'aria-sort="descending"' not in html and 'aria-sort="ascending"' in html
    # nonsense in the URL falls back to defaults
    assert client.get("/?view=evil&sort=drop&due=x&page=-3").status_code == 200


def test_future_follow_up_is_hidden_by_default(ws, client_for):
    task = open_task(ws["cases"][0])
    task.follow_up_at = clock.now() + timedelta(days=2)
    db.session.commit()
    client = client_for("anna")
    html = text(client.get("/?view=group"))
    assert "Ravi Kumar" not in html and counts(html)["group"] == "1"
    html = text(client.get("/?view=group&followup=1"))
    assert "Ravi Kumar" in html and "später" in html


def test_capped_counts_and_pagination(ws, client_for):
    template = open_task(ws["cases"][0])
    rows = []
    for i in range(1005):
        rows.append({c.name: getattr(template, c.key) for c in HumanTask.__table__.columns} |
                    {"id": f"bulk-{i:05d}", "case_subject": f"Bulk {i}", "created_at": clock.now()})
    db.session.execute(HumanTask.__table__.insert(), rows)
    from engine.models import HumanTaskGroup
    db.session.execute(HumanTaskGroup.__table__.insert(),
                       [{"task_id": r["id"], "group_name": "advisor", "center_id": template.center_id} for r in rows])
    from engine import task_counts
    assert task_counts.rebuild() == 1008     # 3 cases and the bulk load (past the engine): counted anew
    db.session.commit()
    client = client_for("anna")
    html = text(client.get("/?view=group"))
    assert counts(html)["group"] == "999+"
    assert html.count('data-task-id="') == 50
    assert 'rel="next"' in html and "Seite 1" in html
    html = text(client.get("/?view=group&page=3"))
    assert 'rel="prev"' in html and html.count('data-task-id="') == 50
    assert client.get("/?view=group&page=999").status_code == 302      # past the end: back to page 1


def test_inbox_statement_count_is_constant(ws, client_for, deploy_fixture):
    client = client_for("anna")
    statements = []

    def count(*_args, **_kw):
        statements.append(1)
    engine = db.engine
    client.get("/?view=group")
    event.listen(engine, "before_cursor_execute", count)
    try:
        db.session.expire_all()          # as in a real request: the user is loaded from the database
        client.get("/?view=group")
        few = len(statements)
        for i in range(20):
            cases.start_case("ws_permit", center=ws["center"], subject=f"Person {i}", data={"worker_name": "x"},
                             actor=ws["anna"])
        statements.clear()
        db.session.expire_all()
        html = text(client.get("/?view=group"))
        assert "Person 19" in html
        assert len(statements) == few, (few, len(statements))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # the user (with organisation, groups and the header's unread count); the page with its counts
    assert few == 2, few


def test_inbox_rows_escape_what_the_data_says(ws, client_for):
    # The rows come from a Jinja macro (advisor/_task_row.html) with autoescape:
    # a subject or a name with markup must still come out as text.
    evil = [cases.start_case("ws_permit", center=ws["center"], subject='<b>Evil & "Co"</b>',
                             data={"worker_name": "x"}, actor=ws["anna"]) for _ in range(2)]
    open_task(evil[1]).assignee_id = ws["ben"].id
    ws["ben"].display_name = "Ben <i>Okafor</i>"
    db.session.commit()
    for client, url in ((client_for("anna"), "/?view=group"), (client_for("sara"), "/?view=all")):
        html = text(client.get(url))
        assert "&lt;b&gt;Evil &amp; &#34;Co&#34;&lt;/b&gt;" in html, url
        assert "<b>Evil" not in html and "<i>Okafor" not in html, url
    assert "Ben &lt;i&gt;Okafor&lt;/i&gt;" in html


def test_inbox_counts_filtered_matches_and_supervisor_tab(ws, client_for):
    sara = client_for("sara")
    html = text(sara.get("/?view=all"))
    assert counts(html)["all"] == "2"                                    # both Aachen cases, not Köln
    html = text(sara.get("/?view=group&process=ws_permit"))
    assert "2 Treffer" in html
    assert "0 Treffer" in text(sara.get("/?view=group&process=other"))


def test_inbox_statements_write_fixed_values_into_the_sql(ws, client_for):
    # 'open', the organisation and the groups are written into the SQL (the clock stays bound), so
    # the partial indexes `WHERE state = 'open'` apply (SQLite needs the literal) and PostgreSQL can
    # keep one plan per statement; the counts and the process list for the filter ride along with the page.
    client = client_for("anna")
    statements = []

    def keep(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))
    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        client.get("/?view=group")
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    [sql] = [s for s in statements if "FROM human_task" in s]         # the page with its counts
    # the page, "mine", and the group tab's tasks with a follow-up date (the others have kept counts)
    assert sql.count("human_task.state = 'open'") == 3
    assert sql.count(f"human_task.center_id = {ws['center'].id}") == 3
    assert sql.count(f"group_task_count.center_id = {ws['center'].id}") == 1
    assert sql.count("IN ('advisor', 'user:anna')") == 3                # groups, and her candidate-user rows
    assert "process_definition" in sql


def test_supervisor_sees_all_and_assigns(ws, client_for):
    task = open_task(ws["cases"][0])
    sara = client_for("sara")
    html = text(sara.get("/?view=all"))
    assert "Alle offenen Aufgaben" in html and 'name="assignee"' in html
    sara.post(f"/tasks/{task.id}/assign", {"assignee": str(ws["ben"].id), "next": "/?view=all"})
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee_id == ws["ben"].id
    assert "Ben Okafor" in text(sara.get("/?view=all"))
    # an advisor has no "all" tab and cannot assign
    anna = client_for("anna")
    assert "Alle offenen Aufgaben" not in text(anna.get("/?view=all"))
    anna.post(f"/tasks/{task.id}/assign", {"assignee": str(ws["anna"].id), "next": "/"})
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee_id == ws["ben"].id
    # nobody from another center
    sara.post(f"/tasks/{task.id}/assign", {"assignee": str(ws["kai"].id), "next": "/"})
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee_id == ws["ben"].id


# --- authorization: other organisations see nothing -----------------------------------------------

def test_other_center_and_other_firm_get_404(ws, client_for):
    ravi = ws["cases"][0]
    task = open_task(ravi)
    kai = client_for("kai")
    for url in (f"/cases/{ravi.reference}", f"/cases/{ravi.reference}/diagram.bpmn", f"/tasks/{task.id}"):
        assert kai.get(url).status_code == 404, url
    assert kai.post(f"/tasks/{task.id}/claim", {"next": "/"}).status_code == 404
    assert kai.post(f"/tasks/{task.id}", dict(VALID)).status_code == 404
    assert kai.post(f"/cases/{ravi.reference}/comments", {"body": "hi"}).status_code == 404
    assert "Ravi Kumar" not in text(kai.get("/?view=group"))
    # the employer sees its own firm's case in the portal, not the other firm's
    jansen = client_for("jansen")
    assert jansen.get(f"/portal/cases/{ravi.reference}").status_code == 200
    assert jansen.get(f"/portal/cases/{ws['cases'][1].reference}").status_code == 404
    assert jansen.get(f"/portal/tasks/{open_task(ws['cases'][1]).id}").status_code == 404
    assert "Notizen" not in text(jansen.get(f"/portal/cases/{ravi.reference}"))      # internal notes stay internal
    assert kai.get("/cases/WC-AC-9999-99999").status_code == 404


# --- task page -------------------------------------------------------------------------------------

def test_invalid_submission_keeps_values_and_shows_errors(ws, client_for):
    task = open_task(ws["cases"][0])
    client = client_for("anna")
    html = text(client.get(f"/tasks/{task.id}"))
    assert "<strong>Pass</strong>" in html and "Ravi Kumar" in html
    assert "<script>alert" not in html and 'href="javascript' not in html
    response = client.post(f"/tasks/{task.id}", {"_action": "complete", "passport_no": "abc", "salary": "-5",
                                                  "notes": "Vertrag fehlt"})
    assert response.status_code == 422
    html = text(response)
    assert 'value="abc"' in html and 'value="-5"' in html and "Vertrag fehlt" in html
    assert 'aria-invalid="true"' in html and "error-summary" in html
    assert db.session.get(HumanTask, task.id).state == "open"


def test_draft_then_complete_then_conflict(ws, client_for):
    task = open_task(ws["cases"][0])
    anna = client_for("anna")
    response = anna.post(f"/tasks/{task.id}", {"_action": "draft", "passport_no": "C01X00T47", "next": "/"})
    assert response.status_code == 302
    html = text(anna.get(f"/tasks/{task.id}"))
    assert 'value="C01X00T47"' in html and "Entwurf gespeichert" in html
    assert "Entwurf" in text(anna.get("/?view=group"))          # the inbox row shows a draft badge
    response = anna.post(f"/tasks/{task.id}", {"_action": "complete", "next": "/?view=group", **VALID})
    assert response.status_code == 302 and response.headers["Location"] == "/?view=group"
    assert "ist erledigt" in text(anna.get("/?view=group"))
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).state == "completed"
    # Ben had the page open and submits too: a clear message, his values kept, nothing changed
    ben = client_for("ben")
    response = ben.post(f"/tasks/{task.id}", {"_action": "complete", **{**VALID, "passport_no": "B7654321"}})
    assert response.status_code == 409
    html = text(response)
    assert "inzwischen von Anna Berger erledigt" in html and "B7654321" in html
    events = db.session.scalars(select(HumanTask).where(HumanTask.case_id == ws["cases"][0].id)).all()
    assert sum(1 for e in events if e.element_id == "check_docs") == 1


def test_task_without_form_is_marked_done_with_comment(ws, client_for):
    ravi = ws["cases"][0]
    cases.complete_task(open_task(ravi).id, {"passport_no": "C01X00T47", "salary": 1}, actor=ws["anna"])
    task = open_task(ravi, "Arbeitgeber informieren")
    client = client_for("anna")
    html = text(client.get(f"/tasks/{task.id}"))
    assert "Als erledigt markieren" in html and 'name="_comment"' in html
    response = client.post(f"/tasks/{task.id}", {"_action": "complete", "_comment": "Telefonisch informiert"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).state == "completed"
    assert db.session.scalar(select(CaseComment.body).where(CaseComment.case_id == ravi.id)) == "Telefonisch informiert"


def test_completed_task_page_shows_what_was_entered(ws, client_for):
    task = open_task(ws["cases"][0])
    cases.complete_task(task.id, {"passport_no": "C01X00T47", "salary": 52000}, actor=ws["anna"])
    html = text(client_for("ben").get(f"/tasks/{task.id}"))
    assert "Erledigt" in html and "Anna Berger" in html and "C01X00T47" in html and "Abschließen" not in html


# --- case page, new case ---------------------------------------------------------------------------

def test_case_page_shows_header_data_timeline_diagram_and_notes(ws, client_for):
    ravi = ws["cases"][0]
    cases.complete_task(open_task(ravi).id, {"passport_no": "C01X00T47", "salary": 52000,
                                             "contract_type": "permanent"}, actor=ws["anna"])
    client = client_for("anna")
    html = text(client.get(f"/cases/{ravi.reference}"))
    assert ravi.reference in html and "Ravi Kumar" in html and "Test-Aufenthaltstitel" in html
    assert "Version 1" in html and "Laufend" in html and "Elektro Jansen GmbH" in html
    assert "Arbeitgeber informieren" in html                        # current task
    assert "Zustimmung der Bundesagentur abwarten" in html and "Behörde" in html   # its deadline, who acts
    assert "Passnummer" in html and "Unbefristet" in html           # labelled data, option labels
    assert "Technische Ansicht (JSON)" in html                      # raw JSON only behind a toggle
    assert "Aufgabe erledigt" in html and "Anna Berger" in html      # timeline with who
    viewer = re.search(r'<div class="bpmn-viewer"(.*?)></div>', html, re.S).group(1)
    completed = json.loads(re.search(r"data-completed='([^']*)'", viewer).group(1))
    active = json.loads(re.search(r"data-active='([^']*)'", viewer).group(1))
    waiting = json.loads(re.search(r"data-waiting='([^']*)'", viewer).group(1))
    assert {"start", "check_docs", "f1", "f2"} <= set(completed)
    assert active == ["inform_employer"] and waiting == ["wait_ba"]
    xml = client.get(f"/cases/{ravi.reference}/diagram.bpmn")
    assert xml.status_code == 200 and xml.mimetype == "text/plain" and b"ws_permit" in xml.data
    # notes
    client.post(f"/cases/{ravi.reference}/comments", {"body": "Rückruf am Montag"})
    assert "Rückruf am Montag" in text(client.get(f"/cases/{ravi.reference}"))
    client.post(f"/cases/{ravi.reference}/comments", {"body": "  "})
    assert "Bitte schreiben Sie" in text(client.get(f"/cases/{ravi.reference}"))


def test_incident_with_retry_button(ws, client_for, deploy_fixture):
    deploy_fixture("divide.bpmn")
    case = cases.start_case("divide", center=ws["center"], subject="Teilung", data={"total": 10, "parts": 0},
                            actor=ws["anna"])
    client = client_for("anna")
    html = text(client.get(f"/cases/{case.reference}"))
    assert "Fehler im Ablauf" in html and "Erneut versuchen" in html and "division" in html.lower()
    client.post(f"/cases/{case.reference}/retry", {})
    assert "erneut fehlgeschlagen" in text(client.get(f"/cases/{case.reference}"))


def test_start_a_case_with_its_start_form(ws, client_for):
    client = client_for("anna")
    html = text(client.get("/cases/new"))
    assert "Test-Aufenthaltstitel" in html and "mit Startformular" in html
    html = text(client.get("/cases/new/ws_permit"))
    assert "Name der Fachkraft" in html and "Elektro Jansen GmbH" in html
    response = client.post("/cases/new/ws_permit", {"_subject": "", "_employer": "", "country": "IN"})
    assert response.status_code == 422
    html = text(response)
    assert "Bitte geben Sie an, um wen es geht" in html and "Name der Fachkraft" in html
    assert 'value="IN" selected' in html or "selected" in html
    response = client.post("/cases/new/ws_permit", {"_subject": "Aiko Tanaka", "_employer": str(ws["firm"].id),
                                                    "_responsible": str(ws["ben"].id), "worker_name": "Aiko Tanaka",
                                                    "country": "UA"})
    assert response.status_code == 302
    case = db.session.scalar(select(Case).where(Case.subject == "Aiko Tanaka"))
    assert response.headers["Location"] == f"/cases/{case.reference}"
    assert case.employer_id == ws["firm"].id and case.responsible_id == ws["ben"].id
    assert "wurde angelegt" in text(client.get(response.headers["Location"]))
    assert client.get("/cases/new/nope").status_code == 404


# --- deadlines -------------------------------------------------------------------------------------

def test_deadlines_list_timers_and_task_dues_overdue_first(ws, client_for):
    ravi = ws["cases"][0]
    cases.complete_task(open_task(ravi).id, {"passport_no": "C01X00T47", "salary": 1}, actor=ws["anna"])
    client = client_for("anna")
    html = text(client.get("/deadlines"))
    assert "Zustimmung der Bundesagentur abwarten" in html and "Behörde" in html and "Arbeitgeber" in html
    assert "Olena" not in html
    clock.advance(timedelta(days=4))     # Maria's first task (due in 3 days) is now overdue
    html = text(client.get("/deadlines"))
    assert html.index("Überfällig") < html.index("Maria Santos") < html.index("Zustimmung der Bundesagentur")
    assert "Zustimmung" in text(client.get("/deadlines?actor=authority"))
    assert "Maria Santos" not in text(client.get("/deadlines?actor=authority"))
    assert "Maria Santos" not in text(client.get("/deadlines?mine=1"))   # Anna is responsible for Ravi only
    assert "Ravi Kumar" in text(client.get("/deadlines?mine=1"))


def test_a_null_character_in_any_field_is_refused_naming_the_field(ws, client_for):
    # PostgreSQL cannot store U+0000 in text: refused before any view runs, on both databases alike
    response = client_for().post("/login", {"username": "an\x00na", "password": "x"})
    assert response.status_code == 400 and "„username“" in text(response)
    anna = client_for("anna")
    response = anna.get("/?view=group&q=Ra%00vi")
    assert response.status_code == 400 and "„q“ enthält ein Nullzeichen" in text(response)
    assert anna.get("/?view=group&q=Ravi").status_code == 200
