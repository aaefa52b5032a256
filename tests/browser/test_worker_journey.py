"""The worker's own journey in Chromium at phone size: their link in Arabic (right to left, the next step
with its date), their task, an upload; the advisor sees both. axe on the worker's pages in every language."""
import struct
import zlib

from sqlalchemy import select

from engine import worker_links
from engine.db import db
from engine.models import CaseDocument, HumanTask
from tests.browser.axe import assert_accessible
from tests.browser.conftest import screenshot
from tests.worker.conftest import workers  # noqa: F401  (fixture)

PHONE = {"width": 390, "height": 844}


def _png(path):
    """A tiny real PNG (a photo from the phone's camera, as far as the upload check is concerned)."""
    raw = b"\x00\xff\xff\xff"
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def test_a_worker_in_arabic_completes_a_task_and_uploads_a_photo(workers, new_page, tmp_path):  # noqa: F811
    page = new_page(locale="ar")
    page.set_viewport_size(PHONE)
    page.goto(f"/w/{workers['ravi_token']}?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert_accessible(page)
    page.get_by_role("button", name="افتح صفحتي").click()
    page.wait_for_url("**/w/")
    assert page.locator("html").get_attribute("lang") == "ar"
    next_step = page.locator("[data-next-step]").inner_text()
    assert "سجّل عنوانك" in next_step and "قبل" in next_step
    assert_accessible(page)
    screenshot(page, "workers-ar-home")

    page.get_by_role("link", name="أنجزها الآن").click()
    page.get_by_role("button", name="إرسال").click()                     # nothing filled: the form says what
    assert page.locator("[aria-invalid=true]").count() >= 1
    assert_accessible(page)
    screenshot(page, "workers-ar-task-error")
    page.get_by_label("تاريخ التسجيل").fill("2026-03-05")
    page.get_by_label("موجودة لدي").check()
    page.get_by_role("button", name="إرسال").click()
    page.wait_for_url("**/w/")
    assert "شكراً" in page.locator(".flash-success").inner_text()

    page.set_input_files("#upload-file", str(_png(tmp_path / "meldebescheinigung.png")))
    assert page.locator("#upload-file").get_attribute("capture") == "environment"
    page.get_by_role("button", name="إرسال المستند").click()
    page.wait_for_url("**/w/#documents")
    assert "وصل مستندك" in page.locator(".flash-success").inner_text()
    screenshot(page, "workers-ar-after")

    db.session.expire_all()
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == workers["ravi"].id,
                                                     HumanTask.element_id == "register_address"))
    assert task.state == "completed"
    assert db.session.scalar(select(CaseDocument).where(CaseDocument.case_id == workers["ravi"].id)).party == "worker"
    advisor = new_page("anna", at=None)
    advisor.goto(f"/cases/{workers['ravi'].reference}")
    body = advisor.locator("main").inner_text()
    assert "von der Fachkraft (persönlicher Link)" in body and "meldebescheinigung.png" in body


def test_closed_links_show_no_data(workers, new_page):  # noqa: F811
    worker_links.revoke(workers["ravi"], workers["anna"], workers["ravi_link"].id)
    db.session.commit()
    page = new_page(locale="ar")
    page.set_viewport_size(PHONE)
    for token in (workers["ravi_token"], "forged-" + "x" * 36):
        page.context.clear_cookies()                # each link opened as by a stranger
        page.goto(f"/w/{token}?lang=ar")
        page.get_by_role("button", name="افتح صفحتي").click()
        assert "Ravi" not in page.content()
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert_accessible(page)
    screenshot(page, "workers-ar-closed")


def test_worker_pages_are_accessible_in_every_language(workers, new_page):  # noqa: F811
    page = new_page()
    page.set_viewport_size(PHONE)
    page.goto(f"/w/{workers['olena_token']}")
    page.locator("form[action^='/w/'] button[type=submit]").last.click()
    page.wait_for_url("**/w/")
    for language in worker_links.WORKER_LANGUAGES:
        page.select_option("#worker-language", language)
        page.locator(".worker-language button").click()
        page.wait_for_url("**/w/")
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page)
        screenshot(page, f"workers-{language}-home")


