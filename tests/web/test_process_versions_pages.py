"""The process owners' pages for migrating cases, comparing versions and rolling back, over HTTP and per role."""
import re

import pytest
from sqlalchemy import select

from engine import cases, deploy, users, versions
from engine.db import db
from engine.models import Case, CaseEvent, ProcessDefinition
from tests.engine.test_migration import approval


@pytest.fixture
def owners(people):
    """approval v1 with two running cases, v2 (adds a task) and v3 (renames the review); a process owner."""
    deploy.deploy([approval()])
    db.session.commit()
    started = [cases.start_case("approval", center=people["center"], actor=people["anna"], subject=s).reference
               for s in ("Firma A", "Firma B")]
    for version in (approval(due="P5D", archive=True), approval(review_id="check", archive=True)):
        deploy.deploy([version])
        db.session.commit()
    people["paul"] = users.ensure_user("paul", "Paul Prozess", organisation=people["center"],
                                       groups=["process_owner"], password="pw-paul")
    people["ada"] = users.ensure_user("ada", "Ada Admin", organisation=people["center"],
                                      groups=["admin", "supervisor", "process_owner"], password="pw-ada")
    people["adam"] = users.ensure_user("adam", "Adam Admin", organisation=people["center"], groups=["admin"],
                                       password="pw-adam")
    people["started"] = started
    db.session.commit()
    return people


URLS = ["/processes/approval/migrate", "/processes/approval/migrate?from=1&to=2",
        "/processes/approval/compare", "/processes/approval/compare?old=1&new=3",
        "/processes/approval/v1/diagram.bpmn"]
POSTS = [("/processes/approval/migrate", {"from": "1", "to": "2"}), ("/processes/approval/rollback", {"version": "1"})]


@pytest.mark.parametrize("username", ["anna", "sara", "adam", "jansen"])
def test_advisors_supervisors_admins_and_employers_get_403_on_every_page(owners, client_for, username):
    client = client_for(username)
    client.get("/")                       # a page with a CSRF token: the refusal is the role's, not the token's
    for url in URLS:
        assert client.get(url).status_code == 403, url
    for url, data in POSTS:
        assert client.post(url, data).status_code == 403, url
    assert db.session.scalar(select(ProcessDefinition.version).order_by(ProcessDefinition.version.desc())) == 3


def test_anonymous_is_sent_to_the_login(owners, client_for):
    client = client_for()
    for url in URLS:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


@pytest.mark.parametrize("username", ["paul", "ada"])
def test_process_owners_and_admins_with_the_role_get_every_page(owners, client_for, username):
    client = client_for(username)
    for url in URLS:
        assert client.get(url).status_code == 200, url


def test_a_guessed_process_or_version_is_a_404(owners, client_for):
    client = client_for("paul")
    for url in ("/processes/nope/migrate", "/processes/nope/compare", "/processes/approval/v9/diagram.bpmn",
                "/processes/approval/compare?old=9"):
        assert client.get(url).status_code == 404, url
    assert client.post("/processes/nope/rollback", {"version": "1"}).status_code == 404
    assert client.post("/processes/approval/migrate", {"from": "9", "to": "2"}).status_code == 404


def test_dry_run_then_migration_of_one_case_then_a_refused_one(owners, client_for):
    client = client_for("paul")
    first, second = owners["started"]
    page = client.get("/processes/approval/migrate?from=1&to=2").get_data(as_text=True)
    assert "2 von 2 Fällen können umgestellt werden, 0 würden abgelehnt." in page
    assert first in page and "“Antrag prüfen” (review)" in page and "2 Fälle auf v2 umstellen" in page
    assert db.session.scalar(select(CaseEvent.id).where(CaseEvent.kind == "case_migrated")) is None

    done = client.post("/processes/approval/migrate", {"from": "1", "to": "2", "case": first, "map": ""})
    assert done.status_code == 200
    assert "1 von 1 Fällen umgestellt, 0 abgelehnt." in done.get_data(as_text=True)
    db.session.expire_all()
    by_reference = {c.reference: c.definition.version for c in db.session.scalars(select(Case))}
    assert by_reference == {first: 2, second: 1}

    refused = client.get(f"/processes/approval/migrate?from=1&to=3&case={second}").get_data(as_text=True)
    assert "0 von 1 Fällen können umgestellt werden, 1 würden abgelehnt." in refused
    assert "review=neue_id" in refused and "umstellen</button>" not in refused
    moved = client.post("/processes/approval/migrate", {"from": "1", "to": "3", "case": second, "map": "review=check"})
    assert "1 von 1 Fällen umgestellt" in moved.get_data(as_text=True)
    again = client.post("/processes/approval/migrate", {"from": "1", "to": "3", "case": second, "map": "review=check"})
    assert again.status_code == 422          # sent twice (a reload): the case has moved, nothing happens
    assert f"{second} ist kein laufender Fall von approval v1." in again.get_data(as_text=True)


