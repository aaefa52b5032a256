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
    # after the tasks queued so far: the browser fires the event in a task of its own after the violation
    reported = page.evaluate("() => new Promise(done => setTimeout(() => done(window.__cspViolations)))")
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
    page.wait_for_url("**view=group")   # a full page load: filling in the old page races it
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
    zoom = "document.querySelector('.bpmn-viewer').lotseViewer.get('canvas').zoom()"
    before = page.evaluate(zoom)
    page.get_by_role("button", name="Vergrößern").click()
    page.wait_for_function(f"{zoom} > {before}")
    seen.extend(_violations(page, messages))

    for url in ("/deadlines", "/cases/new", "/cases/new/ws_permit", "/notifications/", "/notifications/outbox",
                "/password", "/cases/NO-SUCH-CASE"):
        visit(url)
    assert seen == []


# What CodeMirror (without constructable stylesheets), form-js and dmn-js do: create a <style>, fill it, insert it.
INSERTED_STYLE_APPLIES = """() => {
  const style = document.createElement('style');
  style.textContent = 'main { outline: 3px solid rgb(1, 2, 3); }';
  document.head.appendChild(style);
  const applied = getComputedStyle(document.querySelector('main')).outlineColor === 'rgb(1, 2, 3)';
  style.remove();
  return applied;
}"""


def test_the_editor_pages_work_under_their_nonce_without_violations(ws, new_page):
    """The modeler, the DMN editor and the form editor may insert <style> elements (their libraries do): the
    page's nonce allows those, and only on these pages. The canvases draw, and nothing else is reported."""
    from engine import deploy, users
    from tests.conftest import ROOT
    users.ensure_user("paul", "Paul Prozess", organisation=ws["center"], groups=["process_owner"], password="pw-paul")
    deploy.deploy_paths([ROOT / "bpmn" / "worker_path.dmn", ROOT / "forms" / "worker_intake.form"])
    db.session.commit()
    page = new_page("paul", at=None)       # the login page's policy is the test above's
    messages = _watched(page)
    page.goto("/processes/")
    seen = _violations(page, messages)
    # a page without an editor: no nonce, the same <style> is blocked (and reported, then no longer counted)
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        assert not page.evaluate(INSERTED_STYLE_APPLIES)
    for url, drawn in (("/processes/bpmn/ws_permit/edit", ".bpmn-modeler .djs-shape"),
                       ("/processes/dmn/worker_path/edit", ".dmn-editor td[data-row-id]"),
                       ("/processes/form/worker_intake/edit", ".form-editor .fjs-form-field")):
        messages.clear()
        response = page.goto(url)
        assert "'nonce-" in response.headers["content-security-policy"]
        expect(page.locator(drawn).first).to_be_visible()
        assert page.evaluate(INSERTED_STYLE_APPLIES), f"a <style> made by the bundle's libraries is blocked on {url}"
        seen.extend(_violations(page, messages))
    assert seen == []
