"""The supervisors' pages over HTTP: what each role gets for each URL, the bulk actions, correcting a
failed step's data and retrying it, the report and its downloads."""
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import cases, clock, users
from engine.db import db
from engine.models import Case, CaseEvent, HumanTask


@pytest.fixture
def sv(ws, deploy_fixture):
    deploy_fixture("divide.bpmn")
    failed = cases.start_case("divide", center=ws["center"], subject="Broken", data={"total": 10, "parts": 0},
                              actor=ws["anna"], responsible=ws["anna"])
    admin = users.ensure_user("ada", "Ada Admin", organisation=ws["center"], groups=["admin"], password="pw-ada")
    owner = users.ensure_user("paul", "Paul Prozess", organisation=ws["center"], groups=["process_owner"],
                              password="pw-paul")
    kim = users.ensure_user("kim", "Kim Köln", organisation=ws["other_center"], groups=["supervisor"],
                            password="pw-kim")
    db.session.commit()
    return {**ws, "failed": failed, "ada": admin, "paul": owner, "kim": kim}


def _get(client, url):
    """A GET whose answer may be binary (the XLSX download)."""
    client._forget_user()
    return client.http.get(url)


def _urls(sv):
    ref = sv["failed"].reference
    return ["/supervisor/stuck", f"/supervisor/cases/{ref}/incident", "/supervisor/report",
            "/supervisor/report.csv", "/supervisor/report.xlsx", "/supervisor/workload",
            "/supervisor/workload/completed.csv", "/supervisor/workload/open.csv", "/supervisor/flow",
            "/supervisor/flow?process=ws_permit", "/supervisor/flow/cases.csv", "/supervisor/flow/ws_permit/diagram.bpmn"]


@pytest.mark.parametrize("who, expected", [("sara", 200), ("anna", 403), ("ada", 403), ("paul", 403),
                                           ("jansen", 403), (None, 302)])
def test_each_role_gets_the_supervisors_pages_or_not(sv, client_for, who, expected):
    client = client_for(who)
    for url in _urls(sv):
        response = _get(client, url)
        assert response.status_code == expected, (who, url)
        if who is None:
            assert "/login" in response.headers["Location"]
    if who == "sara":
        return                  # the supervisor's own actions: the tests below
    for url in (f"/supervisor/cases/{sv['failed'].reference}/retry", f"/supervisor/cases/{sv['failed'].reference}/cancel",
                "/supervisor/stuck"):
        response = client.post(url, {"reason_text": "x", "action": "cancel", "case": str(sv["failed"].id)})
        assert response.status_code in ((expected, 400) if who else (302, 400)), (who, url)   # 400: no CSRF token
    db.session.expire_all()
    assert db.session.get(Case, sv["failed"].id).status == "active"


