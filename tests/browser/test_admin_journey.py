"""Administration in a real browser: an invitation through real SMTP, deactivation of a logged-in
advisor, the 404 for another center, and the admin pages at desktop and phone width."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine import cases, organisations, users
from engine.db import db
from engine.models import HumanTask
from tests.engine.test_mail import SmtpServer


@pytest.fixture
def ada(ws):
    user = users.ensure_user("ada", "Ada Admin", organisation=ws["center"], groups=["admin", "supervisor"],
                             password="pw-ada")
    db.session.commit()
    return user


@pytest.fixture
def smtp(ctx):
    server = SmtpServer().start()
    ctx.config["MAIL_URL"] = server.url
    yield server
    server.stop()
    ctx.config["MAIL_URL"] = None


def test_invited_advisor_sets_a_password_and_the_link_works_once(ada, smtp, new_page, shot):
    admin = new_page("ada")
    admin.get_by_role("link", name="Verwaltung").click()
    admin.get_by_role("link", name="Neue Person").click()
    admin.get_by_label("Benutzername").fill("nora")
    admin.get_by_label("Name", exact=True).fill("Nora Neu")
    admin.get_by_label("E-Mail").fill("nora@wc-aachen.example")
    admin.get_by_label("Beratung").check()
    shot(admin, "admin-person-new")
    admin.get_by_role("button", name="Anlegen und einladen").click()
    expect(admin.locator(".flash-success")).to_contain_text("Einladung ist verschickt")

    (recipients, message), = smtp.inbox.messages
    assert recipients == ["nora@wc-aachen.example"]
    link = re.search(r"/password/set/\S+", message.get_content()).group(0)

    advisor = new_page()
    advisor.goto(link)
    expect(advisor.get_by_role("heading", name="Passwort festlegen")).to_be_visible()
    advisor.get_by_label("Neues Passwort", exact=True).fill("password123456")
    advisor.get_by_label("Neues Passwort wiederholen").fill("password123456")
    advisor.get_by_role("button", name="Passwort speichern").click()
    expect(advisor.locator(".form-error-message")).to_contain_text("häufig benutzter Passwörter")
    advisor.get_by_label("Neues Passwort", exact=True).fill("Rheinufer-bei-Nacht")
    advisor.get_by_label("Neues Passwort wiederholen").fill("Rheinufer-bei-Nacht")
    advisor.get_by_role("button", name="Passwort speichern").click()
    expect(advisor.locator(".flash-success")).to_contain_text("Passwort ist gespeichert")
    advisor.get_by_label("Benutzername").fill("nora")
    advisor.get_by_label("Passwort").fill("Rheinufer-bei-Nacht")
    advisor.get_by_role("button", name="Anmelden").click()
    expect(advisor.get_by_role("heading", name="Aufgaben", level=1)).to_be_visible()

    advisor.context.clear_cookies()         # someone else opens the link again: it is spent
    response = advisor.goto(link)
    assert response.status == 410
    expect(advisor.locator(".alert--error")).to_contain_text("ungültig oder wurde schon benutzt")


def test_deactivated_advisor_is_logged_out_and_their_task_is_back_in_the_group(ada, ws, new_page, shot):
    ravi = ws["cases"][0]
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == ravi.id, HumanTask.state == "open"))
    cases.claim_task(task.id, ws["anna"])
    anna = new_page("anna")
    expect(anna.get_by_role("heading", name="Aufgaben", level=1)).to_be_visible()

    admin = new_page("ada", at=None)
    admin.goto(f"/admin/people/{ws['anna'].id}")
    expect(admin.get_by_role("link", name=ravi.reference)).to_be_visible()    # responsible: listed to reassign
    admin.get_by_role("button", name="Deaktivieren").click()
    expect(admin.locator(".flash-success")).to_contain_text("deaktiviert")
    shot(admin, "admin-person-deactivated")

    anna.reload()
    expect(anna.get_by_role("heading", name="Anmelden")).to_be_visible()

    ben = new_page("ben")
    ben.get_by_role("link", name=re.compile("Gruppenaufgaben")).click()
    ben.wait_for_url("**view=group")   # a full page load: filling in the old page races it
    expect(ben.locator("tr", has_text=ravi.reference)).to_contain_text("Unterlagen prüfen")


def test_an_admin_gets_404_for_another_centers_person_and_firm(ada, ws, new_page):
    koeln_firm = users.get_organisation("employer", "Kölsch AG", center=ws["other_center"])
    db.session.commit()
    page = new_page("ada", at=None)
    assert page.goto(f"/admin/people/{ws['kai'].id}").status == 404
    assert page.goto(f"/admin/firms/{koeln_firm.id}").status == 404
    assert page.goto(f"/admin/firms/{ws['firm'].id}").status == 200


SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def test_admin_pages_fit_desktop_and_phone(ada, ws, new_page, shot):
    organisations.update_firm(ws["firm"], {"name": ws["firm"].name, "legal_form": "GmbH", "kreis": "StädteRegion Aachen",
                                           "employees": "24", "street": "Jülicher Straße 112", "postcode": "52070",
                                           "city": "Aachen", "email": "info@elektro-jansen.example"}, actor=ada)
    db.session.commit()
    page = new_page("ada", at=None)
    pages = {"people": "/admin/people", "person": f"/admin/people/{ws['anna'].id}", "firms": "/admin/firms",
             "firm": f"/admin/firms/{ws['firm'].id}", "center": "/admin/center", "audit": "/admin/audit",
             "forgot": "/password/forgot"}
    for name, url in pages.items():
        page.set_viewport_size(SIZES["desktop"])
        assert page.goto(url).status == 200, url
        if name == "audit":
            expect(page.locator("table")).to_contain_text("Beschäftigte")
        for size, viewport in SIZES.items():      # the page laid out again at each width, as a turned phone does
            page.set_viewport_size(viewport)
            shot(page, f"admin-{name}-{size}")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{url} is {overflow}px wider than the {size} screen"
