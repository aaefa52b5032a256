"""Workers' personal links through HTTP: issue, open (with second factors), expire, revoke, renew; what
each role gets on the link pages; one worker's link never opens another worker's case."""
import re
from datetime import timedelta

from sqlalchemy import select

from engine import clock, worker_links
from engine.db import db
from engine.models import CaseEvent, HumanTask, MailMessage, WorkerLink
from tests.worker.conftest import LINK_RE, open_as_worker


def _task(case, element="register_address"):
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.element_id == element))


def test_a_link_opens_the_workers_page_in_their_language_and_is_logged(workers, client_for):
    worker = client_for()
    landing = worker.get(f"/w/{workers['ravi_token']}?lang=ar")
    html = landing.get_data(as_text=True)
    assert landing.status_code == 200 and 'lang="ar" dir="rtl"' in html
    assert "Ravi" not in html                       # the landing page shows nothing of the case
    opened = worker.post(f"/w/{workers['ravi_token']}?lang=ar")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/w/")
    home = worker.get("/w/").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in home and "Ravi Kumar" in home
    assert "سجّل عنوانك" in home                                # the step's Arabic title, from the diagram
    assert "Anna Berger" in home                                 # the advisor's name
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == workers["ravi"].id,
                                                        CaseEvent.kind == "worker_link_opened")).all()
    assert len(events) == 1 and events[0].details["link"] == workers["ravi_link"].id


def _text(response):
    return re.sub(r"</?bdi>", "", response.get_data(as_text=True))      # a process's text is isolated in <bdi>


def test_the_next_step_has_its_date_in_the_workers_locale(workers, client_for):
    due = _task(workers["ravi"]).due_at
    worker = client_for()
    open_as_worker(worker, workers["ravi_token"])
    worker.post("/w/language", {"language": "en"})
    page = _text(worker.get("/w/"))
    from babel.dates import format_skeleton
    from engine.clock import BERLIN
    day = due.astimezone(BERLIN).date()
    assert f"Register your address by {format_skeleton('yMMMMd', day, locale='en')}" in page
    worker.post("/w/language", {"language": "de"})
    page = _text(worker.get("/w/"))
    assert f"Melden Sie Ihre Adresse an bis {format_skeleton('yMMMMd', day, locale='de')}" in page


def test_a_worker_completes_their_task_and_the_advisor_sees_it(workers, client_for):
    task = _task(workers["ravi"])
    worker = client_for()
    open_as_worker(worker, workers["ravi_token"])
    form = worker.get(f"/w/tasks/{task.id}").get_data(as_text=True)
    assert "تاريخ التسجيل" in form and "موجودة لدي" in form       # the form's Arabic texts, from the form file
    missing = worker.post(f"/w/tasks/{task.id}", {"office": "Aachen"})
    assert missing.status_code == 422 and 'aria-invalid="true"' in missing.get_data(as_text=True)
    assert 'value="Aachen"' in missing.get_data(as_text=True)     # nothing typed is lost
    done = worker.post(f"/w/tasks/{task.id}", {"registered_on": "2026-03-05", "office": "Aachen",
                                               "certificate": "yes"})
    assert done.status_code == 302
    db.session.expire_all()
    assert _task(workers["ravi"]).state == "completed"
    advisor = client_for("anna")
    case_page = advisor.get(f"/cases/{workers['ravi'].reference}").get_data(as_text=True)
    assert "von der Fachkraft (persönlicher Link)" in case_page
    assert "Persönlicher Link geöffnet" in case_page


def test_expired_revoked_renewed_and_forged_links_show_no_data(workers, client_for):
    forged = client_for()
    response = open_as_worker(forged, "not-a-token-" + "x" * 30)
    assert response.status_code == 404 and "Ravi" not in response.get_data(as_text=True)

    worker = client_for()
    open_as_worker(worker, workers["ravi_token"])
    assert worker.get("/w/").status_code == 200
    worker_links.revoke(workers["ravi"], workers["anna"], workers["ravi_link"].id)
    db.session.commit()
    ended = worker.get("/w/")                                  # revoking ends the session it opened
    assert ended.status_code == 401 and "Ravi" not in ended.get_data(as_text=True)
    again = open_as_worker(client_for(), workers["ravi_token"])
    html = again.get_data(as_text=True)
    assert again.status_code == 410 and 'data-link-status="revoked"' in html and "Ravi" not in html
    assert 'lang="ar"' in html                                  # in the worker's language

    old = workers["olena_token"]
    workers["olena_link"].revoke_reason = ""
    link, new = worker_links.renew(workers["olena"], workers["anna"], workers["olena_link"].id)
    db.session.commit()
    assert open_as_worker(client_for(), old).status_code == 410      # the renewed link replaced it
    assert open_as_worker(client_for(), new).status_code == 302

    clock.advance(timedelta(days=91))
    expired = open_as_worker(client_for(), new)
    assert expired.status_code == 410 and 'data-link-status="expired"' in expired.get_data(as_text=True)


