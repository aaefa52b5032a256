"""The process owners' pages over HTTP: who gets what on every URL, the versions page, files, drafts,
upload, deploy with its problems, the form preview, and hostile files."""
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import cases, processes, users
from engine.db import db
from engine.models import AuditEntry, Case, Deployment, ProcessDefinition, ProcessDraft
from tests.conftest import deploy_bundle

ROOT = Path(__file__).resolve().parents[2]
WORKER = (ROOT / "bpmn" / "worker_journey.bpmn").read_text(encoding="utf-8")


@pytest.fixture
def owners(people):
    center = people["center"]
    people["paul"] = users.ensure_user("paul", "Paul Prozess", organisation=center, groups=["process_owner"],
                                       password="pw-paul")
    people["petra"] = users.ensure_user("petra", "Petra Prozess", organisation=center, groups=["process_owner"],
                                        password="pw-petra")
    people["ada"] = users.ensure_user("ada", "Ada Admin", organisation=center,
                                      groups=["admin", "supervisor", "process_owner"], password="pw-ada")
    deploy_bundle(user=people["ada"], note="Erstausstattung")
    return people


def _draft_id(owner):
    return db.session.scalar(select(ProcessDraft.id).where(ProcessDraft.owner_id == owner.id))


def urls(owners):
    """Every process owners' URL (GET and POST) with a real object behind it."""
    paul = owners["paul"]
    draft = ProcessDraft(owner_id=paul.id, kind="bpmn", key="worker_journey", name="Frist", file_name="worker_journey.bpmn",
                         content=WORKER)
    db.session.add(draft)
    db.session.commit()
    return [("GET", "/processes/"), ("GET", "/processes/bpmn/worker_journey"),
            ("GET", "/processes/dmn/worker_path"), ("GET", "/processes/form/worker_intake"),
            ("GET", "/processes/bpmn/worker_journey/v1/files/worker_journey.bpmn"),
            ("GET", "/processes/bpmn/worker_journey/source"), ("GET", "/processes/bpmn/worker_journey/edit"),
            ("GET", "/processes/dmn/worker_path/edit"), ("GET", "/processes/form/worker_intake/edit"),
            ("GET", f"/processes/drafts/{draft.id}"), ("GET", f"/processes/drafts/{draft.id}/source"),
            ("POST", "/processes/bpmn/worker_journey/drafts"), ("POST", "/processes/bpmn/worker_journey/deploy"),
            ("POST", f"/processes/drafts/{draft.id}/delete"), ("POST", "/processes/upload"),
            ("POST", "/processes/form/worker_intake/preview")]


def test_a_keys_detail_is_its_row_of_the_overview_and_nothing_of_another_kind(owners):
    # the detail page reads one key alone: the same versions, counts and drafts as the overview's row
    cases.start_case("worker_journey", center=owners["center"], subject="Ravi Kumar", actor=owners["anna"], data={})
    db.session.add(ProcessDraft(owner_id=owners["paul"].id, kind="bpmn", key="worker_journey", name="Frist",
                                file_name="worker_journey.bpmn", content=WORKER))
    db.session.add(ProcessDraft(owner_id=owners["paul"].id, kind="form", key="worker_journey", name="Gleicher Schlüssel",
                                file_name="worker_journey.form", content="{}"))
    db.session.commit()
    rows = processes.overview()
    assert {row.kind for row in rows} == {"bpmn", "dmn", "form"}
    for row in rows:
        assert processes.process(row.kind, row.key) == row
    journey = processes.process("bpmn", "worker_journey")
    assert journey.versions[0].active == 1 and [d.name for d in journey.drafts] == ["Frist"]
    assert [d.name for d in processes.process("form", "worker_journey").drafts] == ["Gleicher Schlüssel"]
    assert processes.process("dmn", "worker_journey") is None and processes.process("bpmn", "nowhere") is None


@pytest.mark.parametrize("username", ["anna", "sara", "jansen"])
def test_other_roles_get_403_on_every_process_owner_url(owners, client_for, username):
    client = client_for(username)
    for method, url in urls(owners):
        response = client.get(url) if method == "GET" else client.post(url, {})
        assert response.status_code == 403, (username, method, url, response.status_code)