def test_the_worker_and_the_advisor_write_to_each_other(workers, new_page, tmp_path):  # noqa: F811
    page = new_page(locale="ar")
    page.set_viewport_size(PHONE)
    page.goto(f"/w/{workers['ravi_token']}?lang=ar")
    page.get_by_role("button", name="افتح صفحتي").click()
    page.wait_for_url("**/w/")
    page.set_input_files("#upload-file", str(_png(tmp_path / "reisepass.png")))
    page.locator("#upload-file").locator("xpath=ancestor::form").locator("button[type=submit]").click()
    page.wait_for_url("**/w/#documents")
    page.fill("#message-body", "وصلت إلى آخن. Wann ist mein Termin?")
    page.locator("#message-body").locator("xpath=ancestor::form").locator("button[type=submit]").click()
    page.wait_for_url("**/w/**")
    assert "Wann ist mein Termin?" in page.locator("#messages").inner_text()

    advisor = new_page("anna", at=None)
    advisor.set_viewport_size(PHONE)
    advisor.goto(f"/cases/{workers['ravi'].reference}")
    assert "reisepass.png" in advisor.locator("#documents").inner_text()
    thread = advisor.locator("#messages-worker")
    assert "Wann ist mein Termin?" in thread.inner_text() and "Ravi Kumar" in thread.inner_text()
    assert_accessible(advisor)
    screenshot(advisor, "workers-advisor-thread")
    advisor.fill("#message-worker", "Am 12. März um 10 Uhr im Bürgeramt.")
    advisor.locator("#messages-worker button[type=submit]").click()
    advisor.wait_for_load_state()
    assert "Am 12. März um 10 Uhr" in advisor.locator("#messages-worker").inner_text()

    page.goto("/w/")
    answer = page.locator("#messages .message--center").last.inner_text()
    assert "Am 12. März um 10 Uhr im Bürgeramt." in answer and "Anna Berger" in answer
    assert_accessible(page)
    screenshot(page, "workers-ar-messages")


def test_a_process_owner_adds_information_the_worker_sees_next_to_the_step(workers, new_page):  # noqa: F811
    from engine import users
    users.ensure_user("paul", "Paul Prozess", organisation=workers["center"], groups=["process_owner"],
                      password="pw-paul")
    db.session.commit()
    owner = new_page("paul", at=None)
    owner.set_viewport_size(PHONE)
    owner.goto("/library/")
    owner.get_by_role("link", name="Neuer Eintrag").click()
    owner.get_by_role("button", name="Speichern").click()                  # nothing filled: each field says what
    assert owner.locator("[aria-invalid=true]").count() >= 3
    assert_accessible(owner)
    screenshot(owner, "workers-library-errors")
    for language, title in (("ar", "مدينة آخن: تسجيل العنوان"), ("en", "City of Aachen: registering your address")):
        owner.goto("/library/new")
        owner.get_by_label("Thema", exact=True).fill("registration")
        owner.get_by_label("Sprache", exact=True).select_option(language)
        owner.get_by_label("Titel", exact=True).fill(title)
        owner.get_by_label("Adresse (https://…)").fill("https://www.aachen.de")
        owner.get_by_label("Zuletzt geprüft am").fill("2026-11-20")
        owner.get_by_role("button", name="Speichern").click()
        owner.wait_for_url("**/library/")
    assert "مدينة آخن" in owner.locator("main").inner_text()
    assert_accessible(owner)
    screenshot(owner, "workers-library")

    page = new_page(locale="ar")
    page.set_viewport_size(PHONE)
    page.goto(f"/w/{workers['ravi_token']}?lang=ar")
    page.get_by_role("button", name="افتح صفحتي").click()
    page.wait_for_url("**/w/")
    info = page.locator(".next-step .step-info")
    assert "مدينة آخن: تسجيل العنوان" in info.inner_text() and "آخر تحقق في" in info.inner_text()
    assert info.get_by_role("link").get_attribute("href") == "https://www.aachen.de"
    assert_accessible(page)
    screenshot(page, "workers-ar-info")
    page.select_option("#worker-language", "tr")
    page.locator(".worker-language button").click()
    page.wait_for_url("**/w/")
    info = page.locator(".next-step .step-info")
    assert "City of Aachen" in info.inner_text() and "İngilizce" in info.inner_text()
    assert_accessible(page)
    screenshot(page, "workers-tr-info")


def test_an_onboarding_form_in_arabic_at_phone_size(people, new_page):
    from tests.scenarios.driver import Journey, enter
    from tests.worker.test_worker_onboarding import _open
    j = Journey(people)
    case = j.start("worker_arrival", subject="Ravi Kumar", data={"worker_name": "Ravi Kumar", "hire_id": "",
                                                                 "employment_start": None, "visa_required": True,
                                                                 "visa_valid_until": "2026-08-31"})
    enter(j, case)
    _link, token = worker_links.issue(case, people["anna"], {"language": "ar"})
    db.session.commit()
    page = new_page(locale="ar")
    page.set_viewport_size(PHONE)
    page.goto(f"/w/{token}?lang=ar")
    page.get_by_role("button", name="افتح صفحتي").click()
    page.wait_for_url("**/w/")
    assert page.locator(".translation-note").count() == 0       # every step, milestone and document in Arabic
    assert "افتح حساباً مصرفياً" in page.locator("main").inner_text()
    assert_accessible(page)
    screenshot(page, "workers-ar-onboarding-home")
    page.goto(f"/w/tasks/{_open(case, 'task_language_course').id}")
    page.get_by_label("تم").check()
    page.get_by_label("الدورة").select_option("integration")
    assert_accessible(page)
    screenshot(page, "workers-ar-language-course")
    page.get_by_role("button", name="إرسال").click()
    page.wait_for_url("**/w/")
    j.reload()
    assert _open(case, "task_language_course") is None
