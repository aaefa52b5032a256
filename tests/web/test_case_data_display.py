"""Case data as people read it (issue 15, items 6-8): the labels and option texts of the forms that collected
it, formatted for the UI's language; what no form labels only in the technical view; a completed task shows
every submitted value; a required field is never satisfied by a default, neither in a form nor in the data."""
import html as html_lib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import cases, clock, deploy, notifications
from engine.db import db
from engine.errors import DeploymentRejected
from engine.models import HumanTask, Notification

from tests.conftest import deploy_bundle
from tests.engine.test_report import scenario  # noqa: F401  (the funder scenario: a firm with two referrals)


def text(response):
    return html_lib.unescape(response.get_data(as_text=True)).replace("\xa0", " ").replace("\u202f", " ")


def open_task(case, element_id=None):
    db.session.expire_all()
    query = select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")
    if element_id:
        query = query.where(HumanTask.element_id == element_id)
    return db.session.scalar(query.order_by(HumanTask.created_at))


def data_panel(page):
    """The labelled data list of the case page: [(label, value)]."""
    block = re.search(r'<dl class="data-list">(.*?)</dl>', page, re.S)
    return re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", block.group(1)) if block else []


def technical_view(page):
    return re.search(r'<details class="raw-data">(.*?)</details>', page, re.S).group(1)


@pytest.fixture
def bundle(people):
    deploy_bundle()


INTAKE = dict(consultation_language="en", worker_name="Priya Nair", nationality="Indien",
              nationality_group="third_country", qualification_type="academic", occupation_group="it",
              degree_comparable=True, has_job_offer=True, annual_salary=52000, employment_start="2027-03-01",
              consent_data_processing=True)


def started_journey(people, subject="Priya Nair"):
    case = cases.start_case("worker_journey", center=people["center"], subject=subject, actor=people["anna"],
                            responsible=people["anna"])
    cases.complete_task(open_task(case, "task_intake").id, INTAKE, actor=people["anna"])
    db.session.commit()
    return case


def test_the_data_panel_uses_the_forms_labels_and_the_german_formats(bundle, people, client_for):
    case = started_journey(people)
    page = text(client_for("anna").get(f"/cases/{case.reference}"))
    rows = dict(data_panel(page))
    assert rows["Bruttojahresgehalt in EUR"] == "52.000,00 €"                 # an amount, German
    assert rows["Arbeitsbeginn"] == "01.03.2027"                              # dd.mm.yyyy
    assert rows["Name"] == "Priya Nair"
    labels = [label for label, _ in data_panel(page)]
    # variables no form labels (a script's, a decision table's) are only in the collapsed technical view
    for internal in ("fast_track_result", "salary_threshold", "proposed_residence_path", "recognition_result"):
        assert internal not in labels and internal.replace("_", " ").capitalize() not in labels
        assert f'"{internal}"' in technical_view(page)
    assert not {"not_used", "not_required", "—"} & {value for _, value in data_panel(page)}   # placeholders: technical view
    assert "52000.0" not in "".join(value for _, value in data_panel(page))
    assert '<details class="raw-data">' in page and '<details class="raw-data" open' not in page
    # the decision table's proposal is no answer yet: it shows once the advisor has confirmed the route
    assert "Anerkennung/Zeugnisbewertung nötig" not in rows and "Aufenthaltsweg" not in rows
    cases.complete_task(open_task(case, "task_path_confirm").id, {
        "residence_path": "blue_card", "recognition_required": False, "ba_approval_required": False,
        "use_fast_track": False}, actor=people["anna"])
    db.session.commit()
    rows = dict(data_panel(text(client_for("anna").get(f"/cases/{case.reference}"))))
    assert rows["Aufenthaltsweg"] == "Blaue Karte EU (§ 18g)" and rows["Anerkennung/Zeugnisbewertung nötig"] == "Nein"


def test_the_data_panel_in_english_uses_the_translated_labels_and_formats(bundle, people, client_for):
    case = started_journey(people)
    people["anna"].language = "en"
    db.session.commit()
    page = text(client_for("anna").get(f"/cases/{case.reference}"))
    rows = dict(data_panel(page))
    assert rows["Gross annual salary in EUR"] == "€52,000.00"
    assert rows["Name"] == "Priya Nair"
    assert "1 Mar 2027" in rows.values()          # the one English date format (web/dates.py)
    assert not any(label in rows for label in ("Bruttojahresgehalt in EUR", "Arbeitsbeginn"))


def test_the_timeline_shows_changed_fields_with_labels_and_leaves_the_rest_out(ws, client_for):
    ravi = ws["cases"][0]
    cases.complete_task(open_task(ravi).id, {"passport_no": "C01X00T47", "salary": 52000.5,
                                             "contract_type": "permanent", "entry_date": "2027-01-15"},
                        actor=ws["anna"])
    db.session.commit()
    page = text(client_for("anna").get(f"/cases/{ravi.reference}"))
    rows = dict(data_panel(page))
    assert rows["Bruttojahresgehalt"] == "52.000,50 €"          # the fixture's field has the adorner "EUR"
    assert rows["Art des Vertrags"] == "Unbefristet" and rows["Geplante Einreise"] == "15.01.2027"
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S).group(1)
    assert "<th scope=\"row\">Passnummer</th>" in timeline and "52.000,50 €" in timeline


