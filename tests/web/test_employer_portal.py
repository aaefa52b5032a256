"""The employer portal over HTTP: what each role gets on each of its URLs, the firm's own objects only,
tasks completed with the workspace's form machinery, documents, messages, the language remembered."""
import io

import pytest
from sqlalchemy import select

from engine import cases, conversations, documents
from engine.db import db
from engine.models import CaseDocument, CaseMessage, HumanTask, User

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def text(response):
    return response.get_data(as_text=True)


def task(case, element_id):
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.element_id == element_id))


@pytest.fixture
def store(ctx, tmp_path):
    ctx.config["DOCUMENTS_DIR"] = str(tmp_path / "documents")
    yield
    ctx.config["DOCUMENTS_DIR"] = None


@pytest.fixture
def staff(people):
    """`people` plus a process owner and an admin of the Aachen center."""
    from engine import users
    more = {"paul": users.ensure_user("paul", "Paul Prozess", organisation=people["center"], groups=["process_owner"],
                                      password="pw-paul"),
            "ada": users.ensure_user("ada", "Ada Admin", organisation=people["center"], groups=["admin"],
                                     password="pw-ada")}
    db.session.commit()
    return {**people, **more}


@pytest.fixture
def firms(staff, deploy_fixture, store):
    """A worker case for each firm (Jansen: Ravi Kumar; Schmitz: Maria Santos), counselled, with a document,
    a message and an internal note each."""
    deploy_fixture("sec_worker_record.bpmn")
    found = {}
    for firm, name, user in (("firm", "Ravi Kumar", "jansen"), ("other_firm", "Maria Santos", "schmitz")):
        case = cases.start_case("sec_worker_record", center=staff["center"], employer=staff[firm], subject=name,
                                data={"worker_name": name}, actor=staff["anna"], responsible=staff["anna"])
        cases.complete_task(task(case, "counsel").id, {"counselling_record": "vertraulich"}, actor=staff["anna"])
        cases.add_comment(case.id, f"Interne Notiz zu {name}", staff["anna"])
        doc = documents.upload(case, filename=f"{name}.pdf", data=PDF, party="employer", actor=staff[user])
        message = conversations.post(case, "employer", f"Frage zu {name}", author=staff[user])
        found[user] = {"case": case, "task": task(case, "confirm_contract"), "doc": doc, "message": message,
                       "advisor_task": task(case, "prepare_followup")}
    db.session.commit()
    return {**staff, **found}


def urls(objects):
    case, own_task, doc = objects["case"], objects["task"], objects["doc"]
    return [f"/portal/cases/{case.reference}", f"/portal/tasks/{own_task.id}", f"/portal/documents/{doc.id}"]


def test_an_employer_reaches_only_its_own_firms_case_task_document_and_messages(firms, client_for):
    jansen = client_for("jansen")
    assert jansen.get("/portal/").status_code == 200
    for url in urls(firms["jansen"]):
        assert jansen.get(url).status_code == 200, url
    for url in urls(firms["schmitz"]):                        # another firm's: as if it did not exist
        assert jansen.get(url).status_code == 404, url
    other = firms["schmitz"]["case"]
    assert jansen.post(f"/portal/tasks/{firms['schmitz']['task'].id}", {}).status_code == 404
    assert jansen.post(f"/portal/cases/{other.reference}/messages", {"body": "Hallo"}).status_code == 404
    assert jansen.post(f"/portal/cases/{other.reference}/documents",
                       {"file": (io.BytesIO(PDF), "x.pdf")}, content_type="multipart/form-data").status_code == 404
    assert [m.body for m in conversations.thread(other, "employer")] == ["Frage zu Maria Santos"]
    assert "Maria Santos" not in text(jansen.get("/portal/"))
    # the advisor's own task of the firm's case is not the firm's
    assert jansen.get(f"/portal/tasks/{firms['jansen']['advisor_task'].id}").status_code == 404


