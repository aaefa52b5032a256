"""Camunda files in Chromium: a form generated from camunda:formData and the generic completion page."""
from sqlalchemy import select

from engine import cases, deploy
from engine.db import db
from engine.models import HumanTask
from tests.browser.axe import assert_accessible
from tests.browser.conftest import screenshot
from tests.engine.test_camunda_dialect import FORM_DATA


def test_generated_form_and_generic_page_on_desktop_and_phone(people, new_page):
    deploy.deploy([("loan.bpmn", FORM_DATA.encode())])
    db.session.commit()
    case = cases.start_case("loan", center=people["center"], subject="Ana Lima", data={"customer": "Ana Lima"})
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    page = new_page("anna", at=None)
    page.goto(f"/tasks/{task.id}")
    assert page.get_by_label("Amount").input_value() == "1000"
    page.get_by_label("Kind").select_option("b")
    screenshot(page, "camunda-generated-form")
    assert_accessible(page)
    page.get_by_role("button", name="Abschließen").click()
    page.wait_for_url("**/")
    generic = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open"))
    assert generic is not None and generic.form_version_id is None
    page.goto(f"/tasks/{generic.id}")
    for width, height, name in ((1280, 900, "desktop"), (390, 844, "phone")):     # the page narrowed in place
        page.set_viewport_size({"width": width, "height": height})
        assert page.get_by_text("Check the documents.").is_visible()
        assert page.locator("[data-task-data]").get_by_text("Ana Lima").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(page, f"camunda-generic-page-{name}")
        assert_accessible(page)
    page.get_by_role("button", name="Als erledigt markieren").click()
    page.wait_for_url("**/")
    db.session.expire_all()
    assert db.session.get(HumanTask, generic.id).state == "completed"