def test_another_centers_supervisor_gets_404_for_this_centers_case(sv, client_for):
    kim = client_for("kim")
    ref = sv["failed"].reference
    assert kim.get(f"/supervisor/cases/{ref}/incident").status_code == 404
    assert kim.post(f"/supervisor/cases/{ref}/retry", {"value:parts": "4"}).status_code == 404
    assert kim.post(f"/supervisor/cases/{ref}/cancel", {"reason_text": "weg"}).status_code == 404
    page = kim.get("/supervisor/stuck").get_data(as_text=True)
    assert ref not in page and "Ravi Kumar" not in page
    response = kim.post("/supervisor/stuck", {"action": "cancel", "case": str(sv["failed"].id), "reason_text": "x"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, sv["failed"].id).status == "active"
    assert "WC-AC" not in kim.get("/supervisor/report").get_data(as_text=True)
    assert kim.get("/supervisor/cases/WC-XX-0000-99999/incident").status_code == 404


def test_stuck_list_bulk_reassign_and_errors(sv, client_for):
    clock.advance(timedelta(days=4))
    sara = client_for("sara")
    page = sara.get("/supervisor/stuck").get_data(as_text=True)
    assert sv["failed"].reference in page and "Ravi Kumar" in page and "Köln" not in page
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.state == "open",
                                                       HumanTask.center_id == sv["center"].id)).all()
    response = sara.post("/supervisor/stuck", {"action": "reassign", "task": [t.id for t in tasks]})
    assert response.status_code == 422 and 'href="#f-person"' in response.get_data(as_text=True)
    assert 'checked' in response.get_data(as_text=True)                  # the selection is kept
    response = sara.post("/supervisor/stuck", {"action": "reassign", "task": [t.id for t in tasks],
                                               "person": str(sv["ben"].id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert {t.assignee_id for t in tasks} == {sv["ben"].id}
    assert sara.post("/supervisor/stuck", {"action": "cancel", "case": str(sv["failed"].id)}).status_code == 422
    # ids no database integer holds are no selection and no person, not a failure
    response = sara.post("/supervisor/stuck", {"action": "responsible", "case": "99999999999999",
                                               "person": "99999999999999"})
    assert response.status_code == 422 and 'href="#f-person"' in response.get_data(as_text=True)


def test_correct_and_retry_over_http(sv, client_for):
    sara = client_for("sara")
    ref = sv["failed"].reference
    page = sara.get(f"/supervisor/cases/{ref}/incident").get_data(as_text=True)
    assert 'name="value:parts" value="0"' in page and "null" in page
    response = sara.post(f"/supervisor/cases/{ref}/retry", {"value:parts": "0", "value:total": "10",
                                                            "new_key": "9bad"})
    assert response.status_code == 422 and 'href="#f-new_key"' in response.get_data(as_text=True)
    response = sara.post(f"/supervisor/cases/{ref}/retry", {"value:parts": "5", "value:total": "10"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{ref}")
    db.session.expire_all()
    assert not db.session.get(Case, sv["failed"].id).has_incident


def test_report_page_and_downloads(sv, client_for):
    sara = client_for("sara")
    assert sara.get("/supervisor/report?period=month&value=2026-13").status_code == 422
    assert sara.get("/supervisor/report.csv?period=range&from=x").status_code == 422
    year = clock.now().year
    csv = sara.get(f"/supervisor/report.csv?period=year&value={year}")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    assert csv.get_data(as_text=True).lstrip("\ufeff").startswith("center,period,section,item,figure")
    xlsx = _get(sara, f"/supervisor/report.xlsx?period=year&value={year}")
    from openpyxl import load_workbook
    assert load_workbook(io.BytesIO(xlsx.data)).active["C2"].value == "firms"
    assert sara.get("/supervisor/report.pdf").status_code == 404


def test_workload_page_and_its_tables(sv, client_for):
    sara = client_for("sara")
    page = sara.get("/supervisor/workload").get_data(as_text=True)
    assert 'data-chart="completed"' in page and "Anna Berger" in page and "Kai Köln" not in page
    csv = sara.get("/supervisor/workload/open.csv")
    assert csv.mimetype == "text/csv" and csv.get_data(as_text=True).lstrip("\ufeff").startswith("week,open,overdue")
    assert sara.get("/supervisor/workload/nothing.csv").status_code == 404
    for chart in ("people_open", "people_overdue", "groups_open", "groups_overdue", "groups_completed"):
        assert f'data-chart="{chart}"' in page and f'href="/supervisor/workload/{chart}.csv"' in page
    people = sara.get("/supervisor/workload/people_open.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert people[0].startswith("week,") and "Anna Berger" in people[0] and len(people) == 9      # eight weeks
    assert "Kai Köln" not in people[0]


def test_flow_page_and_the_diagram_route(sv, client_for):
    sara = client_for("sara")
    page = sara.get("/supervisor/flow?process=ws_permit").get_data(as_text=True)
    assert 'data-chart="cases"' in page and "data-heat=" in page and "/supervisor/flow/ws_permit/diagram.bpmn" in page
    diagram = sara.get("/supervisor/flow/ws_permit/diagram.bpmn")
    assert diagram.mimetype == "text/plain" and "sandbox" in diagram.headers["Content-Security-Policy"]
    assert sara.get("/supervisor/flow/nothing/diagram.bpmn").status_code == 404
    assert sara.get("/supervisor/flow/cases.csv").get_data(as_text=True).lstrip("\ufeff").startswith("week,started")
