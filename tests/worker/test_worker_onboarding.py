"""The worker's own onboarding steps in the bundled arrival process (bpmn/worker_arrival.bpmn): the worker
completes them through their link, in their language, with the form's texts from the form file; the
information library's pages sit next to the registration step. Through the real engine."""
from sqlalchemy import select

from engine import info_library, users, worker_links
from engine.db import db
from engine.models import HumanTask
from tests.scenarios.driver import Journey, enter
from tests.worker.conftest import open_as_worker

WORKER_STEPS = {"task_registration", "task_tax_id", "task_health_insurance", "task_bank_account",
                "task_language_course", "task_housing"}


def _open(case, element_id):
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.element_id == element_id,
                                                     HumanTask.state == "open"))


def test_a_worker_opens_a_bank_account_step_in_arabic(people, client_for):
    j = Journey(people)
    case = j.start("worker_arrival", subject="Ravi Kumar",
                   data={"worker_name": "Ravi Kumar", "employment_start": None, "visa_required": True, "hire_id": "",
                         "visa_valid_until": "2026-08-31"})
    enter(j, case)
    j.reload()
    worker_tasks = {t.element_id for t in db.session.scalars(select(HumanTask).where(
        HumanTask.case_id == case.id, HumanTask.state == "open")) if "worker" in (t.candidate_groups or [])}
    assert worker_tasks == WORKER_STEPS
    owner = users.ensure_user("paul", "Paul Prozess", organisation=people["center"], groups=["process_owner"],
                              password="pw-paul")
    info_library.save(owner, None, {"topic": "registration", "language": "ar", "title": "مدينة آخن: تسجيل العنوان",
                                    "url": "https://www.aachen.de", "reviewed_on": "2026-02-20"})
    _link, token = worker_links.issue(case, people["anna"], {"language": "ar"})
    db.session.commit()

    worker = client_for()
    open_as_worker(worker, token)
    home = worker.get("/w/").get_data(as_text=True)
    for arabic in ("افتح حساباً مصرفياً", "اختر شركة تأمين صحي", "استلم رقمك الضريبي", "ابحث عن سكن",
                   "مدينة آخن: تسجيل العنوان"):
        assert arabic in home, arabic
    task = _open(case, "task_bank_account")
    form = worker.get(f"/w/tasks/{task.id}").get_data(as_text=True)
    assert "الحساب المصرفي" in form and "تاريخ الفتح" in form and "لا ينطبق" in form
    assert "Eröffnet am" not in form and "Trifft nicht zu" not in form
    refused = worker.post(f"/w/tasks/{task.id}", {})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    done = worker.post(f"/w/tasks/{task.id}", {"bank_account_status": "done", "bank_account_opened_on": "2026-03-04"})
    assert done.status_code == 302
    j.reload()
    row = db.session.get(HumanTask, task.id)
    assert row.state == "completed" and row.completed_by_id is None
    assert worker.get(f"/w/tasks/{_open(case, 'task_permit_apply').id}").status_code == 404     # the advisor's
