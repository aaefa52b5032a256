"""A process owner in Chromium: edit the worker journey in the modeler (properties panel), save a draft,
run the journey's scenarios against it, deploy it while a running case stays on its version; an invalid diagram refused with the element
selected; a Blue Card threshold edited in dmn-js changing the path of a new case. Desktop and phone."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine import users
from engine.db import db
from engine.models import Case, Deployment, ProcessDefinition, ProcessDraft
from tests.browser.axe import assert_accessible
from tests.browser.conftest import screenshot
from tests.scenarios.driver import Journey, intake

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn"


@pytest.fixture
def journey(people):
    j = Journey(people)           # deploys bpmn/ and forms/ with the clock frozen on a Monday in 2026
    people["paul"] = users.ensure_user("paul", "Paul Prozess", organisation=people["center"],
                                       groups=["process_owner"], password="pw-paul")
    db.session.commit()
    return j


def csp_watch(page):
    """Console messages about the Content-Security-Policy (a blocked <style> or script)."""
    found = []
    page.on("console", lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None)
    return found


def open_editor(page, key="worker_journey"):
    page.goto(f"/processes/bpmn/{key}/edit")
    expect(page.locator(".bpmn-modeler .djs-container")).to_be_visible()
    expect(page.locator(".bpmn-modeler [data-element-id='task_intake']").first).to_be_attached()


def select_element(page, element_id):
    page.locator(".bpmn-modeler").evaluate("(el, id) => el.lotseSelect(id)", element_id)


def open_group(page, title):
    header = page.locator(".bio-properties-panel-group-header", has_text=title).first
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def selected(page):
    return page.locator(".bpmn-modeler").evaluate(
        "el => el.lotseModeler.get('selection').get().map(e => e.id)")


def test_owner_edits_a_due_date_saves_a_draft_and_deploys_while_running_cases_stay(journey, people, new_page):
    running = journey.start("worker_journey", subject="Ravi Kumar", data={"worker_name": "Ravi Kumar"})
    page = new_page("paul")
    blocked = csp_watch(page)
    expect(page).to_have_url(re.compile(r"/processes/$"))
    expect(page.get_by_role("heading", level=1, name="Prozesse")).to_be_visible()
    screenshot(page, "owners-index")
    assert_accessible(page)

    page.get_by_role("link", name=re.compile("Fachkraft|worker_journey")).first.click()
    expect(page.get_by_role("heading", name=re.compile("worker_journey"))).to_be_visible()
    page.get_by_role("link", name="Neueste Version bearbeiten").click()
    expect(page.locator(".bpmn-modeler .djs-container")).to_be_visible()
    expect(page.locator(".bpmn-modeler [data-element-id='task_intake']").first).to_be_attached()

    page.locator(".djs-element[data-element-id='task_intake']").first.click()
    open_group(page, "User assignment")
    due = page.locator("#bio-properties-panel-dueDate")
    expect(due).to_have_value("P7D")
    due.fill("P10D")
    due.press("Tab")
    page.get_by_label("Name des Entwurfs").fill("Erstgespräch 10 Tage")
    page.get_by_role("button", name="Entwurf speichern").click()
    expect(page.locator(".lotse-messages")).to_contain_text("gespeichert")
    screenshot(page, "owners-modeler", full_page=False)
    assert_accessible(page)

    # the draft survives a reload and is listed as the user's; nothing is deployed yet
    page.goto("/processes/bpmn/worker_journey")
    page.get_by_role("link", name="Erstgespräch 10 Tage").click()
    expect(page.get_by_role("heading", name=re.compile("Entwurf „Erstgespräch 10 Tage“"))).to_be_visible()
    expect(page.locator(".bpmn-modeler [data-element-id='task_intake']").first).to_be_attached()
    select_element(page, "task_intake")
    open_group(page, "User assignment")
    expect(page.locator("#bio-properties-panel-dueDate")).to_have_value("P10D")
    db.session.expire_all()
    assert db.session.scalars(select(ProcessDefinition.version).where(
        ProcessDefinition.key == "worker_journey")).all() == [1]

    # the journey's stored scenarios, run against the draft before it is deployed
    page.get_by_role("button", name="Szenarien gegen diesen Stand ausführen").click()
    expect(page.locator(".lotse-messages")).to_contain_text("Szenario „", timeout=60_000)
    expect(page.locator(".lotse-messages__item--success")).to_have_count(2)
    expect(page.locator(".lotse-messages")).to_contain_text("task_intake")
    screenshot(page, "owners-scenarios", full_page=False)

    page.get_by_label("Änderungsnotiz (beim Bereitstellen)").fill("Erstgespräch: 10 statt 7 Tage")
    page.get_by_role("button", name="Bereitstellen").click()
    expect(page.locator(".lotse-messages")).to_contain_text("worker_journey v2")

    page.goto("/processes/bpmn/worker_journey")
    versions = page.locator(".version-table tbody tr")
    expect(versions.first).to_contain_text("v2")
    expect(versions.first).to_contain_text("Erstgespräch: 10 statt 7 Tage")
    expect(versions.first).to_contain_text("Paul Prozess")
    expect(versions.nth(1)).to_contain_text("v1")
    screenshot(page, "owners-versions")
    assert_accessible(page)

    db.session.expire_all()
    assert db.session.get(Case, running.id).definition.version == 1
    newest = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == "worker_journey",
                                                               ProcessDefinition.version == 2))
    assert 'camunda:dueDate="P10D"' in newest.source_file.content
    assert db.session.scalar(select(ProcessDraft)) is None
    assert not blocked, blocked


def test_an_invalid_diagram_is_refused_with_the_element_selected(journey, people, new_page):
    page = new_page("paul", at=None)
    blocked = csp_watch(page)
    open_editor(page)
    before = db.session.scalar(select(Deployment.id).order_by(Deployment.id.desc()).limit(1))

    # a gateway condition that does not compile
    select_element(page, "Flow_gw_route_call_fast_track")
    open_group(page, "Condition")
    condition = page.locator("#bio-properties-panel-conditionExpression")
    condition.fill("fast_track and")
    condition.press("Tab")
    # a JUEL expression where Lotse runs Python
    select_element(page, "task_intake")
    open_group(page, "User assignment")
    page.locator("#bio-properties-panel-dueDate").fill("${dateTime().plusDays(7).toDate()}")
    page.locator("#bio-properties-panel-dueDate").press("Tab")

    page.get_by_role("button", name="Bereitstellen").click()
    problems = page.locator(".lotse-messages__link")
    expect(problems.first).to_be_visible()
    expect(page.locator(".lotse-messages")).to_contain_text("Nicht bereitgestellt")
    expect(page.locator(".lotse-messages__link[data-element-id='task_intake']")).to_contain_text("JUEL")
    flow = page.locator(".lotse-messages__link[data-element-id='Flow_gw_route_call_fast_track']")
    expect(flow).to_contain_text("condition")
    flow.click()
    assert selected(page) == ["Flow_gw_route_call_fast_track"]
    page.locator(".lotse-messages__link[data-element-id='task_intake']").click()
    assert selected(page) == ["task_intake"]
    screenshot(page, "owners-refused", full_page=False)
    assert_accessible(page)

    db.session.expire_all()
    assert db.session.scalar(select(Deployment.id).order_by(Deployment.id.desc()).limit(1)) == before
    assert not blocked, blocked


def test_a_threshold_edited_in_dmn_js_changes_the_path_of_a_new_case(journey, people, new_page):
    before = journey.start("worker_journey", subject="Vor der Änderung", data={"worker_name": "A"})
    intake(journey, before, qualification_type="academic", degree_comparable=True, occupation_group="it",
           annual_salary=51000, employment_start="2026-07-01")
    assert journey.value(before, "proposed_residence_path") == "blue_card"

    page = new_page("paul", at=None)
    blocked = csp_watch(page)
    page.goto("/processes/dmn/worker_path/edit")
    cell = page.locator(".dmn-editor td[data-row-id='Rule_worker_path_4'][data-col-id='Input_salary']")
    expect(cell).to_contain_text("50700")
    cell.click()
    page.keyboard.press("End")
    for _ in range(5):
        page.keyboard.press("Backspace")
    page.keyboard.type("52000")
    page.locator(".dmn-editor td[data-row-id='Rule_worker_path_4'][data-col-id='Input_year']").click()
    expect(cell).to_contain_text("52000")
    screenshot(page, "owners-dmn", full_page=False)
    assert_accessible(page)
    page.get_by_label("Name des Entwurfs").fill("Schwellen 2026")
    page.get_by_role("button", name="Entwurf speichern").click()
    expect(page.locator(".lotse-messages")).to_contain_text("gespeichert")
    page.get_by_label("Änderungsnotiz (beim Bereitstellen)").fill("Blaue Karte 2026: 52.000 EUR")
    page.get_by_role("button", name="Bereitstellen").click()
    expect(page.locator(".lotse-messages")).to_contain_text("worker_path v2")
    db.session.expire_all()
    assert db.session.scalar(select(ProcessDraft)) is None      # the draft saved on this page was deployed
    expect(page.locator(".lotse-messages")).to_contain_text("worker_journey v2")

    journey.reload()
    after = journey.start("worker_journey", subject="Nach der Änderung", data={"worker_name": "B"})
    intake(journey, after, qualification_type="academic", degree_comparable=True, occupation_group="it",
           annual_salary=51000, employment_start="2026-07-01")
    assert journey.value(after, "proposed_residence_path") != "blue_card"
    assert journey.case(before).definition.version == 1
    assert not blocked, blocked


def test_the_form_editor_previews_in_german_and_english_and_pages_fit_a_phone(journey, people, new_page):
    page = new_page("paul", at=None)
    blocked = csp_watch(page)
    page.goto("/processes/form/worker_intake/edit")
    expect(page.locator(".form-editor .fjs-editor-container")).to_be_visible()
    page.get_by_role("button", name="Vorschau aktualisieren").click()
    expect(page.locator("#form-preview-de")).to_contain_text("Staatsangehörigkeit")
    expect(page.locator("#form-preview-en")).not_to_be_empty()
    screenshot(page, "owners-form")
    assert_accessible(page)
    assert not blocked, blocked

    phone = page                          # the same login, on a phone
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto("/processes/bpmn/worker_journey")
    expect(phone.get_by_role("heading", name=re.compile("worker_journey"))).to_be_visible()
    screenshot(phone, "owners-phone")
    assert_accessible(phone)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width


def test_an_uploaded_diagram_without_layout_is_laid_out_and_downloads_with_it(journey, people, new_page, tmp_path):
    page = new_page("paul", at=None)
    blocked = csp_watch(page)
    page.goto("/processes/")
    page.get_by_label("Datei", exact=True).set_input_files(str(FIXTURES / "callee.bpmn"))
    page.get_by_label("Name des Entwurfs (freiwillig)").fill("Vom Desktop")
    page.get_by_role("button", name="Hochladen").click()
    expect(page.get_by_role("heading", name=re.compile("Entwurf „Vom Desktop“"))).to_be_visible()
    task = page.locator(".bpmn-modeler .djs-shape[data-element-id='sub_task']")
    expect(task).to_be_visible()
    box = task.bounding_box()
    assert box["width"] > 20 and box["height"] > 20
    with page.expect_download() as download:
        page.get_by_role("button", name="Herunterladen").click()
    saved = download.value
    assert saved.suggested_filename == "callee.bpmn"
    text = (tmp_path / "callee.bpmn")
    saved.save_as(str(text))
    assert "BPMNShape" in text.read_text(encoding="utf-8") and 'id="sub_task"' in text.read_text(encoding="utf-8")
    screenshot(page, "owners-layout", full_page=False)

    # a hostile upload is refused with its reason, and the page still works
    (tmp_path / "evil.bpmn").write_bytes(b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                         b'<definitions>&x;</definitions>')
    page.goto("/processes/")
    page.get_by_label("Datei", exact=True).set_input_files(str(tmp_path / "evil.bpmn"))
    page.get_by_role("button", name="Hochladen").click()
    expect(page.get_by_role("alert")).to_contain_text("DTDs and entities are not allowed")
    assert_accessible(page)
    assert not blocked, blocked