def test_anonymous_is_sent_to_login_on_every_url(owners, client_for):
    client = client_for()
    for method, url in urls(owners):
        response = client.get(url) if method == "GET" else client.post(url, {})
        assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)


def test_a_process_owner_lands_on_processes_and_the_403_page_does_not_loop(owners, client_for):
    client = client_for("paul")
    assert client.get("/").headers["Location"].endswith("/processes/")
    assert client.get("/cases").status_code == 403
    # the 403 page's "Zur Startseite" goes to / which now leads to /processes/
    page = client.get("/processes/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'href="/processes/"' in text and "Prozesse" in text


def test_the_overview_lists_versions_counts_and_how_a_process_starts(owners, client_for):
    cases.start_case("worker_journey", center=owners["center"], subject="Ravi Kumar", actor=owners["anna"], data={})
    db.session.commit()
    text = client_for("paul").get("/processes/").get_data(as_text=True)
    assert "worker_journey" in text and "worker_path" in text and "worker_intake" in text
    assert "nur aufgerufen" in text            # worker_arrival is only called
    assert "startbar unter" in text
    detail = client_for("paul").get("/processes/bpmn/worker_journey").get_data(as_text=True)
    assert "v1" in detail and "Ada Admin" in detail and "Erstausstattung" in detail
    assert "worker_journey.bpmn" in detail
    assert ">1</td>" in detail                  # one active case on v1
    assert 'href="/processes/worker_journey/compare"' in detail and 'href="/processes/worker_journey/migrate"' in detail


def test_admin_with_the_process_owner_group_sees_both_navigations(owners, client_for):
    text = client_for("ada").get("/processes/").get_data(as_text=True)
    assert 'href="/processes/"' in text and 'href="/cases"' in text


def test_files_are_served_as_inert_text_and_unknown_ones_are_404(owners, client_for):
    client = client_for("paul")
    response = client.get("/processes/bpmn/worker_journey/v1/files/worker_journey.bpmn?download=1")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert 'id="worker_journey"' in response.get_data(as_text=True)
    for url in ["/processes/bpmn/worker_journey/v9/files/worker_journey.bpmn",
                "/processes/bpmn/worker_journey/v1/files/other.bpmn", "/processes/bpmn/nope",
                "/processes/zip/worker_journey", "/processes/bpmn/nope/edit", "/processes/drafts/999999"]:
        assert client.get(url).status_code == 404, url


def _post_json(client, url, body):
    client.get("/processes/")
    return client.http.post(url, data=json.dumps(body), content_type="application/json",
                            headers={"X-CSRFToken": client.token})


def test_a_draft_is_kept_per_owner_and_others_see_who_edits_but_not_its_content(owners, client_for):
    paul = client_for("paul")
    changed = WORKER.replace('camunda:dueDate="P7D"', 'camunda:dueDate="P10D"', 1)
    response = _post_json(paul, "/processes/bpmn/worker_journey/drafts", {"xml": changed, "name": "Frist 10 Tage"})
    assert response.status_code == 200 and response.json["ok"], response.json
    draft_url = response.json["draft_url"]
    assert paul.get(draft_url).status_code == 200
    assert 'P10D' in paul.get(draft_url + "/source").get_data(as_text=True)
    # the same name again overwrites
    _post_json(paul, "/processes/bpmn/worker_journey/drafts", {"xml": changed, "name": "Frist 10 Tage"})
    assert db.session.scalar(select(ProcessDraft.id).where(ProcessDraft.name == "Frist 10 Tage")) is not None
    assert len(db.session.scalars(select(ProcessDraft)).all()) == 1
    petra = client_for("petra")
    assert petra.get(draft_url).status_code == 404
    assert petra.get(draft_url + "/source").status_code == 404
    page = petra.get("/processes/bpmn/worker_journey/edit").get_data(as_text=True)
    assert "Frist 10 Tage" in page and "Paul Prozess" in page
    # a draft changes nothing deployed
    assert db.session.scalar(select(ProcessDefinition.version).where(ProcessDefinition.key == "worker_journey")
                             .order_by(ProcessDefinition.version.desc())) == 1


def test_an_editor_post_without_the_csrf_token_is_refused(owners, client_for):
    paul = client_for("paul")
    response = paul.http.post("/processes/bpmn/worker_journey/deploy", data=json.dumps({"xml": WORKER}),
                              content_type="application/json")
    assert response.status_code == 400
    assert db.session.scalar(select(ProcessDefinition.version).where(ProcessDefinition.key == "worker_journey")
                             .order_by(ProcessDefinition.version.desc())) == 1


def test_odd_editor_bodies_get_a_clear_answer(owners, client_for):
    paul = client_for("paul")
    assert _post_json(paul, "/processes/bpmn/worker_journey/drafts", {"xml": 5}).status_code == 400
    assert _post_json(paul, "/processes/bpmn/worker_journey/drafts", [1, 2]).status_code == 400
    odd = _post_json(paul, "/processes/bpmn/worker_journey/drafts", {"xml": WORKER, "name": {"a": 1}})
    assert odd.status_code == 422 and "Namen" in odd.json["errors"][0]["message"]
    deployed = _post_json(paul, "/processes/bpmn/worker_journey/deploy", {"xml": WORKER, "note": [1], "draft_id": 7})
    assert deployed.status_code == 200 and "Keine Änderung" in deployed.json["messages"][0]["message"]
    broken = _post_json(paul, "/processes/bpmn/worker_journey/drafts", {"xml": "<definitions", "name": "x"})
    assert broken.status_code == 422 and "not well-formed" in broken.json["errors"][0]["message"]


def test_a_draft_needs_a_name(owners, client_for):
    response = _post_json(client_for("paul"), "/processes/bpmn/worker_journey/drafts", {"xml": WORKER, "name": " "})
    assert response.status_code == 422 and "Namen" in response.json["errors"][0]["message"]


def test_deploy_from_the_browser_makes_a_version_with_note_and_audit_entry(owners, client_for):
    case = cases.start_case("worker_journey", center=owners["center"], subject="Ravi Kumar", actor=owners["anna"],
                            data={})
    db.session.commit()
    paul = client_for("paul")
    changed = WORKER.replace('camunda:dueDate="P7D"', 'camunda:dueDate="P10D"', 1)
    _post_json(paul, "/processes/bpmn/worker_journey/drafts", {"xml": changed, "name": "Frist"})
    draft_id = _draft_id(owners["paul"])
    response = _post_json(paul, "/processes/bpmn/worker_journey/deploy",
                          {"xml": changed, "note": "Erstgespräch 10 Tage", "draft_id": str(draft_id)})
    assert response.status_code == 200, response.json
    assert "worker_journey v2" in response.json["messages"][0]["message"]
    db.session.expire_all()
    assert db.session.get(ProcessDraft, draft_id) is None          # deployed: the draft is gone
    assert db.session.get(Case, case.id).definition.version == 1   # the running case stays
    detail = paul.get("/processes/bpmn/worker_journey").get_data(as_text=True)
    assert "v2" in detail and "Erstgespräch 10 Tage" in detail and "Paul Prozess" in detail
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "deploy")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.actor_id == owners["paul"].id and "worker_journey v2" in entry.changes["versions"]["new"]


