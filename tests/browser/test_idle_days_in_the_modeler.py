"""A process owner sets, in the modeler's properties panel, after how many days without activity a case of
the process is stuck (the process's extension property `idle_days`), deploys it, and the supervisor's
stuck list lists a quiet case of that version after those days, not before."""
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from engine import clock
from engine.db import db
from engine.models import ProcessDefinition
from tests.browser.test_process_owner_journey import journey, open_editor, open_group, select_element  # noqa: F401


def test_the_owner_sets_idle_days_and_the_supervisor_sees_a_quiet_case(journey, people, new_page):  # noqa: F811
    page = new_page("paul", at=None)
    open_editor(page)
    select_element(page, "Participant_worker_journey")
    open_group(page, "Extension properties")
    group = page.locator(".bio-properties-panel-group", has=page.locator(".bio-properties-panel-group-header",
                                                                          has_text="Extension properties"))
    group.locator(".bio-properties-panel-add-entry").first.click()
    group.get_by_label("Name", exact=True).fill("idle_days")
    group.get_by_label("Value", exact=True).fill("2")
    group.get_by_label("Value", exact=True).press("Tab")
    page.get_by_label("Änderungsnotiz (beim Bereitstellen)").fill("Nach 2 Tagen ohne Aktivität festgefahren")
    page.get_by_role("button", name="Bereitstellen").click()
    expect(page.locator(".lotse-messages")).to_contain_text("worker_journey v2")
    db.session.expire_all()
    assert db.session.scalar(select(ProcessDefinition.idle_days).where(
        ProcessDefinition.key == "worker_journey", ProcessDefinition.version == 2)) == 2

    quiet = journey.start("worker_journey", subject="Stille Fachkraft", data={"worker_name": "Stille Fachkraft"})
    db.session.commit()
    supervisor = new_page("sara", at=None)
    clock.advance(timedelta(days=1))
    supervisor.goto("/supervisor/stuck?reason=idle")
    expect(supervisor.locator(f"tr[data-case='{quiet.reference}']")).to_have_count(0)
    clock.advance(timedelta(days=2))
    supervisor.goto("/supervisor/stuck?reason=idle")
    expect(supervisor.locator(f"tr[data-case='{quiet.reference}'] [data-reason=idle]")).to_be_visible()
