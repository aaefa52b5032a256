"""A supervisor in a real browser: a case made overdue by moving the clock and a case in error on the
stuck list, a bulk reassignment, correcting a failed step's data and retrying it, and the funder's report
downloaded with figures equal to those recomputed from the test's cases. axe on every page; desktop and
phone width."""
import csv
import io
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine import cases, clock, report
from engine.db import db
from engine.models import Case, HumanTask
from tests.browser.axe import assert_accessible
from tests.browser.conftest import screenshot
from tests.engine.test_report import _recomputed, scenario  # noqa: F401  (shared fixture)


def _shot(page, name):
    screenshot(page, f"supervisors-{name}")


DESKTOP = {"width": 1280, "height": 900}


def on_a_phone(page):
    """The page as it is, laid out again at a phone's width (the same login, as a turned phone does)."""
    page.set_viewport_size({"width": 390, "height": 844})


def _open_task(case):
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open"))


@pytest.fixture
def stuck(ws, deploy_fixture):
    deploy_fixture("divide.bpmn")
    failed = cases.start_case("divide", center=ws["center"], subject="Fehlerfall", data={"total": 10, "parts": 0},
                              actor=ws["anna"], responsible=ws["anna"])
    db.session.commit()
    return {**ws, "failed": failed}


def test_supervisor_sees_stuck_cases_reassigns_in_bulk_and_corrects_a_failed_step(stuck, new_page):
    ravi = stuck["cases"][0]
    clock.advance(timedelta(days=4))                          # the documents check (P3D) is overdue now
    page = new_page("sara")
    page.get_by_role("link", name="Aufsicht").click()
    expect(page.get_by_role("heading", name="Festgefahrene Fälle")).to_be_visible()
    row = page.locator(f"tr[data-case='{ravi.reference}']")
    expect(row.locator("[data-reason=overdue]")).to_contain_text("Unterlagen prüfen")
    failed_row = page.locator(f"tr[data-case='{stuck['failed'].reference}']")
    expect(failed_row.locator("[data-reason=error]")).to_be_visible()
    expect(page.locator("tr[data-case^='WC-K-']")).to_have_count(0)        # nothing of the other center
    assert_accessible(page)
    _shot(page, "stuck")
    on_a_phone(page)
    assert_accessible(page)
    _shot(page, "stuck-phone")
    page.set_viewport_size(DESKTOP)

    # bulk: both overdue documents checks to Ben
    for reference in (c.reference for c in stuck["cases"][:2]):
        page.locator(f"tr[data-case='{reference}'] [data-reason=overdue] input[name=task]").check()
    page.get_by_label("Ausgewählte Aufgaben neu zuweisen").check()
    page.get_by_label("Person (für Zuweisen und Verantwortung)").select_option(label="Ben Okafor")
    page.get_by_role("button", name="Ausführen").click()
    expect(page.locator(".flash-success")).to_contain_text(ravi.reference)
    db.session.expire_all()
    assert {t.assignee_id for t in db.session.scalars(select(HumanTask).where(
        HumanTask.case_id.in_([c.id for c in stuck["cases"][:2]]), HumanTask.state == "open"))} == {stuck["ben"].id}

    # the failed step: its words, the data it saw; correct and retry
    page.locator(f"tr[data-case='{stuck['failed'].reference}'] [data-reason=error] a").click()
    expect(page.locator(".incident__words")).to_contain_text("durch null")
    assert_accessible(page)
    _shot(page, "incident")
    page.get_by_label("parts").fill("4")
    page.get_by_role("button", name="Korrigieren und erneut versuchen").click()
    expect(page.locator(".flash-success")).to_contain_text("erneut ausgeführt")
    db.session.expire_all()
    assert not db.session.get(Case, stuck["failed"].id).has_incident

    # the workload: the chart is drawn from its table, which a screen reader reads
    page.get_by_role("link", name="Aufsicht").click()
    page.get_by_role("link", name="Auslastung").click()
    expect(page.locator("figure[data-chart=open]")).to_have_attribute("data-drawn", "1")
    table = page.get_by_role("table", name="Offene und überfällige Aufgaben des Centers am Ende jeder Woche")
    expect(table.locator("tbody tr").last.locator("td").first).to_have_text("3")
    expect(page.locator("table.workload-people tr", has_text="Ben Okafor").locator("td").first).to_have_text("2")
    # per person over the weeks: the two checks handed to Ben just now are his at the last end, not before
    expect(page.locator("figure[data-chart=people_open]")).to_have_attribute("data-drawn", "1")
    held = page.get_by_role("table", name="Offene Aufgaben je Person am Ende jeder Woche")
    column = held.locator("thead th").all_inner_texts().index("Ben Okafor")
    weeks = held.locator("tbody tr")
    expect(weeks.last.locator("th, td").nth(column)).to_have_text("2")
    expect(weeks.nth(weeks.count() - 2).locator("th, td").nth(column)).to_have_text("0")
    assert_accessible(page)
    _shot(page, "workload")
    on_a_phone(page)
    # on a phone the header row is hidden: each count says what it counts
    ben_open = page.locator("table.workload-people tr", has_text="Ben Okafor").locator("td").first
    assert ben_open.evaluate("td => getComputedStyle(td, '::before').content") == '"Offene Aufgaben: "'
    assert_accessible(page)
    _shot(page, "workload-phone")
    page.set_viewport_size(DESKTOP)

    # the flow: a documents check done after four days shows as the longest wait on the diagram
    cases.complete_task(_open_task(ravi).id, {"docs_complete": True}, actor=stuck["ben"])
    page.get_by_role("link", name="Aufsicht").click()
    page.get_by_role("link", name="Durchlauf").click()
    page.get_by_label("Schritte eines Prozesses").select_option(label="Test-Aufenthaltstitel")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.locator("tr[data-step=check_docs] td").nth(1)).to_have_text("4.0")
    expect(page.locator(".lotse-heat--5")).to_have_count(1)
    expect(page.locator(".lotse-heat-badge")).to_have_text("4 d")
    assert_accessible(page)
    _shot(page, "flow")

    # the failed step's notice, grouped by kind; then her mail settings
    page.get_by_role("link", name="Benachrichtigungen").click()
    expect(page.locator("section[data-kind=incident] h2")).to_contain_text("Fehler im Ablauf")
    assert_accessible(page)
    _shot(page, "notifications")
    page.get_by_role("button", name="Alle dieser Art als gelesen markieren").click()
    expect(page.locator("section[data-kind=incident] h2")).to_contain_text("0 ungelesen")
    page.get_by_role("link", name="Einstellungen: wie Sie Hinweise per E-Mail erhalten").click()
    page.locator("fieldset[data-kind=incident]").get_by_label("täglich").check()
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("fieldset[data-kind=incident]").get_by_label("täglich")).to_be_checked()
    assert_accessible(page)


