"""The information library: process owners keep it (every other role gets a 403); the worker sees the items
of their open steps' topics in their language, else in English (and the page says so), with the review date."""
from datetime import date

import pytest
from sqlalchemy import select

from engine import info_library, users
from engine.db import db
from engine.errors import Forbidden
from engine.models import InfoItem
from tests.worker.conftest import open_as_worker


@pytest.fixture
def owners(people):
    center = people["center"]
    return {**people,
            "paul": users.ensure_user("paul", "Paul Prozess", organisation=center, groups=["process_owner"],
                                      password="pw-paul"),
            "ada": users.ensure_user("ada", "Ada Admin", organisation=center, groups=["admin"], password="pw-ada")}


def _add(owner, **fields):
    values = {"topic": "registration", "language": "en", "title": "Register your address", "text": "",
              "url": "https://www.aachen.de", "reviewed_on": "2026-11-20", **fields}
    return info_library.save(owner, None, values)


@pytest.mark.parametrize("username", ["anna", "sara", "jansen", "ada"])
def test_other_roles_get_a_403(owners, client_for, username):
    item = _add(owners["paul"])
    client = client_for(username)
    for url in ("/library/", "/library/new", f"/library/{item.id}"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/library/{item.id}/delete").status_code == 403
    assert client.post("/library/new", {"topic": "x", "language": "en", "title": "x", "text": "x",
                                        "reviewed_on": "2026-01-01"}).status_code == 403
    with pytest.raises(Forbidden):
        info_library.save(owners[username], None, {})
    assert db.session.scalar(select(InfoItem.title).where(InfoItem.id == item.id)) == "Register your address"


def test_anonymous_is_sent_to_the_login(owners, client_for):
    response = client_for().get("/library/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_process_owner_adds_changes_and_deletes_items(owners, client_for):
    client = client_for("paul")
    assert 'href="/library/"' in client.get("/", follow_redirects=True).get_data(as_text=True)    # the way in
    assert client.get("/library/").status_code == 200
    bad = client.post("/library/new", {"topic": "Anmeldung!", "language": "fa", "title": "", "url": "ftp://x",
                                       "reviewed_on": "2099-01-01"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    for field in ("topic", "language", "title", "url", "reviewed_on"):
        assert f'id="e-{field}"' in html, field
    assert 'value="Anmeldung!"' in html                     # nothing typed is lost
    assert db.session.scalar(select(InfoItem)) is None
    created = client.post("/library/new", {"topic": "recognition", "language": "de",
                                           "title": "Anerkennung in Deutschland",
                                           "url": "https://www.anerkennung-in-deutschland.de",
                                           "text": "Das Portal der Bundesregierung.", "reviewed_on": "2026-11-30"})
    assert created.status_code == 302
    item = db.session.scalar(select(InfoItem))
    assert (item.topic, item.language, item.reviewed_on, item.updated_by_id) == (
        "recognition", "de", date(2026, 11, 30), owners["paul"].id)
    page = client.get("/library/").get_data(as_text=True)
    assert "Anerkennung in Deutschland" in page and "recognition" in page
    refused = client.post(f"/library/{item.id}", {"topic": "recognition", "language": "de", "title": "x" * 201,
                                                 "url": "https://www.anerkennung-in-deutschland.de",
                                                 "reviewed_on": "2026-12-01"})
    assert refused.status_code == 422 and 'id="e-title"' in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(InfoItem, item.id).title == "Anerkennung in Deutschland"
    assert client.post(f"/library/{item.id}", {"topic": "recognition", "language": "de", "title": "Anerkennung",
                                              "url": "https://www.anerkennung-in-deutschland.de",
                                              "reviewed_on": "2026-12-01"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(InfoItem, item.id).reviewed_on == date(2026, 12, 1)
    assert client.get("/library/99999").status_code == 404
    assert client.post("/library/99999/delete").status_code == 404
    assert client.post(f"/library/{item.id}/delete").status_code == 302
    assert db.session.scalar(select(InfoItem)) is None


def test_the_worker_sees_the_steps_information_in_their_language_else_english(workers, owners, client_for):
    paul = owners["paul"]
    _add(paul, title="Register your address in Aachen", reviewed_on="2026-11-20")
    _add(paul, language="uk", title="Реєстрація адреси в Аахені", reviewed_on="2026-11-21")
    _add(paul, topic="recognition", title="Recognition in Germany", url="https://www.anerkennung-in-deutschland.de")
    olena = client_for()
    open_as_worker(olena, workers["olena_token"])
    html = olena.get("/w/").get_data(as_text=True)
    assert "Реєстрація адреси в Аахені" in html and 'href="https://www.aachen.de"' in html
    assert "Register your address in Aachen" not in html and "Recognition in Germany" not in html
    assert "21 листопада 2026" in html                       # the review date, in her locale
    assert 'class="hint"' not in _step_info(html)
    ravi = client_for()
    open_as_worker(ravi, workers["ravi_token"])
    html = ravi.get("/w/").get_data(as_text=True)
    assert "Register your address in Aachen" in html and 'lang="en"' in html
    assert "Реєстрація" not in html
    assert 'class="hint"' in _step_info(html)                  # "not yet in your language; here in English"


def _step_info(html: str) -> str:
    return html.split('<div class="step-info">', 1)[1].split("</div>", 1)[0]