@pytest.mark.parametrize("replace, element, words", [
    ('<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">', None, "condition"),
    ('camunda:dueDate="P7D"', "task_intake", "camunda:dueDate"),
])
def test_a_rejected_deploy_lists_each_problem_with_its_element_and_changes_nothing(owners, client_for, replace,
                                                                                     element, words):
    paul = client_for("paul")
    if element is None:
        start = WORKER.index(replace) + len(replace)
        end = WORKER.index("</bpmn:conditionExpression>", start)
        broken = WORKER[:start] + "amount >" + WORKER[end:]
    else:
        broken = WORKER.replace(replace, 'camunda:dueDate="${dateTime().plusDays(7).toDate()}"', 1)   # JUEL
    deployments = db.session.scalar(select(Deployment.id).order_by(Deployment.id.desc()).limit(1))
    response = _post_json(paul, "/processes/bpmn/worker_journey/deploy", {"xml": broken, "note": "kaputt"})
    assert response.status_code == 422 and response.json["ok"] is False
    errors = response.json["errors"]
    assert errors and all(e["element_id"] for e in errors), errors
    assert any(words in e["message"] for e in errors), errors
    if element:
        assert errors[0]["element_id"] == element
    db.session.expire_all()
    assert db.session.scalar(select(Deployment.id).order_by(Deployment.id.desc()).limit(1)) == deployments


