"""The API's pages in Chromium: an advisor makes a token on "API-Zugänge" (desktop and phone), uses it
against the API and revokes it; an admin makes a service account; Swagger UI runs under the
Content-Security-Policy (no CDN, no inline script), shows the operations and passes axe."""
import re

from playwright.sync_api import expect

from engine import users
from engine.db import db
from tests.browser.axe import assert_accessible
from tests.browser.conftest import screenshot


def test_an_advisor_makes_uses_and_revokes_a_token(ws, new_page, live_server):
    page = new_page("anna")
    page.get_by_role("link", name="API-Zugänge").click()
    expect(page.get_by_role("heading", name="API-Zugänge", level=1)).to_be_visible()
    page.get_by_label("Name (wofür?)").fill("CRM")
    page.get_by_label("Gültig für (Tage)").fill("30")
    page.get_by_role("button", name="Zugang anlegen").click()
    secret = page.locator("#api-secret").inner_text()
    assert re.fullmatch(r"lotse_[A-Za-z0-9_-]{40,}", secret)
    screenshot(page, "api-tokens-created")
    assert_accessible(page)

    api = page.context.request
    answer = api.get(f"{live_server.url}/api/v1/tasks?view=group", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status == 200 and answer.json()["items"]

    page.goto("/account/api")
    assert secret not in page.content()
    page.get_by_role("button", name="Widerrufen CRM").click()
    expect(page.get_by_text("ist widerrufen")).to_be_visible()
    assert api.get(f"{live_server.url}/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"}).status == 401

    # the same page on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page).to_have_url(re.compile(r"/account/api$"))
    screenshot(page, "api-tokens-phone")
    wide = page.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 392 && !e.closest('.table-scroll'))   // a table scrolls in its region
                            .slice(0, 5).map(e => e.tagName + '.' + e.className)""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, wide
    assert_accessible(page)


def test_an_admin_makes_a_service_account(ws, new_page):
    users.ensure_user("ada", "Ada Admin", organisation=ws["center"], groups=["admin"], password="pw-ada")
    db.session.commit()
    page = new_page("ada", at=None)
    page.goto("/account/api")
    page.get_by_label("Name des Dienstkontos").fill("Zahlungen")
    page.get_by_label("Themen (durch Komma getrennt)").fill("charge, refund")
    page.get_by_role("button", name="Dienstkonto anlegen").click()
    expect(page.locator("#api-secret")).to_be_visible()
    expect(page.get_by_role("cell", name="charge, refund")).to_be_visible()
    screenshot(page, "api-service-account")
    assert_accessible(page)


def test_swagger_ui_runs_under_the_content_security_policy_and_passes_axe_closed_open_trying_and_authorizing(
        ws, new_page):
    """Nothing blocked by the policy, nothing asked from elsewhere; axe with every impact, not only serious ones:
    the landmarks, headings, names and colours assets/api-docs.* add."""
    every = ("minor", "moderate", "serious", "critical")
    page = new_page()
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto("/api/v1/docs")
    expect(page.get_by_text("/api/v1/external-task/fetchAndLock").first).to_be_visible(timeout=15_000)
    expect(page.get_by_text("/api/v1/tasks/{task_id}/complete").first).to_be_visible()
    screenshot(page, "api-docs", full_page=False)
    operations = page.locator(".opblock-summary-control")
    assert_accessible(page, every)
    expect(page.get_by_role("banner").get_by_role("heading", level=1)).to_contain_text("Lotse")
    expect(page.get_by_role("main").get_by_role("heading", name="Operations", level=2)).to_be_visible()
    operations.first.click()
    start_case = page.locator("#operations-api_cases-post_api_v1_cases")
    start_case.locator(".opblock-summary-control").click()
    expect(page.get_by_role("region", name="Responses of POST /api/v1/cases")).to_be_visible()
    assert_accessible(page, every)
    start_case.get_by_role("button", name="Try it out").click()
    expect(page.get_by_role("textbox", name="Request body")).to_be_visible()
    assert_accessible(page, every)
    page.get_by_role("button", name="Authorize").first.click()
    expect(page.locator(".close-modal")).to_have_accessible_name("Close")
    assert_accessible(page, every)
    assert violations == []
    assert all(url.startswith(page.url.split("/api/")[0]) for url in requests)        # nothing from elsewhere

    # on a phone: the same page, its operations open, narrowed (Swagger UI lays itself out by the style sheet)
    page.locator(".close-modal").click()
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page, every)