def test_one_workers_link_never_opens_another_workers_case(workers, client_for):
    ravi_task, olena_task = _task(workers["ravi"]), _task(workers["olena"])
    worker = client_for()
    open_as_worker(worker, workers["ravi_token"])
    assert worker.get(f"/w/tasks/{olena_task.id}").status_code == 404          # a guessed task id
    assert worker.post(f"/w/tasks/{olena_task.id}", {"registered_on": "2026-03-05"}).status_code == 404
    db.session.expire_all()
    assert _task(workers["olena"]).state == "open"
    assert "Olena" not in worker.get("/w/").get_data(as_text=True)
    # a session whose link id and key belong to different links (swapped) opens nothing
    with worker.http.session_transaction() as session:
        session["worker_link"] = workers["olena_link"].id
    assert worker.get("/w/").status_code == 401
    # an advisor's own task in the worker's case is not the worker's
    worker = client_for()
    open_as_worker(worker, workers["ravi_token"])
    from engine import cases
    cases.complete_task(ravi_task.id, {"registered_on": "2026-03-05"}, actor=workers["anna"])
    check = _task(workers["ravi"], "check")
    assert worker.get(f"/w/tasks/{check.id}").status_code == 404


def test_second_factors_birth_date_and_mailed_code(workers, client_for):
    link, token = worker_links.issue(workers["ravi"], workers["anna"],
                                     {"language": "en", "second_factor": "birth_date", "birth_date": "1990-04-01"})
    db.session.commit()
    worker = client_for()
    asked = open_as_worker(worker, token)
    assert asked.status_code == 200 and 'name="birth_date"' in asked.get_data(as_text=True)
    assert worker.post(f"/w/{token}", {"birth_date": "1990-04-02"}).status_code == 422
    assert worker.get("/w/").status_code == 401
    assert worker.post(f"/w/{token}", {"birth_date": "1990-04-01"}).status_code == 302
    assert worker.get("/w/").status_code == 200

    link, token = worker_links.issue(workers["ravi"], workers["anna"],
                                     {"language": "tr", "second_factor": "mail_code", "email": "ravi@example.org"})
    db.session.commit()
    worker = client_for()
    asked = open_as_worker(worker, token)
    assert asked.status_code == 200 and 'name="code"' in asked.get_data(as_text=True)
    mail = db.session.scalars(select(MailMessage).where(MailMessage.to == "ravi@example.org")
                              .order_by(MailMessage.id.desc())).first()
    code = mail.subject.rsplit(" ", 1)[1]
    assert mail.language == "tr" and "Kodunuz" in mail.subject
    wrong = "000000" if code != "000000" else "111111"
    assert worker.post(f"/w/{token}", {"code": wrong}).status_code == 422
    assert worker.post(f"/w/{token}", {"code": code}).status_code == 302
    assert worker.get("/w/").status_code == 200
    assert worker.post("/w/leave").status_code == 200
    assert worker.get("/w/").status_code == 401
    assert worker.post(f"/w/{token}", {"code": code}).status_code == 422        # a code opens once


def test_link_openings_are_throttled(workers, client_for, ctx):
    ctx.config["LOGIN_TRIES_PER_ACCOUNT"] = 3
    try:
        worker = client_for()
        statuses = [open_as_worker(worker, "forged-token-guess").status_code for _ in range(4)]
    finally:
        ctx.config["LOGIN_TRIES_PER_ACCOUNT"] = 10
    assert statuses == [404, 404, 404, 429]


def test_the_advisor_issues_a_link_by_mail_and_as_a_qr_code(workers, client_for):
    advisor = client_for("anna")
    reference = workers["ravi"].reference
    form = advisor.get(f"/cases/{reference}/worker-links/new")
    assert form.status_code == 200
    bad = advisor.post(f"/cases/{reference}/worker-links/new", {"language": "ar", "send": "1",
                                                                 "second_factor": "birth_date"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="link-email-error"' in html and 'id="link-birth-date-error"' in html
    issued = advisor.post(f"/cases/{reference}/worker-links/new", {"language": "ar", "send": "1",
                                                                    "email": "ravi@example.org"})
    html = issued.get_data(as_text=True)
    assert issued.status_code == 200 and "<svg" in html and "style=" not in html.split("<svg", 1)[1].split("</svg>")[0]
    token, language = LINK_RE.search(html).groups()
    assert language == "ar"
    mail = db.session.scalars(select(MailMessage).order_by(MailMessage.id.desc())).first()
    assert mail.to == "ravi@example.org" and f"/w/{token}?lang=ar" in mail.body and "رابطك" in mail.subject
    assert db.session.scalar(select(WorkerLink).where(WorkerLink.token_hash == token)) is None   # stored hashed
    assert open_as_worker(client_for(), workers["ravi_token"]).status_code == 410   # the new link replaced it
    assert open_as_worker(client_for(), token).status_code == 302
    case_page = advisor.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Persönlicher Link für die Fachkraft" in case_page and "Sperren" in case_page


def test_who_gets_the_link_pages(workers, client_for):
    reference = workers["ravi"].reference
    new = f"/cases/{reference}/worker-links/new"
    revoke = f"/cases/{reference}/worker-links/{workers['ravi_link'].id}/revoke"
    assert client_for().get(new).status_code == 302                           # anonymous: to the login
    assert client_for("jansen").get(new).status_code == 403                   # employer
    assert client_for("kai").get(new).status_code == 404                      # another center's advisor
    assert client_for("sara").get(new).status_code == 200                     # a supervisor of the center
    other = f"/cases/{reference}/worker-links/{workers['olena_link'].id}/revoke"
    assert client_for("anna").post(other).status_code == 404                  # a link of another case
    assert client_for("kai").post(revoke).status_code == 404
    assert client_for("anna").post(revoke).status_code == 302
    # staff logged in get no worker page: it belongs to a link's session only
    assert client_for("anna").get("/w/").status_code == 401
