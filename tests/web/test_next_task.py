"""After completing a task the advisor is offered the case's next task ("weiter mit …", one click), the case
number in the message is a link, and a task marked keep_assignee hands the next step to the same person."""
import re

from sqlalchemy import select

from engine import cases, deploy
from engine.db import db
from engine.models import HumanTask

from tests.conftest import fixture_files
from tests.engine.test_task_counts import assert_counts_agree


def text(response):
    return response.get_data(as_text=True)


def open_tasks(case_id):
    db.session.expire_all()
    return {t.title: t for t in db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id,
                                                                            HumanTask.state == "open"))}


def test_keep_assignee_hands_the_next_step_to_the_same_person_if_a_candidate(people):
    deploy.deploy(fixture_files("keep_assignee.bpmn"))
    case = cases.start_case("keep_assignee", center=people["center"], subject="Kim", actor=people["anna"])
    cases.complete_task(open_tasks(case.id)["Erstgespräch"].id, {}, actor=people["anna"])
    db.session.rollback()
    after = open_tasks(case.id)
    assert after["Unterlagen prüfen"].assignee_id == people["anna"].id     # a candidate: stays with her
    assert after["Freigeben"].assignee_id is None                          # supervisors' task: to the pool
    assert_counts_agree(people, "after a keep_assignee completion")         # the group tab's kept count
    cases.complete_task(after["Unterlagen prüfen"].id, {}, actor=people["anna"])
    assert open_tasks(case.id)["Abschluss prüfen"].assignee_id is None      # no keep_assignee there: the pool


def test_completing_offers_the_next_task_and_links_the_case(people, client_for):
    deploy.deploy(fixture_files("keep_assignee.bpmn"))
    case = cases.start_case("keep_assignee", center=people["center"], subject="Kim", actor=people["anna"])
    db.session.commit()
    client = client_for("anna")
    first = open_tasks(case.id)["Erstgespräch"]
    client.get(f"/tasks/{first.id}")
    response = client.post(f"/tasks/{first.id}", {"next": "/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    html = text(client.get("/"))
    following = open_tasks(case.id)["Unterlagen prüfen"]
    assert f'(Fall <a href="/cases/{case.reference}">{case.reference}</a>)' in html
    link = re.search(r'<a class="flash__next" href="([^"]+)">([^<]+)</a>', html)
    assert link and link.group(1).startswith(f"/tasks/{following.id}") and "Unterlagen prüfen" in link.group(2)
    assert client.get(link.group(1).replace("&amp;", "&")).status_code == 200          # one click to work on it
    # the last advisor task done, only the supervisors' task is open: nothing is offered to Anna
    client.post(f"/tasks/{following.id}", {"next": "/"})
    assert "Weiter mit „Abschluss prüfen“" in text(client.get("/"))
    client.post(f"/tasks/{open_tasks(case.id)['Abschluss prüfen'].id}", {"next": "/"})
    html = text(client.get("/"))
    assert "ist erledigt" in html and "flash__next" not in html


def test_titles_in_the_message_are_escaped(people, client_for):
    deploy.deploy([("keep_assignee.bpmn", fixture_files("keep_assignee.bpmn")[0][1]
                    .replace(b'name="Unterlagen pr\xc3\xbcfen"', b'name="&lt;b&gt;Pr\xc3\xbcfen&lt;/b&gt;"'))])
    case = cases.start_case("keep_assignee", center=people["center"], subject="Kim", actor=people["anna"])
    db.session.commit()
    client = client_for("anna")
    client.get("/")
    client.post(f"/tasks/{open_tasks(case.id)['Erstgespräch'].id}", {"next": "/"})
    html = text(client.get("/"))
    assert "&lt;b&gt;Prüfen&lt;/b&gt;" in html and "<b>Prüfen" not in html
