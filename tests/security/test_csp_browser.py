"""The pages work in Chromium under the Content-Security-Policy, and the browser reports no violation.

The policy allows no inline script or style (web/security.py): a template, a bundle or a library that
injects one shows up here as a violation, and the feature that needed it stops working.
"""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from engine.db import db
from engine.models import HumanTask

# Runs before the page's own scripts; the browser fires this event for every blocked resource.
REPORT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _watched(page):
    messages = []
    page.on("console", lambda msg: messages.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.add_init_script(REPORT_VIOLATIONS)
    return messages


def _violations(page, messages):
    reported = page.evaluate("window.__cspViolations")
    assert isinstance(reported, list), "the violation listener did not run"
    return messages + reported


def test_pages_work_under_the_csp_without_violations(ws, new_page):
    ravi = ws["cases"][0]
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == ravi.id, HumanTask.state == "open"))
    page = new_page()
    messages = _watched(page)
    seen = []

    def visit(url):
        response = page.goto(url)
        assert "content-security-policy" in response.headers
        seen.extend(_violations(page, messages))
        messages.clear()

    visit("/login")
    page.get_by_label("Benutzername").fill("sara")
    page.get_by_label("Passwort").fill("pw-sara")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/")
    seen.extend(_violations(page, messages))

    # The inbox's filters swap the results with htmx.
    page.get_by_role("link", name=re.compile("Gruppenaufgaben")).click()
    expect(page.locator("#inbox-results")).to_contain_text(ravi.reference)
    page.get_by_label("Fall oder Name").fill("Maria")
    expect(page.locator("#inbox-results")).not_to_contain_text("Ravi Kumar")
    assert "q=Maria" in page.url                       # htmx pushed the filtered URL
    seen.extend(_violations(page, messages))

    # The task form hides a field while the user types (form-conditionals.js).
    visit(f"/tasks/{task.id}")
    expect(page.get_by_label("Anmerkungen")).to_be_visible()
    page.get_by_label("Unterlagen vollständig").check()
    expect(page.get_by_label("Anmerkungen")).to_be_hidden()

    # The case page's diagram is drawn by bpmn-js, with its markers.
    visit(f"/cases/{ravi.reference}")
    expect(page.locator(".bpmn-viewer svg").first).to_be_visible()
    expect(page.locator(".bpmn-viewer .djs-element.lotse-active").first).to_be_visible()
    page.get_by_role("button", name="Vergrößern").click()
    page.wait_for_timeout(300)
    seen.extend(_violations(page, messages))

    for url in ("/deadlines", "/cases/new", "/cases/new/ws_permit", "/notifications/", "/notifications/outbox",
                "/password", "/cases/NO-SUCH-CASE"):
        visit(url)
    assert seen == []