def test_upload_of_a_camunda_modeler_file_becomes_a_draft(owners, client_for):
    paul = client_for("paul")
    paul.get("/processes/")
    data = {"csrf_token": paul.token, "name": "Vom Desktop",
            "file": ((ROOT / "tests" / "fixtures" / "bpmn" / "ws_permit.bpmn").open("rb"), "ws_permit.bpmn")}
    response = paul.http.post("/processes/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 302 and "/processes/drafts/" in response.headers["Location"]
    draft = db.session.scalar(select(ProcessDraft))
    assert draft.key == "ws_permit" and draft.name == "Vom Desktop"


HOSTILE = {
    "billion_laughs.bpmn": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
                           b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol2;</definitions>',
    "external.bpmn": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                     b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</definitions>',
    "svg.bpmn": b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">'
                b'<documentation><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg></documentation>'
                b'</process></definitions>',
    "huge.bpmn": (b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">'
                  + b"".join(b'<task id="t%d"/>' % i for i in range(10_000)) + b"</process></definitions>"),
    "notes.txt": b"hello",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_uploads_are_refused_clearly_and_the_server_stays_healthy(owners, client_for, name):
    paul = client_for("paul")
    paul.get("/processes/")
    data = {"csrf_token": paul.token, "file": (__import__("io").BytesIO(HOSTILE[name]), name)}
    response = paul.http.post("/processes/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "nicht angenommen" in text
    assert {"billion_laughs.bpmn": "DTDs and entities are not allowed", "external.bpmn": "DTDs and entities",
            "svg.bpmn": "SVG element", "huge.bpmn": "10002 XML elements",
            "notes.txt": "not a .bpmn"}[name] in text
    assert db.session.scalar(select(ProcessDraft)) is None
    assert paul.get("/processes/").status_code == 200


def test_a_script_reaching_for_the_os_is_refused_on_deploy(owners, client_for):
    broken = WORKER.replace('camunda:dueDate="P7D"', 'camunda:dueDate="${__import__(\'os\').system(\'id\')}"', 1)
    response = _post_json(client_for("paul"), "/processes/bpmn/worker_journey/deploy", {"xml": broken})
    assert response.status_code == 422
    assert response.json["errors"][0]["element_id"] == "task_intake"


def test_an_upload_over_the_size_limit_is_refused(owners, client_for, ctx):
    ctx.config["PROCESS_FILE_MAX_BYTES"] = 1000
    try:
        paul = client_for("paul")
        paul.get("/processes/")
        data = {"csrf_token": paul.token, "file": ((ROOT / "bpmn" / "worker_journey.bpmn").open("rb"), "w.bpmn")}
        response = paul.http.post("/processes/upload", data=data, content_type="multipart/form-data")
        assert response.status_code == 422 and "at most 1000" in response.get_data(as_text=True)
    finally:
        ctx.config["PROCESS_FILE_MAX_BYTES"] = 1024 * 1024


def test_the_form_preview_renders_the_advisors_form_in_german_and_english(owners, client_for):
    schema = json.loads((ROOT / "forms" / "worker_intake.form").read_text(encoding="utf-8"))
    response = _post_json(client_for("paul"), "/processes/form/worker_intake/preview", {"schema": schema})
    assert response.status_code == 200
    html = response.json["html"]
    assert 'id="f-preview-de-' in html["de"] and 'id="f-preview-en-' in html["en"]
    assert "Mit * markierte" in html["de"] and "Mit * markierte" not in html["en"]
    bad = _post_json(client_for("paul"), "/processes/form/worker_intake/preview", {"schema": {"components": "x"}})
    assert bad.status_code == 422


def test_the_editor_pages_allow_the_bundles_styles_by_nonce_only(owners, client_for):
    paul = client_for("paul")
    editor = paul.get("/processes/bpmn/worker_journey/edit")
    csp = editor.headers["Content-Security-Policy"]
    assert "'nonce-" in csp and "unsafe-inline" not in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in editor.get_data(as_text=True)
    assert "'nonce-" not in paul.get("/processes/").headers["Content-Security-Policy"]
    assert paul.get("/processes/bpmn/worker_journey/edit").headers["Content-Security-Policy"] != csp


def test_a_form_edited_in_the_browser_deploys_alone_and_reaches_its_process(owners, client_for):
    schema = json.loads((ROOT / "forms" / "worker_intake.form").read_text(encoding="utf-8"))
    schema["components"][0]["label"] = "Sprache des Erstgesprächs"
    schema["exporter"] = {"name": "form-js (https://demo.bpmn.io)", "version": "1.23.0"}     # as form-js writes it
    response = _post_json(client_for("paul"), "/processes/form/worker_intake/deploy", {"schema": schema, "note": "x"})
    assert response.status_code == 200, response.json
    message = response.json["messages"][0]["message"]
    assert "worker_intake v2" in message and "worker_journey v2" in message
    detail = client_for("paul").get("/processes/form/worker_intake").get_data(as_text=True)
    assert "v2" in detail and "worker_intake.form" in detail


def test_two_deploys_at_the_same_moment_end_in_a_clear_refusal_not_a_500(owners, client_for, monkeypatch):
    """The other deploy commits version 2 between this one's check and its insert: the unique key refuses it."""
    from engine import deploy as deployment
    real = deployment._latest

    def stale(model, key):              # as if read before the other deploy committed
        row = real(model, key)
        return None if model is ProcessDefinition and key == "worker_journey" else row
    monkeypatch.setattr(deployment, "_latest", stale)
    changed = WORKER.replace('camunda:dueDate="P7D"', 'camunda:dueDate="P10D"', 1)
    response = _post_json(client_for("paul"), "/processes/bpmn/worker_journey/deploy", {"xml": changed})
    assert response.status_code == 422 and "same moment" in response.json["errors"][0]["message"]
    assert client_for("paul").get("/processes/").status_code == 200


def test_the_scenarios_run_against_the_editors_content_before_it_is_deployed(owners, client_for):
    paul = client_for("paul")
    response = _post_json(paul, "/processes/bpmn/worker_journey/scenarios", {"xml": WORKER})
    assert response.status_code == 200 and response.json["ok"], response.json
    results = {r["file"]: r for r in response.json["results"]}
    assert set(results) == {"worker_blue_card.scenario.json", "worker_appointment_escalation.scenario.json"}
    result = results["worker_blue_card.scenario.json"]
    assert result["passed"] and result["process"] == "worker_journey" and "task_intake" in result["path"]
    assert "bestanden" in response.json["messages"][0]["message"]
    # the intake's deadline in the draft is no longer what the scenario expects: it says so, and nothing is stored
    changed = WORKER.replace('camunda:dueDate="P3D"', 'camunda:dueDate="P9D"', 1)
    failing = _post_json(paul, "/processes/bpmn/worker_journey/scenarios", {"xml": changed})
    assert failing.status_code == 200 and failing.json["ok"] is False
    assert any("task_path_confirm" in e["message"] for e in failing.json["errors"]), failing.json["errors"]
    assert db.session.scalar(select(ProcessDefinition.version).where(ProcessDefinition.key == "worker_journey")
                             .order_by(ProcessDefinition.version.desc())) == 1
    none = _post_json(paul, "/processes/bpmn/worker_visa/scenarios", {"xml": WORKER.replace("worker_journey", "x")})
    assert none.status_code == 200 and "keine Szenarien" in none.json["messages"][0]["message"]
    hostile = _post_json(paul, "/processes/bpmn/worker_journey/scenarios", {"xml": HOSTILE["external.bpmn"].decode()})
    assert hostile.status_code == 422
