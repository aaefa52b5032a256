"""The inbox's rows: one renderer (the Jinja macro in advisor/_task_row.html) for the page and for a row
claimed in place, which stays in the tab being looked at; and the landing page's figures."""
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import get_template_attribute
from flask_babel import gettext

from engine import cases, clock
from engine.db import db
from engine.inbox import InboxRow
from engine.models import HumanTask
from tests.web.test_workspace import counts, open_task, text
from web.advisor.filters import priority_view

HTMX = {"HX-Request": "true"}


def _row(html, task_id):
    found = re.search(rf'<tr data-task-id="{task_id}".*?</tr>', html, re.S)
    return found.group(0) if found else None


def test_a_claim_in_place_answers_with_the_row_now_the_users(ws, client_for):
    client = client_for("anna")
    task = open_task(ws["cases"][0])
    before = _row(text(client.get("/?view=group")), task.id)
    assert before is not None and "Übernehmen" in before and "von Ihnen übernommen" not in before
    response = client.post(f"/tasks/{task.id}/claim", {"next": "/?view=group"}, headers=HTMX)
    assert response.status_code == 200
    row = _row(text(response), task.id)
    assert row is not None and text(response).strip().startswith("<tr")
    assert "von Ihnen übernommen" in row and "Freigeben" in row and ">Übernehmen<" not in row
    assert 'name="next" value="/?view=group"' in row          # its forms still lead back to the tab
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee_id == ws["anna"].id
    # no message waits for the next page: the row said it
    assert "übernommen" not in text(client.get("/?view=mine")).split('class="tasks"')[0]
    # after a reload, the group tab no longer lists it; my tasks do, without the in-place mark
    assert _row(text(client.get("/?view=group")), task.id) is None
    mine = _row(text(client.get("/?view=mine")), task.id)
    assert mine is not None and "von Ihnen übernommen" not in mine