def test_other_roles_get_a_403_on_portal_pages_and_employers_on_workspace_pages(firms, client_for, staff):
    case = firms["jansen"]["case"]
    for user in ("anna", "sara", "paul", "ada"):
        client = client_for(user)
        for url in ["/portal/", *urls(firms["jansen"])]:
            assert client.get(url).status_code == 403, (user, url)
    anonymous = client_for()
    for url in ["/portal/", *urls(firms["jansen"])]:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    jansen = client_for("jansen")
    for url in (f"/cases/{case.reference}", f"/tasks/{firms['jansen']['task'].id}", "/deadlines", "/cases",
                f"/documents/{firms['jansen']['doc'].id}"):
        assert jansen.get(url).status_code == 403, url
    assert jansen.get("/").headers["Location"].endswith("/portal/")
    # the center's download: its staff (advisor, supervisor, admin) read it, a process owner gets a 403
    doc = firms["jansen"]["doc"]
    for user in ("anna", "sara", "ada"):
        assert client_for(user).get(f"/documents/{doc.id}").status_code == 200, user
    assert client_for("paul").get(f"/documents/{doc.id}").status_code == 403
    assert anonymous.get(f"/documents/{doc.id}").status_code == 302


def test_the_portal_shows_the_firm_what_the_process_marks_for_it_and_nothing_else(firms, client_for):
    case = firms["jansen"]["case"]
    page = text(client_for("jansen").get(f"/portal/cases/{case.reference}"))
    for part in ("Ravi Kumar", "Erstberatung abgeschlossen", "Arbeitsvertrag bestätigen",
                 "Rückmeldung des Arbeitgebers abwarten", "Frage zu Ravi Kumar", "Ravi Kumar.pdf"):
        assert part in page, part
    advisor_page = text(client_for("anna").get(f"/cases/{case.reference}"))
    for part in ("Interne Notiz zu Ravi Kumar", "vertraulich", "Nachgespräch vorbereiten",
                 "Bescheid der Ausländerbehörde abwarten", "Beratungsgespräch führen"):
        assert part in advisor_page and part not in page, part
    home = text(client_for("jansen").get("/portal/"))
    assert "Ravi Kumar" in home and "Arbeitsvertrag bestätigen" in home and "Interne Notiz" not in home


def test_the_firm_completes_its_task_with_the_same_validation(firms, client_for, staff):
    own = firms["jansen"]["task"]
    jansen = client_for("jansen")
    assert "Als erledigt markieren" in text(jansen.get(f"/portal/tasks/{own.id}"))
    response = jansen.post(f"/portal/tasks/{own.id}", {})
    assert response.status_code == 302                  # the test task has no form: marked as done
    db.session.expire_all()
    assert db.session.get(HumanTask, own.id).state == "completed"
    assert db.session.get(HumanTask, own.id).completed_by_id == staff["jansen"].id
    assert jansen.post(f"/portal/tasks/{own.id}", {}).status_code == 409           # done already


