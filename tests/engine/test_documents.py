"""engine.documents and engine.storage: the checklist from the diagram, uploads checked by content and size,
stored under random names outside the web root, shared as the process says, listed in the case log."""
import pytest
from sqlalchemy import select

from engine import access, documents, storage
from engine.db import db
from engine.models import CaseDocument, CaseEvent
from tests.scenarios.driver import Journey, confirm_path, intake

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@pytest.fixture
def store(ctx, tmp_path):
    ctx.config["DOCUMENTS_DIR"] = str(tmp_path / "documents")
    yield tmp_path / "documents"
    ctx.config["DOCUMENTS_DIR"] = None


@pytest.fixture
def fast_track(people, store):
    j = Journey(people)
    case = j.start("worker_journey", subject="Ravi Kumar", data={"worker_name": "Ravi Kumar"})
    intake(j, case, has_job_offer=True, qualification_type="academic", annual_salary=60000)
    confirm_path(j, case, use_fast_track=True)
    return j, j.case(case)


def test_the_checklist_comes_from_the_diagram_and_each_party_sees_its_part(fast_track):
    j, case = fast_track
    center = documents.for_party(case, "center", "en")
    keys = [item.requirement.key for item in center.checklist]
    assert {"power_of_attorney", "fast_track_agreement", "qualification_certificates",
            "landlord_confirmation"} <= set(keys)
    poa = next(i for i in center.checklist if i.requirement.key == "power_of_attorney")
    assert poa.label == "Power of attorney of the skilled worker (signed)" and poa.received is None
    assert poa.requirement.provider == "employer" and poa.requirement.shared_with == ("employer", "worker")
    firm = [i.requirement.key for i in documents.for_party(case, "employer", "de").checklist]
    assert "power_of_attorney" in firm and "qualification_certificates" not in firm     # the worker's own


def test_an_upload_is_stored_under_a_random_name_logged_and_shared_as_declared(fast_track, people, store):
    j, case = fast_track
    doc = documents.upload(case, filename="../../Vollmacht Kumar.pdf", data=PDF, party="employer",
                           actor=people["jansen"], key="power_of_attorney")
    db.session.expire_all()
    doc = db.session.get(CaseDocument, doc.id)
    assert doc.filename == "Vollmacht Kumar.pdf" and doc.content_type == "application/pdf" and doc.size == len(PDF)
    assert doc.shared_with == ["employer", "worker"]
    files = [p for p in store.rglob("*") if p.is_file()]
    assert [p.name for p in files] == [doc.storage_key] and "Vollmacht" not in str(files[0])
    assert documents.content(doc) == PDF
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "document_uploaded"))
    assert event.case_id == case.id and event.details["filename"] == "Vollmacht Kumar.pdf"
    assert event.actor_id == people["jansen"].id
    item = next(i for i in documents.for_party(case, "employer").checklist if i.requirement.key == "power_of_attorney")
    assert item.received.id == doc.id


@pytest.mark.parametrize("name, data, code", [
    ("Vollmacht.pdf", EXE, "type"),              # a renamed program
    ("setup.exe", EXE, "type"),
    ("scan.pdf", PNG, "extension"),              # the name says PDF, the content is PNG
    ("notes.txt", b"just some text", "type"),
    ("empty.pdf", b"", "empty"),
])
def test_uploads_are_checked_by_their_content(fast_track, people, store, name, data, code):
    j, case = fast_track
    with pytest.raises(documents.UploadRefused) as refused:
        documents.upload(case, filename=name, data=data, party="employer", actor=people["jansen"])
    assert refused.value.code == code
    assert db.session.scalar(select(CaseDocument)) is None
    assert not [p for p in store.rglob("*") if p.is_file()]


def test_an_upload_over_the_limit_is_refused(fast_track, people, store, ctx):
    j, case = fast_track
    ctx.config["DOCUMENT_MAX_BYTES"] = 1000
    try:
        with pytest.raises(documents.UploadRefused) as refused:
            documents.upload(case, filename="big.pdf", data=PDF + b"0" * 1000, party="employer")
        assert refused.value.code == "too_large"
    finally:
        ctx.config["DOCUMENT_MAX_BYTES"] = 10 * 1024 * 1024


def test_who_may_read_a_document(fast_track, people, store):
    j, case = fast_track
    shared = documents.upload(case, filename="v.pdf", data=PDF, party="employer", actor=people["jansen"],
                              key="power_of_attorney")
    internal = documents.upload(case, filename="intern.png", data=PNG, party="center", actor=people["anna"])
    assert access.visible_document(people["anna"], internal.id) is not None
    assert access.visible_document(people["jansen"], shared.id) is not None
    assert access.visible_document(people["jansen"], internal.id) is None           # not shared with the firm
    assert access.visible_document(people["schmitz"], shared.id) is None            # another firm
    assert access.visible_document(people["kai"], shared.id) is None                # another center
    assert [d.id for d in documents.for_party(case, "employer").uploads] == [shared.id]
    # a party reached by a link of its own (the worker): through the case it holds
    assert documents.find(case, "worker", shared.id) is not None          # the diagram shares it with the worker
    assert documents.find(case, "worker", internal.id) is None
    assert documents.find(case, "center", internal.id) is not None


def test_file_storage_refuses_keys_that_are_not_its_own(tmp_path):
    store = storage.FileStorage(tmp_path)
    key = store.put(b"abc")
    assert store.get(key) == b"abc"
    for bad in ("../etc/passwd", key.upper(), key + "x", ""):
        with pytest.raises(KeyError):
            store.get(bad)
    store.delete(key)
    with pytest.raises(KeyError):
        store.get(key)


def test_a_diagram_with_a_wrong_document_declaration_is_refused_naming_the_element(ctx):
    from engine import deploy
    from engine.errors import DeploymentRejected
    xml = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://lotse.test/bpmn">'
           '<bpmn:process id="docs_bad" isExecutable="true"><bpmn:startEvent id="start"/>'
           '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask"/>'
           '<bpmn:userTask id="ask" name="Unterlagen anfordern" camunda:candidateGroups="advisor">'
           '<bpmn:extensionElements><camunda:properties>'
           '<camunda:property name="document:contract" value="Arbeitsvertrag"/>'
           '<camunda:property name="document:contract:from" value="landlord"/>'
           '<camunda:property name="document:Bad Key" value="x"/>'
           '</camunda:properties></bpmn:extensionElements></bpmn:userTask>'
           '<bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="end"/><bpmn:endEvent id="end"/>'
           '</bpmn:process></bpmn:definitions>')
    with pytest.raises(DeploymentRejected) as rejected:
        deploy.deploy([("docs_bad.bpmn", xml.encode())])
    messages = [(p.element_id, p.message) for p in rejected.value.problems]
    assert any(e == "ask" and "'landlord' is not a party" in m for e, m in messages), messages
    assert any(e == "ask" and "'document:Bad Key'" in m for e, m in messages), messages