def test_a_claim_in_place_that_fails_sends_the_browser_to_the_page_with_the_reason(ws, client_for):
    task = open_task(ws["cases"][0])
    cases.claim_task(task.id, ws["ben"])
    client = client_for("anna")
    response = client.post(f"/tasks/{task.id}/claim", {"next": "/?view=group"}, headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/?view=group"
    assert ws["ben"].display_name in text(client.get("/?view=group"))
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee_id == ws["ben"].id


def test_without_javascript_a_claim_still_redirects_with_a_message(ws, client_for):
    client = client_for("anna")
    task = open_task(ws["cases"][0])
    response = client.post(f"/tasks/{task.id}/claim", {"next": "/?view=group"})
    assert response.status_code == 302 and response.headers["Location"] == "/?view=group"
    assert "Sie haben" in text(client.get("/?view=group"))


def test_a_claim_in_place_of_an_invisible_task_is_a_404(ws, client_for):
    other = open_task(ws["cases"][2])                      # another center's case
    response = client_for("anna").post(f"/tasks/{other.id}/claim", {"next": "/"}, headers=HTMX)
    assert response.status_code == 404


def test_the_landing_page_counts_the_cases_the_advisor_is_responsible_for(ws, client_for):
    html = text(client_for("anna").get("/"))
    assert counts(html)["mine"] == "0"                      # no task claimed ...
    responsible = re.search(r'data-cases-count="responsible">([^<]+)<', html).group(1)
    assert responsible == "1"                               # ... but one case is hers (ws: Ravi Kumar)
    cases.start_case("ws_permit", center=ws["center"], subject="Neu", data={"worker_name": "Neu"},
                     actor=ws["anna"], responsible=ws["anna"])
    db.session.commit()
    html = text(client_for("anna").get("/"))
    assert re.search(r'data-cases-count="responsible">([^<]+)<', html).group(1) == "2"
    assert re.search(r'data-cases-count="responsible">([^<]+)<', text(client_for("ben").get("/"))).group(1) == "0"


def test_rows_of_every_tab_come_from_the_one_macro(ws, client_for):
    task = open_task(ws["cases"][0])
    cases.claim_task(task.id, ws["anna"])
    for user, url in (("anna", "/?view=mine"), ("sara", "/?view=all")):
        row = _row(text(client_for(user).get(url)), task.id)
        assert row is not None, url
        assert 'class="prio prio--' in row and '<span class="due' in row and "csrf_token" in row


def test_each_rows_priority_badge_is_the_macros_for_its_priority(ws, client_for, app):
    # the badges are made once per priority on a page: rows of different priorities keep their own
    tasks = [open_task(ws["cases"][0]), open_task(ws["cases"][1])]
    for task, priority in zip(tasks, (90, 30)):
        task.priority = priority
    db.session.commit()
    html = text(client_for("anna").get("/?view=group"))
    with app.test_request_context():
        badge = get_template_attribute("_macros.html", "priority_badge")
        expected = {p: str(badge(priority_view(p, gettext))) for p in (90, 30)}
    for task, priority in zip(tasks, (90, 30)):
        cells = re.findall(r"<td>(.*?)</td>", _row(html, task.id), re.S)
        assert expected[priority] in cells
    assert expected[90] != expected[30]


# ---------------------------------------------------------------- the rows' HTML, byte for byte
#
# The rows are made for speed (web.advisor.rows and the one macro); what they show must not change with
# that. GOLDEN holds the HTML of rows that take every branch (due states, draft, follow-up dates, the
# three actions, the supervisors' assignee column and form, a row claimed in place, text that needs
# escaping), in German and English. If the rows' HTML changes on purpose, write the file anew:
#   LOTSE_WRITE_GOLDEN=1 .venv/bin/pytest tests/web/test_inbox_rows.py -k golden

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "html" / "inbox_rows.html"
NOW = datetime(2026, 12, 2, 13, 30, 15, 250000, tzinfo=timezone.utc)       # a Wednesday, 14:30 in Berlin


def _golden_rows():
    def row(n, **kw):
        values = dict(id=f"0000000{n}-0000-4000-8000-000000000000", title="Unterlagen prüfen", case_id=n,
                      case_reference=f"WC-AC-2026-0000{n}", case_subject=f"Maria Santos {n}", process_key="visa",
                      process_name="Visum und Einreise", due_at=None, follow_up_at=None, priority=50,
                      created_at=NOW - timedelta(days=3, minutes=7), assignee_id=None, assignee_name=None,
                      actor="center", has_draft=False, candidate_groups=["advisor"], candidate_users=[],
                      center_id=1)
        return InboxRow(**{**values, **kw})
    return [
        row(1, title="Prüfen <b>&</b> \"freigeben\"", case_subject="O'Neil & <Söhne>", due_at=NOW - timedelta(days=2),
            has_draft=True, follow_up_at=NOW - timedelta(hours=5), priority=90),
        row(2, due_at=NOW + timedelta(hours=3, seconds=1), follow_up_at=NOW + timedelta(days=4), assignee_id=7,
            assignee_name="Anna <Advisor>", priority=70),
        row(3, due_at=NOW + timedelta(days=9, minutes=1), assignee_id=8, assignee_name="Ben & Co", priority=30,
            created_at=NOW - timedelta(seconds=20)),
        row(4, title="Erstgespräch führen", process_name="Fachkraft begleiten", created_at=NOW - timedelta(days=40)),
    ]


def _render_golden(app, language):
    from types import SimpleNamespace

    from web.advisor.rows import task_rows
    team = [SimpleNamespace(id=7, display_name="Anna <Advisor>"), SimpleNamespace(id=8, display_name="Ben & Co")]
    out = []
    with app.test_request_context("/?view=group", headers={"Accept-Language": language}), clock.private(NOW):
        macro = get_template_attribute("advisor/_task_row.html", "task_rows")
        rows = _golden_rows()
        for title, kwargs, claimed_here in (
                ("group tab (user 7)", {}, False),
                ("all tab, a supervisor (user 9)", {"all_view": True,
                                                    "assignable": {r.id: team for r in rows[:3]}}, False),
                ("claimed in place (user 7)", {}, True)):
            user_id = 9 if kwargs else 7
            views, shared = task_rows(rows[:1] if claimed_here else rows, "/?view=group&q=a%20b", user_id, **kwargs)
            out.append(f"<!-- {language}: {title} -->\n{macro(views, shared, claimed_here=claimed_here)}\n")
    return re.sub(r'(name="csrf_token" value=")[^"]*', r"\1CSRF", "".join(out))


def test_the_rows_html_is_byte_for_byte_the_golden_one(app):
    html = _render_golden(app, "de") + _render_golden(app, "en")
    if os.environ.get("LOTSE_WRITE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(html, encoding="utf-8")
    assert html == GOLDEN.read_text(encoding="utf-8")
    # what the golden file is made of: escaped data, both languages, every action
    assert "Prüfen &lt;b&gt;&amp;&lt;/b&gt; &#34;freigeben&#34;" in html and "<b>" not in html
    assert ">Übernehmen<" in html and ">Freigeben<" in html and ">Claim<" in html and 'selected>' in html