def test_uploads_are_checked_and_a_renamed_program_is_refused(firms, client_for):
    case = firms["jansen"]["case"]
    jansen = client_for("jansen")
    jansen.get(f"/portal/cases/{case.reference}")
    url = f"/portal/cases/{case.reference}/documents"
    response = jansen.post(url, {"file": (io.BytesIO(EXE), "Vollmacht.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    page = text(jansen.get(response.headers["Location"]))
    assert "Vollmacht.pdf" in page and "nicht angenommen" in page
    assert db.session.scalar(select(CaseDocument).where(CaseDocument.filename == "Vollmacht.pdf")) is None
    response = jansen.post(url, {"file": (io.BytesIO(PDF), "Vertrag.pdf")}, content_type="multipart/form-data")
    doc = db.session.scalar(select(CaseDocument).where(CaseDocument.filename == "Vertrag.pdf"))
    assert doc is not None and doc.uploaded_by_id is not None
    download = jansen.get(f"/portal/documents/{doc.id}")
    assert download.data == PDF and download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    # the advisor downloads it from the case page
    anna = client_for("anna")
    assert f"/documents/{doc.id}" in text(anna.get(f"/cases/{case.reference}"))
    assert anna.get(f"/documents/{doc.id}").data == PDF


def test_an_advisors_internal_file_stays_with_the_center(firms, client_for):
    case = firms["jansen"]["case"]
    anna = client_for("anna")
    anna.get(f"/cases/{case.reference}")
    anna.post(f"/cases/{case.reference}/documents", {"file": (io.BytesIO(PDF), "intern.pdf")},
              content_type="multipart/form-data")
    anna.post(f"/cases/{case.reference}/documents", {"file": (io.BytesIO(PDF), "fuer-firma.pdf"),
                                                     "share_employer": "1"}, content_type="multipart/form-data")
    internal = db.session.scalar(select(CaseDocument).where(CaseDocument.filename == "intern.pdf"))
    shared = db.session.scalar(select(CaseDocument).where(CaseDocument.filename == "fuer-firma.pdf"))
    jansen = client_for("jansen")
    page = text(jansen.get(f"/portal/cases/{case.reference}"))
    assert "fuer-firma.pdf" in page and "intern.pdf" not in page
    assert jansen.get(f"/portal/documents/{internal.id}").status_code == 404
    assert jansen.get(f"/portal/documents/{shared.id}").status_code == 200
    assert client_for("kai").get(f"/documents/{shared.id}").status_code == 404      # another center


def test_the_advisor_answers_from_the_case_page(firms, client_for):
    case = firms["jansen"]["case"]
    anna = client_for("anna")
    assert "Frage zu Ravi Kumar" in text(anna.get(f"/cases/{case.reference}"))
    anna.post(f"/cases/{case.reference}/messages", {"party": "employer", "body": "Die Antwort kommt morgen."})
    assert "Die Antwort kommt morgen." in text(client_for("jansen").get(f"/portal/cases/{case.reference}"))
    assert anna.post(f"/cases/{case.reference}/messages", {"party": "nobody", "body": "x"}).status_code == 404
    kai = client_for("kai")
    kai.get("/")
    assert kai.post(f"/cases/{case.reference}/messages",
                                  {"party": "employer", "body": "x"}).status_code == 404
    assert db.session.scalar(select(CaseMessage).where(CaseMessage.body == "x")) is None


def test_the_language_is_remembered_per_user(firms, client_for, staff):
    jansen = client_for("jansen")
    jansen.get("/portal/")
    jansen.post("/language", {"language": "en", "next": "/portal/"})
    db.session.expire_all()
    assert db.session.get(User, staff["jansen"].id).language == "en"
    again = client_for("jansen")                             # a new login
    page = text(again.get("/portal/"))
    assert "Your steps with the Welcome Center" in page or "Your tasks" in page


def test_the_kuemmerer_confirms_the_arrival_in_the_portal_and_the_case_moves_on(people, client_for):
    from datetime import timedelta

    from engine import milestones
    from tests.scenarios.driver import Journey, confirm_path, intake, iso
    j = Journey(people)
    case = j.start("worker_journey", subject="Lucía García", data={"worker_name": "Lucía García"})
    intake(j, case, nationality="Spanien", nationality_group="eu", qualification_type="vocational",
           occupation_group="crafts", annual_salary=38000)
    confirm_path(j, case)
    entry = j.task(case, "task_entry")
    jansen = client_for("jansen")
    page = text(jansen.get(f"/portal/cases/{case.reference}"))
    assert f"/portal/tasks/{entry.id}" in page and "Einreise und Einzug erfassen" in page
    form = text(jansen.get(f"/portal/tasks/{entry.id}"))
    assert 'name="entry_date"' in form and "Abschließen" in form
    response = jansen.post(f"/portal/tasks/{entry.id}", {"entry_date": iso(j.today())})      # incomplete
    assert response.status_code == 422 and "error-summary" in text(response)
    response = jansen.post(f"/portal/tasks/{entry.id}", {
        "entry_date": iso(j.today()), "move_in_date": iso(j.today()), "arrival_address": "Theaterstraße 1, Aachen",
        "landlord_confirmation": "true", "work_start_date": iso(j.today() + timedelta(days=3))})
    assert response.status_code == 302, text(response)[:2000]
    j.reload()
    assert "task_registration" in j.open_ids(case)
    assert "worker_entered" in j.milestones(case)
    assert db.session.get(HumanTask, entry.id).completed_by_id == people["jansen"].id
    assert "worker_entered" in [m.key for m in milestones.journey(j.case(case)).done]
    # the worker's registration is the worker's step: the firm reads who acts, not the center's task list
    after = text(jansen.get(f"/portal/cases/{case.reference}"))
    assert "Fachkraft ist eingereist" in after and "An die Anmeldung erinnern" not in after


def test_a_document_may_be_larger_than_other_requests_but_not_larger_than_its_limit(firms, client_for, ctx):
    case = firms["jansen"]["case"]
    assert ctx.config["MAX_CONTENT_LENGTH"] < 3 * 1024 * 1024
    jansen = client_for("jansen")
    jansen.get(f"/portal/cases/{case.reference}")
    url = f"/portal/cases/{case.reference}/documents"
    big = PDF + b"0" * (3 * 1024 * 1024)                      # a scan of 3 MB: over the general limit
    response = jansen.post(url, {"file": (io.BytesIO(big), "Scan.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert db.session.scalar(select(CaseDocument).where(CaseDocument.filename == "Scan.pdf")).size == len(big)
    ctx.config["DOCUMENT_MAX_BYTES"] = 1024 * 1024
    try:
        response = jansen.post(url, {"file": (io.BytesIO(big), "Zu gross.pdf")}, content_type="multipart/form-data")
        assert response.status_code == 413 and "größer als 1 MB" in text(response)
        # other requests keep the general limit
        response = jansen.post(f"/portal/cases/{case.reference}/messages", {"body": "x" * (3 * 1024 * 1024)})
        assert response.status_code == 413
    finally:
        ctx.config["DOCUMENT_MAX_BYTES"] = 10 * 1024 * 1024


def test_notices_lead_the_firm_to_the_portal_and_the_center_to_its_case_page(firms, client_for, staff):
    from engine import clock, notifications
    from engine.models import MailMessage, Notification
    staff["jansen"].email, staff["anna"].email = "jansen@firm.example", "anna@wc.example"
    db.session.commit()
    own, case = firms["jansen"]["task"], firms["jansen"]["case"]
    notifications.notify(own, "reminder", clock.now())
    db.session.commit()
    to_firm = db.session.scalar(select(MailMessage).where(MailMessage.to == "jansen@firm.example"))
    assert f"/portal/cases/{case.reference}" in to_firm.body
    page = text(client_for("jansen").get("/notifications/"))
    assert f'href="/portal/cases/{case.reference}"' in page
    # the center's people keep the case page
    conversations.post(case, "employer", "Noch eine Frage", author=staff["jansen"])
    to_center = db.session.scalars(select(MailMessage).where(MailMessage.to == "anna@wc.example")).all()[-1]
    assert f"/cases/{case.reference}" in to_center.body and "/portal/" not in to_center.body
    assert db.session.scalar(select(Notification).where(Notification.user_id == staff["anna"].id,
                                                         Notification.kind == "message")) is not None
    assert f'href="/cases/{case.reference}"' in text(client_for("anna").get("/notifications/"))


def test_the_advisor_answers_the_worker_from_the_case_page_once_the_worker_has_a_link(firms, client_for):
    from engine import worker_links
    case = firms["jansen"]["case"]
    anna = client_for("anna")
    assert "Nachrichten mit der Fachkraft" not in text(anna.get(f"/cases/{case.reference}"))   # no way to reach them
    worker_links.issue(case, firms["anna"], {"language": "en"})
    db.session.commit()
    page = text(anna.get(f"/cases/{case.reference}"))
    assert "Nachrichten mit der Fachkraft" in page
    anna.post(f"/cases/{case.reference}/messages", {"party": "worker", "body": "Welcome to Aachen!"})
    assert [m.body for m in conversations.thread(case, "worker")] == ["Welcome to Aachen!"]
    assert "Welcome to Aachen!" not in text(client_for("jansen").get(f"/portal/cases/{case.reference}"))


def test_the_firm_saves_a_draft_and_finishes_later(people, client_for):
    from tests.scenarios.driver import Journey, confirm_path, intake
    j = Journey(people)
    case = j.start("worker_journey", subject="Ravi Kumar", data={"worker_name": "Ravi Kumar"})
    intake(j, case, has_job_offer=True, qualification_type="academic", annual_salary=60000)
    confirm_path(j, case, use_fast_track=True)
    poa = j.task(case, "task_power_of_attorney")
    jansen = client_for("jansen")
    jansen.get(f"/portal/tasks/{poa.id}")
    response = jansen.post(f"/portal/tasks/{poa.id}", {"_action": "draft", "family_included_names": "Priya Kumar"})
    assert response.status_code == 302
    page = text(jansen.get(f"/portal/tasks/{poa.id}"))
    assert "Priya Kumar" in page and "Entwurf vorhanden." in page
    db.session.expire_all()
    assert db.session.get(HumanTask, poa.id).state == "open"
