"""The page "API-Zugänge" (/account/api): each person's own tokens, shown once, stored hashed, revocable;
service accounts for admins only. What each role gets."""
import re

from engine import users
from engine.db import db
from engine.models import ApiToken

SECRET = re.compile(r'id="api-secret">(lotse_[^<]+)<')


def test_every_role_with_an_account_manages_its_own_tokens(ws, client_for, api, people):
    users.ensure_user("paul", "Paul Prozess", organisation=people["center"], groups=["process_owner"],
                      password="pw-paul")
    db.session.commit()
    for username in ("anna", "sara", "paul", "jansen"):
        browser = client_for(username)
        page = browser.get("/account/api")
        assert page.status_code == 200 and "API-Zugänge" in page.get_data(as_text=True)
        assert "Dienstkonten" not in page.get_data(as_text=True)
        created = browser.post("/account/api/tokens", {"name": f"{username} crm", "days": "30"})
        assert created.status_code == 201
        secret = SECRET.search(created.get_data(as_text=True)).group(1)
        assert secret not in browser.get("/account/api").get_data(as_text=True)        # shown once
        assert api(token=secret).get("/api/v1/tasks").status_code == 200
        row = db.session.query(ApiToken).filter_by(name=f"{username} crm").one()
        assert row.token_hash != secret and row.user_id == people[username].id if username in people else True


def test_revoking_ends_the_token_and_anothers_token_is_404(ws, client_for, api):
    anna = client_for("anna")
    secret = SECRET.search(anna.post("/account/api/tokens", {"name": "crm", "days": "7"})
                           .get_data(as_text=True)).group(1)
    row = db.session.query(ApiToken).filter_by(name="crm").one()
    assert client_for("ben").post(f"/account/api/tokens/{row.id}/revoke").status_code == 404
    assert api(token=secret).get("/api/v1/tasks").status_code == 200
    assert anna.post(f"/account/api/tokens/{row.id}/revoke").status_code == 302
    assert api(token=secret).get("/api/v1/tasks").status_code == 401
    assert "widerrufen" in anna.get("/account/api").get_data(as_text=True)


def test_bad_input_names_the_field_and_keeps_the_values(ws, client_for):
    page = client_for("anna").post("/account/api/tokens", {"name": "crm", "days": "999"})
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and 'id="e-days"' in text and 'value="crm"' in text
    assert db.session.query(ApiToken).count() == 0


def test_service_accounts_are_for_admins(ws, client_for, people):
    users.ensure_user("ada", "Ada Admin", organisation=people["center"], groups=["admin"], password="pw-ada")
    db.session.commit()
    for username in ("sara", "anna", "jansen"):
        browser = client_for(username)
        browser.get("/account/api")                     # the page's CSRF token
        assert browser.post("/account/api/service-accounts",
                            {"service_name": "x", "topics": "charge"}).status_code == 403, username
    admin = client_for("ada")
    assert "Dienstkonten" in admin.get("/account/api").get_data(as_text=True)
    bad = admin.post("/account/api/service-accounts", {"service_name": "payments", "topics": "bad topic!"})
    assert bad.status_code == 422 and 'id="e-topics"' in bad.get_data(as_text=True)
    made = admin.post("/account/api/service-accounts", {"service_name": "payments", "topics": "charge, refund"})
    assert made.status_code == 201 and SECRET.search(made.get_data(as_text=True))
    row = db.session.query(ApiToken).filter_by(kind="service").one()
    assert row.topics == ["charge", "refund"] and row.center_id == people["center"].id
    assert client_for("sara").post(f"/account/api/service-accounts/{row.id}/revoke").status_code == 403
    assert admin.post(f"/account/api/service-accounts/{row.id}/revoke").status_code == 302


def test_anonymous_is_sent_to_the_login(ws, client_for):
    anonymous = client_for()
    assert anonymous.get("/account/api").status_code == 302
    assert anonymous.post("/account/api/tokens", {"name": "x", "days": "1"}).status_code in (302, 400)


def test_the_api_document_and_its_page_are_public(ws, client_for):
    browser = client_for()
    document = browser.get("/api/v1/openapi.json")
    assert document.status_code == 200 and document.get_json()["openapi"] == "3.1.0"
    page = browser.get("/api/v1/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.get_data(as_text=True)
    assert "cdn" not in page.get_data(as_text=True).lower()