def test_unchanged_values_of_a_completed_task_are_shown(bundle, people, client_for):
    """The intake handed in with the name the case started with: the completed intake still shows it."""
    case = cases.start_case("worker_journey", center=people["center"], subject="Priya Nair", actor=people["anna"],
                            responsible=people["anna"], data={"worker_name": "Priya Nair"})
    task = open_task(case, "task_intake")
    cases.complete_task(task.id, INTAKE, actor=people["anna"])      # worker_name is the same as before
    db.session.commit()
    page = text(client_for("anna").get(f"/tasks/{task.id}"))
    name = re.search(r'<input[^>]*name="worker_name"[^>]*>', page).group(0)
    salary = re.search(r'<input[^>]*name="annual_salary"[^>]*>', page).group(0)
    assert 'value="Priya Nair"' in name and 'value="52000' in salary


def test_notices_name_groups_as_people_read_them_never_by_id(ws):
    task = open_task(ws["cases"][0])
    assert task.candidate_groups == ["advisor"] and task.assignee_id is None
    now = clock.now() + timedelta(days=30)
    notifications.notify(task, "escalation", now)
    db.session.commit()
    notes = db.session.scalars(select(Notification).where(Notification.kind == "escalation")).all()
    assert notes
    for note in notes:
        assert "(advisor)" not in note.body and "advisor" not in note.body
        assert "Beratung (Welcome Center)" in note.body


REQUIRED_WITH_DEFAULT = b"""{"id": "salary_form", "type": "default", "components": [
  {"type": "number", "id": "f_salary", "key": "salary", "label": "Gehalt", "validate": {"required": true},
   "defaultValue": 0},
  {"type": "checkbox", "id": "f_ok", "key": "consent", "label": "Einwilligung", "validate": {"required": true},
   "defaultValue": false},
  {"type": "radio", "id": "f_path", "key": "path", "label": "Weg", "validate": {"required": true},
   "values": [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}], "defaultValue": "a"}]}"""


def test_deploy_refuses_a_required_field_whose_default_satisfies_it(people):
    with pytest.raises(DeploymentRejected) as refused:
        deploy.deploy([("salary.form", REQUIRED_WITH_DEFAULT)])
    messages = [str(problem) for problem in refused.value.problems]
    assert len(messages) == 2, messages                      # an unticked required checkbox is no answer
    assert any("salary.form [f_salary]" in m and "'salary_form'" in m and "'salary'" in m and "Gehalt" in m
               for m in messages)
    assert any("salary.form [f_path]" in m and "'path'" in m for m in messages)
    assert all("remove the default value" in m for m in messages)


def test_the_bundled_forms_leave_required_fields_to_the_person(bundle, people, client_for):
    client = client_for("anna")
    case = cases.start_case("worker_journey", center=people["center"], subject="Priya Nair", actor=people["anna"],
                            responsible=people["anna"])
    db.session.commit()
    intake = text(client.get(f"/tasks/{open_task(case, 'task_intake').id}"))
    salary = re.search(r'<input[^>]*name="annual_salary"[^>]*>', intake).group(0)
    assert 'value=""' in salary or "value=" not in salary                  # not pre-filled with 0
    cases.complete_task(open_task(case, "task_intake").id, INTAKE, actor=people["anna"])
    db.session.commit()
    confirm = text(client.get(f"/tasks/{open_task(case, 'task_path_confirm').id}"))
    select_html = re.search(r'<select[^>]*name="residence_path".*?</select>', confirm, re.S).group(0)
    assert "selected" not in select_html                                   # the advisor chooses the route
    assert "Blaue Karte EU (§ 18g)" in confirm                              # the proposal is still named
    response = client.post(f"/tasks/{open_task(case, 'task_path_confirm').id}", {"next": "/"})
    assert response.status_code == 422 and "Aufenthaltsweg" in text(response)
    # the competent body for the recognition: the table proposes, the advisor chooses
    cases.complete_task(open_task(case, "task_path_confirm").id, {
        "residence_path": "skilled_worker_academic", "recognition_required": True, "ba_approval_required": True,
        "use_fast_track": False}, actor=people["anna"])
    db.session.commit()
    prepare = text(client.get(f"/tasks/{open_task(case, 'task_recognition_prepare').id}"))
    body = re.search(r'<select[^>]*name="recognition_body".*?</select>', prepare, re.S).group(0)
    assert "selected" not in body and "Vorschlag nach Tabelle: <strong>" in prepare


def test_the_case_page_lists_each_referral_once(scenario, client_for):  # noqa: F811
    """The funder counts referrals per firm, topic and partner; the case page lists the same ones, each
    once, with whether contact came about (the labelled data shows only the last one's loop variables)."""
    _j, employer, _workers = scenario
    page = client_for("sara").get(f"/cases/{employer['firm'].reference}").get_data(as_text=True)
    table = page[page.index('class="report-table case-referrals"'):]
    table = table[:table.index("</table>")]
    rows = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]]
    assert len(rows) == 2
    # The two follow-ups open at once; which one the scenario answers "yes" first is not fixed.
    recognition = [r for r in rows if "Handwerkskammer Aachen – Anerkennungsberatung" in r]
    language = [r for r in rows if "BAMF (Berufssprachkurse) / Volkshochschule" in r]
    assert len(recognition) == len(language) == 1
    assert "Anerkennung von Abschlüssen" in recognition[0] and "Sprachförderung" in language[0]
    assert sorted(r.rsplit(" ", 1)[-1] for r in rows) == ["Ja", "Nein"]
