"""Static files under versioned URLs (web/static_files.py): the pages link every static file with the hash of
its bytes, such a link is cached by browsers for a year, any other request for the file is revalidated, and
a file's new bytes get a new link."""
import hashlib
import os
import re
from pathlib import Path

import pytest
from flask import url_for

from engine import users
from engine.db import db
from tests.conftest import deploy_bundle, make_app

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
YEAR = "public, max-age=31536000, immutable"
STATIC_LINK = re.compile(r'(?:href|src)="(/static/[^"]*)"')


def version_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_a_file_asked_for_by_its_version_is_kept_a_year_any_other_request_revalidates(ctx):
    http = ctx.test_client()
    current = version_of(STATIC / "css" / "lotse.css")
    versioned = http.get(f"/static/css/lotse.css?v={current}")
    assert versioned.status_code == 200
    assert versioned.headers["Cache-Control"] == YEAR
    for url in ("/static/css/lotse.css", "/static/css/lotse.css?v=0123456789ab", "/static/css/lotse.css?v="):
        response = http.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-cache" and response.headers["ETag"], url
        assert response.data == versioned.data == (STATIC / "css" / "lotse.css").read_bytes()
    again = http.get("/static/css/lotse.css", headers={"If-None-Match": versioned.headers["ETag"]})
    assert again.status_code == 304
    # the security headers stay on static files, and no page's no-store
    assert versioned.headers["X-Content-Type-Options"] == "nosniff"
    assert versioned.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert http.get("/static/css/nope.css?v=0123456789ab").status_code == 404


def test_a_bundles_own_files_are_named_by_their_content_and_kept_a_year(ctx):
    fonts = sorted((STATIC / "dist" / "assets").glob("bpmn-*.woff2"))
    assert fonts, "web/static/dist/assets has the modeler's font (make assets)"
    response = ctx.test_client().get(f"/static/dist/assets/{fonts[0].name}?44822120")   # as modeler.css asks
    assert response.status_code == 200 and response.headers["Cache-Control"] == YEAR
    assert response.data == fonts[0].read_bytes()


def _static_links(page: str) -> list[str]:
    links = STATIC_LINK.findall(page)
    assert links
    return links


def _assert_current(http, links):
    for link in links:
        path, _, query = link.partition("?")
        assert query == f"v={version_of(STATIC / path.removeprefix('/static/'))}", link
        assert http.get(link).headers["Cache-Control"] == YEAR, link


def test_pages_link_each_static_file_by_its_current_version(people, client_for):
    people["paul"] = users.ensure_user("paul", "Paul Prozess", organisation=people["center"],
                                       groups=["process_owner"], password="pw-paul")
    deploy_bundle(user=people["paul"])
    db.session.commit()
    anonymous = client_for()
    login = _static_links(anonymous.get("/login").get_data(as_text=True))
    assert "/static/css/lotse.css" in {link.partition("?")[0] for link in login}
    _assert_current(anonymous.http, login)
    api_docs = _static_links(anonymous.get("/api/v1/docs").get_data(as_text=True))
    assert "/static/dist/swagger-ui-bundle.js" in {link.partition("?")[0] for link in api_docs}
    _assert_current(anonymous.http, api_docs)
    paul = client_for("paul")
    processes = _static_links(paul.get("/processes/").get_data(as_text=True))
    editor = _static_links(paul.get("/processes/bpmn/worker_journey/edit").get_data(as_text=True))
    assert {"/static/dist/modeler.js", "/static/dist/modeler.css", "/static/dist/htmx.min.js"} \
        <= {link.partition("?")[0] for link in editor}
    _assert_current(paul.http, processes + editor)
    with paul.app.test_request_context("/"):           # the same link from Python
        assert url_for("static", filename="dist/modeler.js") in editor


@pytest.fixture
def own_static(app, tmp_path):
    """An app of its own (a process of its own) serving a static folder of its own, with a stylesheet."""
    def make(**overrides):
        other = make_app(app.backend, str(tmp_path), SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         **overrides)
        other.static_folder = str(tmp_path / "static")
        return other
    (tmp_path / "static").mkdir()
    return make, tmp_path / "static" / "site.css"


def _link(app):
    with app.test_request_context("/"):
        return app.jinja_env.from_string("{{ url_for('static', filename='site.css') }}").render()


def _rewrite(path: Path, text: str):
    """New bytes and a later modification time, as a build writes them."""
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_new_bytes_get_a_new_version_and_the_old_link_is_revalidated(own_static):
    make, css = own_static
    css.write_text("body { color: black }")
    first = make()
    old_link = _link(first)
    assert old_link == f"/static/site.css?v={version_of(css)}"
    assert first.test_client().get(old_link).headers["Cache-Control"] == YEAR
    _rewrite(css, "body { color: navy }")
    # a running process keeps the links it made; its old link now names bytes that are gone: revalidated
    assert _link(first) == old_link
    stale = first.test_client().get(old_link)
    assert stale.headers["Cache-Control"] == "no-cache" and stale.data == b"body { color: navy }"
    # the next process (a deploy) links the new bytes, kept a year
    second = make()
    new_link = _link(second)
    assert new_link == f"/static/site.css?v={version_of(css)}" != old_link
    assert second.test_client().get(new_link).headers["Cache-Control"] == YEAR


def test_in_development_a_rebuilt_file_gets_its_new_version_at_once(own_static):
    make, css = own_static
    css.write_text("body { color: black }")
    dev = make(DEBUG=True)
    old_link = _link(dev)
    _rewrite(css, "body { color: navy }")
    new_link = _link(dev)
    assert new_link == f"/static/site.css?v={version_of(css)}" != old_link
    assert dev.test_client().get(new_link).headers["Cache-Control"] == YEAR
