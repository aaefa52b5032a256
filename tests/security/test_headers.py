"""Every page carries the security headers, for every role: the test walks all of the app's routes
(GET and POST), so a new route is covered the day it is added, and one whose parameter has no sample
value here fails until it gets one. HSTS and Secure cookies are on outside development."""
import pytest
from sqlalchemy import select

from engine import documents, info_library, users, worker_links
from engine.db import db
from engine.models import HumanTask, MailMessage, Notification, ProcessDraft
from tests.conftest import make_app
from tests.web.conftest import Client
from web import security

ROLES = [None, "anna", "sara", "jansen", "kai", "ada"]


@pytest.fixture
def samples(ws, ctx, tmp_path):
    """A real value for each URL parameter, so that each view runs (not only its 404)."""
    ravi = ws["cases"][0]
    ada = users.ensure_user("ada", "Ada Admin", organisation=ws["center"],
                            groups=["admin", "supervisor", "process_owner"], password="pw-ada")
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == ravi.id, HumanTask.state == "open"))
    note = Notification(user_id=ws["anna"].id, case_id=ravi.id, kind="reminder", title="Erinnerung", body="")
    db.session.add(note)
    db.session.flush()
    mail = MailMessage(user_id=ada.id, notification_id=note.id, to="ada@example.org", subject="Erinnerung", body="…",
                       status="local")
    db.session.add(mail)
    draft = ProcessDraft(owner_id=ada.id, kind="bpmn", key="ws_permit", name="Entwurf", file_name="ws_permit.bpmn",
                         content="<definitions/>")
    db.session.add(draft)
    db.session.commit()
    ctx.config["DOCUMENTS_DIR"] = str(tmp_path)
    document = documents.upload(ravi, filename="scan.pdf", data=b"%PDF-1.4\n%%EOF\n", party="employer",
                                actor=ws["jansen"])
    link, _token = worker_links.issue(ravi, ws["anna"], {"language": "de"})
    db.session.commit()
    info = info_library.save(ada, None, {"topic": "registration", "language": "de", "title": "Anmeldung",
                                         "url": "https://www.aachen.de", "reviewed_on": "2026-01-05"})
    yield {"reference": ravi.reference, "task_id": task.id, "key": "ws_permit", "notification_id": note.id,
           "mail_id": mail.id, "filename": "css/lotse.css", "document_id": document.id, "link_id": link.id,
           "firm_id": ws["firm"].id, "user_id": ws["ben"].id, "token": "no-such-link", "version": 1,
           "process": "ws_permit", "fmt": "csv", "chart": "open",
           "token_id": 1, "incident_id": 1,
           "kind": "bpmn", "name": "ws_permit.bpmn", "draft_id": draft.id,
           "item_id": info.id}
    ctx.config["DOCUMENTS_DIR"] = None


def assert_security_headers(response, where):
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, where
    assert "default-src 'self'" in csp or "default-src 'none'" in csp, where    # a stored diagram: stricter
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    assert headers.get("X-Frame-Options") == "DENY", where


def _urls(app, samples):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        missing = rule.arguments - samples.keys()
        assert not missing, f"{rule.rule}: add a sample value for {sorted(missing)} to this test"
        url = rule.build({name: samples[name] for name in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}, reverse=True):    # GET before POST
            yield rule.endpoint, method, url


def test_every_route_carries_the_headers_for_every_role(ctx, samples):
    urls = sorted(_urls(ctx, samples), key=lambda u: (u[1], u[0] == "auth.logout"))     # logout last
    assert len(urls) > 20
    for role in ROLES:
        client = Client(ctx)
        if role:
            client.login(role)
        for endpoint, method, url in urls:
            response = client.get(url) if method == "GET" else client.post(url, {})
            where = f"{method} {url} as {role or 'anonymous'} ({response.status_code})"
            assert response.status_code < 500, where
            assert_security_headers(response, where)
            if endpoint == "static":
                continue
            if response.mimetype == "text/html" or response.status_code >= 300:
                assert response.headers.get("Cache-Control") == "no-store", where
            else:       # a file a view serves with its own caching (the diagram): never in a shared cache;
                cache = response.headers.get("Cache-Control", "")       # the API's JSON: never stored
                assert "private" in cache or cache == "no-store", where


def test_static_files_may_be_cached_but_are_not_sniffed(ctx):
    response = Client(ctx).get("/static/css/lotse.css")
    assert_security_headers(response, "static")
    assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("overrides, secure", [
    ({"TESTING": False, "SECURE_TRANSPORT": None}, True),         # production: nothing set
    ({"TESTING": True, "SECURE_TRANSPORT": None}, False),         # the tests
    ({"TESTING": False, "DEBUG": True, "SECURE_TRANSPORT": None}, False),
    ({"TESTING": False, "SECURE_TRANSPORT": False}, False),       # LOTSE_SECURE_TRANSPORT=0
    ({"TESTING": True, "SECURE_TRANSPORT": True}, True),          # LOTSE_SECURE_TRANSPORT=1
])
def test_hsts_and_secure_cookies_outside_development(app, people, tmp_path, overrides, secure):
    other = make_app(app.backend, str(tmp_path), SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                     **overrides)
    with other.app_context():
        client = Client(other)
        client.get("/login")
        response = client.post("/login", {"username": "anna", "password": "pw-anna"})
        db.session.remove()
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert ("; Secure" in cookie) is secure
    assert ("Strict-Transport-Security" in response.headers) is secure
    assert other.config["SECURE_TRANSPORT"] is secure


def test_make_run_serves_without_secure_transport(monkeypatch):
    """`lotse serve` on a loopback address (`make run`) is development; on another address it is not."""
    from click.testing import CliRunner
    from werkzeug import serving
    from web import cli
    monkeypatch.delenv("LOTSE_SECURE_TRANSPORT", raising=False)
    served = []
    monkeypatch.setattr(serving, "run_simple",
                        lambda host, port, app, **kw: served.append(app.config["SECURE_TRANSPORT"]))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")       # no embedded sweeper thread
    for host in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
        assert CliRunner().invoke(cli.cli, ["serve", "--host", host]).exit_code == 0
    assert served == [False, False, False, True]
    assert security.HSTS.startswith("max-age=")
