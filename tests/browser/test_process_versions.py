"""A process owner in Chromium: a dry run and the migration of one case between two versions, a
refused migration, and two versions compared side by side; at desktop and phone width, checked with axe."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.db import db
from engine.models import Case
from tests.browser.axe import assert_accessible
from tests.browser.conftest import screenshot
from tests.web.test_process_versions_pages import owners  # noqa: F401 (fixture)


def test_dry_run_then_migrating_one_case_then_a_refused_migration(owners, new_page):
    first, second = owners["started"]
    page = new_page("paul", at="/processes/approval/migrate")
    page.get_by_label("Von Version").select_option("1")
    page.get_by_label("Auf Version").select_option("2")
    page.get_by_role("button", name="Probelauf").click()
    expect(page.locator(".result-summary")).to_contain_text("2 von 2 Fällen können umgestellt werden, 0 würden abgelehnt.")
    rows = page.locator(".migration-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("“Antrag prüfen” (review)")
    expect(rows.first).to_contain_text("ändert camunda:dueDate")
    screenshot(page, "migrate-dry-run")
    assert_accessible(page)

    page.get_by_label("Nur ein Fall (Aktenzeichen, optional)").fill(first)
    page.get_by_role("button", name="Probelauf").click()
    expect(rows).to_have_count(1)
    page.get_by_role("button", name="1 Fall auf v2 umstellen").click()
    expect(page.locator(".result-summary")).to_contain_text("1 von 1 Fällen umgestellt, 0 abgelehnt.")
    expect(page.locator(".migration-table")).to_contain_text("Umgestellt")
    screenshot(page, "migrate-migrated")
    assert_accessible(page)
    db.session.expire_all()
    assert {c.reference: c.definition.version for c in db.session.scalars(select(Case))} == {first: 2, second: 1}

    # v3 renamed the review: without a mapping the case is refused, with the reason, and cannot be started
    page.get_by_role("link", name="Neuer Probelauf").click()
    page.get_by_label("Von Version").select_option("1")
    page.get_by_label("Auf Version").select_option("3")
    page.get_by_role("button", name="Probelauf").click()
    expect(page.locator(".result-summary")).to_contain_text("0 von 1 Fällen können umgestellt werden, 1 würden abgelehnt.")
    expect(rows.first).to_contain_text("Abgelehnt")
    expect(rows.first).to_contain_text("das es in v3 nicht gibt (einem Element von v3 zuordnen: review=neue_id)")
    expect(page.get_by_role("button", name="umstellen")).to_have_count(0)
    screenshot(page, "migrate-refused")
    assert_accessible(page)
    db.session.expire_all()
    assert db.session.scalar(select(Case).where(Case.reference == second)).definition.version == 1

    # with the renamed element mapped (two lines: the form keeps them through the dry run) it moves
    page.get_by_label("Geänderte Element-IDs").fill("late=late\nreview=check")
    page.get_by_role("button", name="Probelauf").click()
    expect(rows.first).to_contain_text("“Antrag prüfen” (review) wird zu “Antrag prüfen” (check).")
    page.get_by_role("button", name="1 Fall auf v3 umstellen").click()
    expect(page.locator(".result-summary")).to_contain_text("1 von 1 Fällen umgestellt, 0 abgelehnt.")
    db.session.expire_all()
    assert db.session.scalar(select(Case).where(Case.reference == second)).definition.version == 3


@pytest.mark.parametrize("width, height, size", [(1280, 900, "desktop"), (390, 844, "phone")])
def test_two_versions_side_by_side_with_their_changes_marked(owners, new_page, width, height, size):
    page = new_page("paul", at=None)
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/processes/approval/compare?old=1&new=2")
    expect(page.locator(".result-summary")).to_contain_text("2 neu, 0 entfernt, 2 geändert.")
    new = page.locator(".bpmn-viewer").nth(1)
    expect(new.locator('.djs-element.lotse-added[data-element-id="archive"]')).to_have_count(1)
    expect(new.locator('.djs-element.lotse-changed[data-element-id="review"]')).to_have_count(1)
    old = page.locator(".bpmn-viewer").first
    expect(old.locator('.djs-element.lotse-changed[data-element-id="review"]')).to_have_count(1)
    expect(new.locator(".lotse-legend")).to_contain_text("Neu: Ablegen")
    expect(page.locator(".diff-list--changed")).to_contain_text("camunda:dueDate: 'P2D' → 'P5D'")
    screenshot(page, f"migrate-compare-{size}")
    assert_accessible(page)
    if size == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_renamed_element_shows_as_removed_on_the_left_and_added_on_the_right(owners, new_page):
    page = new_page("paul", at="/processes/approval/compare?old=2&new=3")
    old, new = page.locator(".bpmn-viewer").first, page.locator(".bpmn-viewer").nth(1)
    expect(old.locator('.djs-element.lotse-removed[data-element-id="review"]')).to_have_count(1)
    expect(new.locator('.djs-element.lotse-added[data-element-id="check"]')).to_have_count(1)
    page.get_by_role("button", name="v2 erneut bereitstellen (als neueste Version)").click()
    expect(page.locator(".flash-success")).to_contain_text("Version 2 ist als Version 4 wieder bereitgestellt")
    expect(page.locator(".result-summary")).to_contain_text("v2 und v4 haben dieselben Elemente und Eigenschaften.")
    screenshot(page, "migrate-rolled-back")
    assert_accessible(page)