def test_bad_input_is_named_and_kept(owners, client_for):
    client = client_for("paul")
    response = client.get("/processes/approval/migrate?from=1&to=3&map=review")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Eine Zuordnung lautet alte_id=neue_id, nicht „review“." in page and 'aria-invalid="true"' in page
    assert ">review</textarea>" in page
    same = client.get("/processes/approval/migrate?from=2&to=2")
    assert same.status_code == 422 and "schon die Version, auf die umgestellt" in same.get_data(as_text=True)
    other = client.post("/processes/approval/migrate", {"from": "1", "to": "3", "map": "review=nothing"})
    assert other.status_code == 422 and "kein Element von approval v3" in other.get_data(as_text=True)
    assert client.post("/processes/approval/migrate", {"to": "3"}).status_code == 400


def test_compare_lists_the_changes_and_marks_them_for_the_diagrams(owners, client_for):
    page = client_for("paul").get("/processes/approval/compare?old=1&new=2").get_data(as_text=True)
    assert "2 neu, 0 entfernt, 2 geändert." in page
    assert "camunda:dueDate: &#39;P2D&#39; → &#39;P5D&#39;" in page
    assert re.search(r'data-added=\'\["archive", "f3"\]\'', page)
    assert 'data-xml-url="/processes/approval/v1/diagram.bpmn"' in page
    assert "v1 erneut bereitstellen" in page and "/processes/approval/migrate?from=1&amp;to=2" in page


def test_a_version_diagram_is_served_as_text_in_a_sandbox(owners, client_for):
    response = client_for("paul").get("/processes/approval/v2/diagram.bpmn")
    assert response.mimetype == "text/plain" and "sandbox" in response.headers["Content-Security-Policy"]
    assert 'id="archive"' in response.get_data(as_text=True)


def test_rollback_from_the_page(owners, client_for):
    client = client_for("paul")
    assert "v1 erneut bereitstellen" in client.get("/processes/approval/compare?old=1&new=3").get_data(as_text=True)
    response = client.post("/processes/approval/rollback", {"version": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/processes/approval/compare?old=1&new=4")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Version 1 ist als Version 4 wieder bereitgestellt" in page
    assert "v1 und v4 haben dieselben Elemente und Eigenschaften." in page
    assert versions.definition("approval", 4).source_file_id == versions.definition("approval", 1).source_file_id
    newest = client.post("/processes/approval/rollback", {"version": "4"})
    assert "v4 ist schon die neueste Version" in client.get(newest.headers["Location"]).get_data(as_text=True)


def test_the_pages_in_english(owners, client_for):
    client = client_for("paul")
    client.get("/processes/approval/migrate")
    assert client.post("/language", {"language": "en", "next": "/processes/approval/migrate"}).status_code == 302
    page = client.get("/processes/approval/migrate?from=1&to=3").get_data(as_text=True)
    assert "Migrate running cases" in page and "0 of 2 cases can be migrated, 2 would be refused." in page
    assert "The case stands on “Antrag prüfen” (review), which v3 does not have (map it to an element of v3: review=new_id)." in page
    compare = client.get("/processes/approval/compare?old=1&new=2").get_data(as_text=True)
    assert "2 added, 0 removed, 2 changed." in compare