def test_supervisor_downloads_the_report_with_the_recomputed_figures(scenario, new_page):  # noqa: F811
    j, _employer, _workers = scenario
    sara = j.people["sara"]
    page = new_page("sara", at=None)
    page.goto("/supervisor/report")
    page.get_by_label("Zeitraum", exact=True).select_option("quarter")
    page.get_by_label("Monat, Quartal oder Jahr").fill("2026-Q1")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.locator("table[data-section=firms_by_size] tr[data-item=large] td")).to_have_text("1")
    expect(page.locator("table[data-section=firms] tr[data-item=kmu_share_percent] td")).to_have_text("80.0")
    assert_accessible(page)
    _shot(page, "report")
    with page.expect_download() as download:
        page.get_by_role("link", name="Als CSV herunterladen").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    figures = {(r["section"], r["item"]): r["figure"] for r in csv.DictReader(io.StringIO(text))}

    period = report.parse_period({"period": "quarter", "value": "2026-Q1"}, clock.local_date(clock.now()))
    firms, persons, referrals = _recomputed(j.people["center"].id, *period.bounds())
    kmu = sum(1 for size in firms.values() if size == "kmu")
    assert figures[("firms", "total")] == str(len(firms))
    assert figures[("firms", "kmu")] == str(kmu) and figures[("firms_by_size", "large")] == "1"
    assert figures[("firms", "kmu_share_percent")] == str(round(100 * kmu / len(firms), 1))
    assert figures[("workers", "total")] == str(len(persons))
    assert figures[("referrals", "made")] == str(len(referrals))
    assert figures[("referrals", "contact_made")] == str(sum(1 for _, c in referrals.values() if c == "yes"))
    assert sara.organisation_id == j.people["center"].id

    # the firm's case page lists the same two referrals, each once
    page.goto(f"/cases/{_employer['firm'].reference}")
    expect(page.locator("table.case-referrals tbody tr")).to_have_count(len(
        [r for r in referrals if r[0] == _employer["firm"].employer_id]))
    assert_accessible(page)
