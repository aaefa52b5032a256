"""The case list ("Fälle"): the center's cases found by reference, name, firm, process, status, responsible
advisor, error and quiet time; sorted and paged; a fixed number of statements per page."""
import re
from datetime import timedelta

from sqlalchemy import event

from engine import case_list, cases, clock, deploy
from engine.db import db

from tests.conftest import fixture_files


def text(response):
    return response.get_data(as_text=True)


def listed(client, url="/cases"):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return re.findall(r'data-case="([^"]+)"', text(response))


def test_staff_see_their_centers_cases_employers_do_not(ws, client_for):
    ravi, maria, olena = ws["cases"]
    assert sorted(listed(client_for("anna"))) == sorted([ravi.reference, maria.reference])
    assert listed(client_for("kai")) == [olena.reference]
    assert client_for("jansen").get("/cases").status_code == 403
    assert 'href="/cases"' in text(client_for("anna").get("/"))          # in the main navigation


def test_search_by_reference_name_firm_process_and_responsible(ws, client_for):
    ravi, maria, _olena = ws["cases"]
    client = client_for("anna")
    assert listed(client, f"/cases?q={ravi.reference}") == [ravi.reference]
    assert listed(client, f"/cases?q={ravi.reference.lower()}") == [ravi.reference]
    assert listed(client, "/cases?q=sant") == [maria.reference]                   # a part of the name
    assert listed(client, f"/cases?firm={ws['firm'].id}") == [ravi.reference]
    assert listed(client, f"/cases?responsible={ws['anna'].id}") == [ravi.reference]
    assert sorted(listed(client, "/cases?process=ws_permit")) == sorted([ravi.reference, maria.reference])
    assert listed(client, "/cases?process=other") == []
    assert listed(client, "/cases?q=100%25") == []                                  # LIKE characters are text
    html = text(client.get("/cases?q=sant"))
    assert "Maria Santos" in html and "Bäckerei Schmitz" in html and "1 Fall<" in html


def test_status_filter_and_cases_in_error(ws, client_for):
    ravi, maria, _olena = ws["cases"]
    cases.cancel_case(maria.id, actor=ws["anna"])
    deploy.deploy(fixture_files("divide.bpmn"))
    broken = cases.start_case("divide", center=ws["center"], subject="Teilung", data={"total": 1, "parts": 0},
                              actor=ws["anna"])
    db.session.commit()
    assert broken.has_incident
    client = client_for("anna")
    assert listed(client, "/cases?incident=1") == [broken.reference]
    html = text(client.get("/cases"))
    assert "Fehler im Ablauf" in html and broken.reference in html
    active = set(listed(client))
    assert broken.reference in active and ravi.reference in active and maria.reference not in active
    assert listed(client, "/cases?status=cancelled") == [maria.reference]
    everything = set(listed(client, "/cases?status=all"))
    assert active <= everything and maria.reference in everything


def test_quiet_cases_and_sort_by_last_activity(ws, client_for):
    ravi, maria, _olena = ws["cases"]
    clock.advance(timedelta(days=20))
    cases.claim_task(next(t for t in _open_tasks(maria)).id, ws["anna"])      # Maria's case moves today
    db.session.commit()
    client = client_for("anna")
    assert listed(client, "/cases?idle=14") == [ravi.reference]
    assert listed(client, "/cases?idle=30") == []
    assert listed(client) == [maria.reference, ravi.reference]                 # latest activity first
    assert listed(client, "/cases?sort=updated") == [ravi.reference, maria.reference]
    assert listed(client, "/cases?sort=started") == [ravi.reference, maria.reference]
    assert listed(client, "/cases?sort=-started") == [maria.reference, ravi.reference]
    assert listed(client, "/cases?idle=abc&sort=nonsense&status=x&page=-3") == [maria.reference, ravi.reference]


def test_pages(ws):
    for i in range(3):
        cases.start_case("ws_permit", center=ws["center"], subject=f"Person {i}", data={"worker_name": "x"},
                         actor=ws["anna"])
    db.session.commit()
    first = case_list.case_page(ws["anna"], case_list.CaseQuery(sort="started", per_page=2))
    second = case_list.case_page(ws["anna"], case_list.CaseQuery(sort="started", per_page=2, page=2))
    third = case_list.case_page(ws["anna"], case_list.CaseQuery(sort="started", per_page=2, page=3))
    assert [r.subject for r in first.rows + second.rows + third.rows] == [
        "Ravi Kumar", "Maria Santos", "Person 0", "Person 1", "Person 2"]
    assert first.has_next and second.has_next and not third.has_next
    assert first.total == 5 and first.last_page == 3


def test_statement_count_is_constant(ws, client_for):
    client = client_for("anna")
    statements = []

    def count(*_args, **_kw):
        statements.append(1)
    client.get("/cases")
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        db.session.expire_all()
        client.get("/cases?q=a")
        few = len(statements)
        for i in range(20):
            cases.start_case("ws_permit", center=ws["center"], subject=f"Anna {i}", data={"worker_name": "x"},
                             actor=ws["anna"], responsible=ws["anna"])
        db.session.commit()
        statements.clear()
        db.session.expire_all()
        assert "Anna 19" in text(client.get("/cases?q=a"))
        assert len(statements) == few, (few, len(statements))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _open_tasks(case):
    from sqlalchemy import select
    from engine.models import HumanTask
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")).all()
