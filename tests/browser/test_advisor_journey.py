"""The advisor's day in a real browser: claim, fail validation, complete, see the case move on."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from engine import cases
from engine.db import db
from engine.models import HumanTask
from tests.browser.axe import assert_accessible
from tests.browser.conftest import screenshot


def _open_task(case):
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")
                             .order_by(HumanTask.created_at))


def test_claim_invalid_form_complete_and_case_advances(ws, new_page, shot):
    ravi = ws["cases"][0]
    page = new_page("anna")
    expect(page.get_by_role("heading", name="Aufgaben", level=1)).to_be_visible()

    # Group tasks: the new case's first task waits there; claim it.
    page.get_by_role("link", name=re.compile("Gruppenaufgaben")).click()
    page.wait_for_url("**view=group")   # a full page load: filling in the old page races it
    row = page.locator("tr", has_text=ravi.reference)
    expect(row).to_contain_text("Unterlagen prüfen")
    shot(page, "inbox-group")
    row.get_by_role("button", name="Übernehmen").click()
    # claimed in place: the row stays in the tab being looked at, marked as the advisor's, until reload
    expect(row).to_contain_text("von Ihnen übernommen")
    expect(row.get_by_role("button", name="Freigeben")).to_be_visible()
    assert page.url.endswith("view=group")
    shot(page, "inbox-group-claimed")
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(row.get_by_role("button", name="Freigeben")).to_be_visible()
    screenshot(page, "arch-inbox-claimed-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    expect(page.locator("tr", has_text=ravi.reference)).to_have_count(0)
    page.get_by_role("link", name=re.compile("Meine Aufgaben")).click()
    row = page.locator("tr", has_text=ravi.reference)
    expect(row).to_be_visible()
    shot(page, "inbox-mine")

    # The task page: instructions (sandboxed Markdown) and the form.
    row.get_by_role("link", name="Unterlagen prüfen").click()
    expect(page.get_by_role("heading", name="Unterlagen prüfen", level=1)).to_be_visible()
    expect(page.locator(".instructions strong")).to_have_text("Pass")
    expect(page.locator(".instructions")).to_contain_text("Ravi Kumar")
    assert page.locator(".instructions script").count() == 0
    assert page.locator(".instructions a[href^='javascript']").count() == 0

    # Invalid input: errors at the fields, values kept.
    page.get_by_label("Passnummer").fill("abc")
    page.get_by_label("Bruttojahresgehalt").fill("-5")
    page.get_by_label("Anmerkungen").fill("Vertrag fehlt noch")
    page.get_by_role("button", name="Abschließen").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Passnummer")
    expect(page.get_by_label("Passnummer")).to_have_value("abc")
    expect(page.get_by_label("Passnummer")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Bruttojahresgehalt")).to_have_value("-5")
    expect(page.get_by_label("Anmerkungen")).to_have_value("Vertrag fehlt noch")
    shot(page, "task-errors")

    # Save a draft, come back, values still there; then complete.
    page.get_by_label("Passnummer").fill("C01X00T47")
    page.get_by_role("button", name="Entwurf speichern").click()
    expect(page.locator(".flash-success")).to_contain_text("Entwurf gespeichert")
    expect(page.get_by_label("Passnummer")).to_have_value("C01X00T47")
    page.get_by_label("Bruttojahresgehalt").fill("52000")
    page.get_by_label("Art des Vertrags").select_option(label="Unbefristet")
    page.get_by_label("Geplante Einreise").fill("2027-03-01")
    page.get_by_role("button", name="Abschließen").click()
    expect(page.locator(".flash-success")).to_contain_text("ist erledigt")
    assert page.url.endswith("/") or "view=" in page.url

    # The case moved on: the next task is open, the timer waits, the timeline shows who did what.
    page.goto(f"/cases/{ravi.reference}")
    expect(page.get_by_role("heading", name="Aktuelle Aufgaben")).to_be_visible()
    expect(page.locator("section", has=page.get_by_role("heading", name="Aktuelle Aufgaben"))) \
        .to_contain_text("Arbeitgeber informieren")
    expect(page.locator(".timeline")).to_contain_text("Aufgabe erledigt: Unterlagen prüfen")
    expect(page.locator(".timeline")).to_contain_text("Anna Berger")
    expect(page.locator(".changes__table").first).to_contain_text("Passnummer")
    expect(page.locator(".deadline-list")).to_contain_text("Zustimmung der Bundesagentur abwarten")
    expect(page.locator(".deadline-list")).to_contain_text("Behörde")
    expect(page.locator(".data-list")).to_contain_text("Unbefristet")
    # the diagram: bpmn-js drew it, with the markers from the case
    expect(page.locator(".bpmn-viewer svg").first).to_be_visible()
    expect(page.locator(".bpmn-viewer [data-element-id='inform_employer']").first).to_be_visible()
    shot(page, "case")


def test_second_advisor_cannot_complete_the_same_task(ws, new_page, shot):
    maria = ws["cases"][1]
    task = _open_task(maria)
    anna = new_page("anna", at=f"/tasks/{task.id}")
    ben = new_page("ben", at=f"/tasks/{task.id}")
    for page, passport in ((anna, "P1234567"), (ben, "B7654321")):
        page.get_by_label("Passnummer").fill(passport)
        page.get_by_label("Bruttojahresgehalt").fill("48000")
    anna.get_by_role("button", name="Abschließen").click()
    expect(anna.locator(".flash-success")).to_contain_text("ist erledigt")

    ben.get_by_role("button", name="Abschließen").click()
    alert = ben.get_by_role("alert")
    expect(alert).to_contain_text("inzwischen von Anna Berger erledigt")
    expect(ben.get_by_label("Passnummer")).to_have_value("B7654321")   # nothing typed is thrown away
    assert ben.get_by_role("button", name="Abschließen").count() == 0
    shot(ben, "task-conflict")

    # A task claimed by Anna: Ben sees who works on it and gets no buttons.
    nxt = _open_task(maria)
    cases.claim_task(nxt.id, ws["anna"])
    ben.goto(f"/tasks/{nxt.id}")
    expect(ben.locator(".alert--info")).to_contain_text("Anna Berger")
    assert ben.get_by_role("button", name="Als erledigt markieren").count() == 0


def test_other_center_gets_404_and_deadlines_view(ws, new_page, shot):
    ravi = ws["cases"][0]
    kai = new_page("kai", at=None)
    response = kai.goto(f"/cases/{ravi.reference}")
    assert response.status == 404
    expect(kai.get_by_role("heading", name="Nicht gefunden")).to_be_visible()
    response = kai.goto(f"/tasks/{_open_task(ravi).id}")
    assert response.status == 404

    anna = new_page("anna")
    anna.get_by_role("link", name="Fristen").click()
    expect(anna.get_by_role("heading", name="Fristen", level=1)).to_be_visible()
    expect(anna.locator("table.deadlines").first).to_contain_text(ravi.reference)
    expect(anna.locator("body")).not_to_contain_text("Olena Kovalenko")
    shot(anna, "deadlines")


def test_language_switch_and_keyboard(ws, new_page):
    page = new_page("anna")
    page.get_by_role("button", name=re.compile("English")).click()
    expect(page.get_by_role("heading", name="Tasks", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    expect(page.get_by_role("heading", name="Tasks", level=1)).to_be_visible()   # kept in the session
    # skip link is the first stop of the keyboard and leads to the content
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
