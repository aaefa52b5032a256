"""The employer portal in Chromium, at desktop and phone sizes: a firm's person logs in, reads where the
journeys stand and what to do next, completes a task, uploads a document (a renamed program is refused),
writes to the advisor, who answers from the case page; another firm's objects are a 404; no advisor note
shows; axe finds nothing serious on any portal page."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine import cases
from engine.db import db
from engine.models import HumanTask
from tests.browser.axe import assert_accessible, axe_violations
from tests.browser.conftest import screenshot
from tests.scenarios.driver import Journey, confirm_path, intake

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 400
PHONE = {"width": 390, "height": 844}
NOTE = "Gesundheitliche Sorgen – vertraulich"


@pytest.fixture
def portal(people, ctx, tmp_path):
    ctx.config["DOCUMENTS_DIR"] = str(tmp_path / "documents")
    j = Journey(people)
    own = j.start("employer_journey", subject="Elektro Jansen GmbH", data={"firm_name": "Elektro Jansen GmbH"})
    ravi = j.start("worker_journey", subject="Ravi Kumar", data={"worker_name": "Ravi Kumar"})
    intake(j, ravi, has_job_offer=True, qualification_type="academic", annual_salary=60000)
    confirm_path(j, ravi, use_fast_track=True)
    cases.add_comment(ravi.id, NOTE, people["anna"])
    j.case(ravi).responsible_id = people["anna"].id
    maria = j.start("worker_journey", firm="other_firm", subject="Maria Santos", data={"worker_name": "Maria Santos"})
    db.session.commit()
    yield {"j": j, "own": j.case(own), "ravi": j.case(ravi), "maria": j.case(maria), **people}
    ctx.config["DOCUMENTS_DIR"] = None


def open_task(case, element_id):
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.element_id == element_id,
                                                     HumanTask.state == "open"))


def look(page, name):
    screenshot(page, f"employers-{name}")
    assert_accessible(page)


def test_a_firm_follows_its_journeys_completes_a_task_uploads_and_writes(portal, new_page):
    ravi = portal["ravi"]
    page = new_page("jansen")
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.get_by_role("heading", name="Ihre Begleitung durch das Welcome Center")).to_be_visible()
    card = page.locator(".journey-card", has_text="Ravi Kumar")
    expect(card).to_contain_text("Erstgespräch mit der Fachkraft geführt")          # done, with its date
    expect(card.locator(".journey-steps__item--current")).to_contain_text("Vollmacht der Fachkraft liegt vor")
    expect(card.locator(".journey__next")).to_contain_text(re.compile(r"Vollmacht der Fachkraft .* bis 16\. März"))
    expect(card).to_contain_text("Am Zug:")
    expect(page.locator(".journey-card", has_text="Elektro Jansen GmbH")).to_be_visible()
    assert page.get_by_text("Maria Santos").count() == 0
    look(page, "home")

    # the firm's next step: the power of attorney, with the workspace's validation
    card.locator(".journey__next a").click()
    expect(page.get_by_role("heading", name="Vollmacht der Fachkraft für den Arbeitgeber einholen")).to_be_visible()
    page.get_by_role("button", name="Abschließen").click()
    expect(page.locator(".error-summary")).to_contain_text("Vollmacht unterschrieben")
    look(page, "task-errors")
    page.get_by_label("Vollmacht unterschrieben").check()
    page.get_by_label("Datum der Vollmacht").fill("2026-03-02")
    page.get_by_label("Datum der Vollmacht").press("Enter")           # the keyboard submits as a click does
    expect(page.locator(".flash-success")).to_contain_text("ist erledigt")
    expect(page).to_have_url(re.compile(rf"/portal/cases/{ravi.reference}$"))
    expect(page.locator(".journey-steps__item--done", has_text="Vollmacht der Fachkraft liegt vor")).to_be_visible()
    assert open_task(ravi, "task_agreement") is not None                 # the case moved on
    assert NOTE not in page.content()
    look(page, "case")

    # documents: a renamed program is refused, a PDF taken and listed as received
    page.get_by_label("Welche Unterlage?").select_option(label="Vollmacht der Fachkraft (unterschrieben)")
    page.get_by_label("Datei").set_input_files({"name": "Vollmacht.pdf", "mimeType": "application/pdf", "buffer": EXE})
    page.get_by_role("button", name="Hochladen").click()
    expect(page.locator(".flash-error")).to_contain_text("„Vollmacht.pdf“ wurde nicht angenommen")
    expect(page.locator(".checklist__item--open", has_text="Vollmacht der Fachkraft (unterschrieben)")).to_be_visible()
    page.get_by_label("Welche Unterlage?").select_option(label="Vollmacht der Fachkraft (unterschrieben)")
    page.get_by_label("Datei").set_input_files({"name": "Vollmacht Kumar.pdf", "mimeType": "application/pdf",
                                               "buffer": PDF})
    page.get_by_role("button", name="Hochladen").click()
    expect(page.locator(".flash-success")).to_contain_text("ist hochgeladen")
    received = page.locator(".checklist__item--done", has_text="Vollmacht der Fachkraft (unterschrieben)")
    expect(received.get_by_role("link", name="Vollmacht Kumar.pdf")).to_be_visible()
    look(page, "documents")

    # a message the advisor sees and answers from the case page
    page.get_by_label("Ihre Nachricht").fill("Wann ist der Termin bei der Ausländerbehörde?")
    page.get_by_role("button", name="Senden").click()
    expect(page.locator(".flash-success")).to_contain_text("an das Welcome Center gegangen")
    advisor = new_page("anna", at=None)
    advisor.goto(f"/cases/{ravi.reference}")
    thread = advisor.locator("#messages-employer")
    expect(thread).to_contain_text("Wann ist der Termin bei der Ausländerbehörde?")
    expect(advisor.locator("#documents")).to_contain_text("Vollmacht Kumar.pdf")
    thread.get_by_label("Antwort").fill("Am 20. März um 10 Uhr.")
    thread.get_by_role("button", name="Antwort senden").click()
    expect(advisor.locator(".flash-success")).to_contain_text("Antwort gesendet")
    screenshot(advisor, "employers-advisor-case")
    # the case page's new parts pass axe (the page's diagram viewer is another matter, not this test's)
    assert [v["id"] for v in axe_violations(advisor, include=["#documents", "#messages-employer"])] == []
    page.reload()
    expect(page.locator("#messages")).to_contain_text("Am 20. März um 10 Uhr.")
    page.get_by_role("link", name="Benachrichtigungen").click()
    expect(page.locator("main")).to_contain_text("Neue Nachricht")


def test_another_firms_objects_are_a_404_and_the_pages_fit_a_phone(portal, new_page):
    maria = portal["maria"]
    page = new_page("jansen", at=None)
    page.set_viewport_size(PHONE)
    page.goto("/")
    page.wait_for_url("**/portal/")
    look(page, "phone-home")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator(".journey-card", has_text="Ravi Kumar").get_by_role("link", name="Ravi Kumar").click()
    expect(page.get_by_role("heading", name="Ravi Kumar", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert NOTE not in page.content()
    look(page, "phone-case")
    page.locator(".own-steps a").first.click()
    expect(page.get_by_role("button", name="Abschließen")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    look(page, "phone-task")
    other_task = open_task(maria, "task_intake")
    for url in (f"/portal/cases/{maria.reference}", f"/portal/tasks/{other_task.id}", "/portal/documents/999"):
        response = page.goto(url)
        assert response.status == 404, url
    look(page, "phone-404")
    response = page.goto(f"/cases/{portal['ravi'].reference}")          # the center's case page
    assert response.status == 403
    # English, remembered for the user
    page.goto("/portal/")
    page.get_by_role("button", name=re.compile("English")).click()
    expect(page.get_by_role("heading", name="Your journeys with the Welcome Center")).to_be_visible()
    expect(page.locator(".journey-card", has_text="Ravi Kumar")).to_contain_text(
        "Initial interview with the skilled worker held")
    look(page, "phone-home-en")
