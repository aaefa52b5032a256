"""The admin pages: who may use them, another center's people and firms as 404, errors at the field,
the audit log per center, and the public password-link pages."""
import pytest
from sqlalchemy import func, select

from engine import organisations, users
from engine.db import db
from engine.models import AuditEntry, MailMessage, User


@pytest.fixture
def admins(people):
    """An admin for each of the two centers."""
    people["ada"] = users.ensure_user("ada", "Ada Admin", organisation=people["center"], groups=["admin"],
                                      password="pw-ada")
    people["kim"] = users.ensure_user("kim", "Kim Köln", organisation=people["other_center"], groups=["admin"],
                                      password="pw-kim")
    people["koeln_firm"] = users.get_organisation("employer", "Kölsch AG", center=people["other_center"])
    db.session.commit()
    return people


def test_only_admins_use_the_admin_pages(admins, client_for):
    advisor = client_for("anna")
    for url in ("/admin/people", "/admin/firms", "/admin/center", f"/admin/people/{admins['ben'].id}"):
        assert advisor.get(url).status_code == 403, url
    assert client_for("ada").get("/admin/people").status_code == 200


def test_another_centers_person_and_firm_are_404(admins, client_for):
    ada = client_for("ada")
    assert ada.get(f"/admin/people/{admins['kai'].id}").status_code == 404
    assert ada.get(f"/admin/firms/{admins['koeln_firm'].id}").status_code == 404
    assert ada.get(f"/admin/firms/{admins['firm'].id}").status_code == 200
    assert ada.post(f"/admin/people/{admins['kai'].id}/deactivate").status_code == 404
    assert ada.post(f"/admin/firms/{admins['firm'].id}/merge",
                    {"duplicate_id": admins["koeln_firm"].id}).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, admins["kai"].id).active
    assert "Kai Köln" not in ada.get("/admin/people").get_data(as_text=True)


def test_bad_input_is_shown_at_its_field_and_nothing_is_stored(admins, client_for):
    ada = client_for("ada")
    response = ada.post("/admin/people/new", {"username": "anna", "display_name": "", "email": "kein-mail",
                                              "organisation_id": admins["center"].id, "groups": "advisor"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Den Benutzernamen anna gibt es schon." in page and "ist keine E-Mail-Adresse" in page
    assert 'id="f-display_name" name="display_name"' in page and 'aria-invalid="true"' in page
    response = ada.post("/admin/firms/new", {"name": "Irgendwo GmbH", "kreis": "Atlantis"})
    assert response.status_code == 422 and "„Atlantis“ ist kein Kreis" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_admin_creates_firm_and_person_and_the_audit_log_shows_it(admins, client_for):
    ada = client_for("ada")
    response = ada.post("/admin/firms/new", {"name": "Neu GmbH", "kreis": "Kreis Düren", "employees": "12"})
    assert response.status_code == 302
    response = ada.post("/admin/people/new", {"username": "nora", "display_name": "Nora Neu",
                                              "email": "nora@wc.example", "organisation_id": admins["center"].id,
                                              "groups": "advisor", "language": "de"})
    assert response.status_code == 302
    assert db.session.scalar(select(MailMessage).where(MailMessage.to == "nora@wc.example")) is not None
    log = client_for("sara").get("/admin/audit").get_data(as_text=True)       # a supervisor reads it
    assert "Neu GmbH" in log and "Nora Neu (nora)" in log and "Ada Admin" in log
    assert "Neu GmbH" not in client_for("kim").get("/admin/audit").get_data(as_text=True)
    assert client_for("anna").get("/admin/audit").status_code == 403


def test_firm_search_and_paging(admins, client_for):
    for number in range(30):
        organisations.create_firm({"name": f"Suchfirma {number:02d}", "city": "Jülich"}, admins["center"])
    db.session.commit()
    ada = client_for("ada")
    first = ada.get("/admin/firms?q=suchfirma").get_data(as_text=True)
    assert "Suchfirma 00" in first and "Suchfirma 25" not in first and "Elektro Jansen" not in first
    assert "Suchfirma 25" in ada.get("/admin/firms?q=suchfirma&page=2").get_data(as_text=True)
    assert "Suchfirma 07" in ada.get("/admin/firms?q=jülich").get_data(as_text=True)


def test_forgot_password_answers_the_same_for_unknown_names(admins, client_for):
    admins["anna"].email = "anna@wc.example"
    db.session.commit()
    visitor = client_for()
    visitor.get("/password/forgot")
    known = visitor.post("/password/forgot", {"login": "anna"}, follow_redirects=True).get_data(as_text=True)
    unknown = visitor.post("/password/forgot", {"login": "niemand"}, follow_redirects=True).get_data(as_text=True)
    assert "ist ein Link für ein neues Passwort unterwegs" in known and "unterwegs" in unknown
    assert db.session.scalar(select(func.count()).select_from(MailMessage)) == 1


def test_a_wrong_link_is_refused_with_a_message(client_for):
    response = client_for().get("/password/set/not-a-token")
    assert response.status_code == 410 and "ungültig" in response.get_data(as_text=True)


def test_the_own_password_change_refuses_a_common_password(people, client_for):
    anna = client_for("anna")
    anna.get("/password")
    response = anna.post("/password", {"current_password": "pw-anna", "new_password": "qwertyuiop123",
                                       "new_password_repeat": "qwertyuiop123"})
    assert response.status_code == 422 and "häufig benutzter Passwörter" in response.get_data(as_text=True)
    assert users.authenticate("anna", "pw-anna") is not None
