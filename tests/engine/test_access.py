"""engine.access: each role against each kind of object.

The roles: an advisor, a supervisor, an admin and a process owner of the Aachen center; an employer
user of the firm whose worker the case is about, and one of another firm; an advisor and a
supervisor-admin of the Köln center. The objects: a case, its tasks (an advisor task, an employer
task), the parts of its page, a notification, a mail in the outbox, the deadline list, the inbox's
"all" tab, assigning, and redirect targets.
"""
import pytest
from sqlalchemy import select

from engine import access, cases, clock, inbox, notifications, users
from engine.db import db
from engine.models import HumanTask, MailMessage, Notification

ROLES = ["anna", "sara", "ada", "paul", "jansen", "schmitz", "kai", "kim"]


@pytest.fixture
def world(people, deploy_fixture):
    """Ravi Kumar's case in Aachen for Elektro Jansen (counselled; an employer task, an advisor task and two
    timers open), and an overdue notice of its advisor task to Aachen's advisors (anna also by mail)."""
    people["anna"].email = "anna@wc-aachen.example"
    more = {
        "ada": users.ensure_user("ada", "Ada Admin", organisation=people["center"], groups=["admin"]),
        "paul": users.ensure_user("paul", "Paul Prozess", organisation=people["center"], groups=["process_owner"]),
        "kim": users.ensure_user("kim", "Kim Köln", organisation=people["other_center"], groups=["admin", "supervisor"]),
    }
    deploy_fixture("sec_worker_record.bpmn")
    case = cases.start_case("sec_worker_record", center=people["center"], employer=people["firm"],
                            subject="Ravi Kumar", actor=people["anna"])

    def task(element_id):
        return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id,
                                                         HumanTask.element_id == element_id))
    cases.complete_task(task("counsel").id, {"counselling_record": "vertraulich"}, actor=people["anna"])
    notifications.notify(task("prepare_followup"), "overdue", clock.now())
    db.session.commit()
    note = db.session.scalar(select(Notification).where(Notification.user_id == people["anna"].id))
    mail = db.session.scalar(select(MailMessage).where(MailMessage.user_id == people["anna"].id))
    objects = {"case": case, "advisor_task": task("prepare_followup"), "done_task": task("counsel"),
               "employer_task": task("confirm_contract"), "notification": note, "mail": mail}
    return {**people, **more, **objects}


def decided(world, check):
    """{role: check(user)} for every role."""
    return {name: check(world[name]) for name in ROLES}


def who(world, check):
    return {name for name, allowed in decided(world, check).items() if allowed}


def test_the_workspace_is_for_center_staff_and_the_portal_for_employer_users(world):
    assert who(world, access.may_use_workspace) == {"anna", "sara", "ada", "kai", "kim"}
    assert who(world, access.may_use_portal) == {"jansen", "schmitz"}
    assert decided(world, access.party_of) == {"anna": "center", "sara": "center", "ada": "center", "paul": None,
                                               "jansen": "employer", "schmitz": "employer", "kai": "center",
                                               "kim": "center"}
    assert who(world, access.is_staff) == {"anna", "sara", "ada", "kai", "kim"}
    assert decided(world, access.scope) == {"anna": "center", "sara": "center", "ada": "center", "paul": "",
                                            "jansen": "employer", "schmitz": "employer", "kai": "center",
                                            "kim": "center"}


def test_the_process_pages_are_for_process_owners_only(world):
    assert who(world, access.may_manage_processes) == {"paul"}


def test_a_case_is_seen_by_its_centers_staff_and_its_firm(world):
    case = world["case"]
    assert who(world, lambda u: access.visible_case(u, case.id) is not None) == {"anna", "sara", "ada", "jansen"}
    assert who(world, lambda u: access.visible_case_by_reference(u, case.reference) is not None) == \
        {"anna", "sara", "ada", "jansen"}


def test_of_a_case_staff_see_everything_and_employers_what_the_process_marks_for_them(world):
    for name in ("anna", "sara", "ada"):
        assert access.case_view(world[name]) == access.FULL_VIEW, name
    view = access.case_view(world["jansen"])
    assert view.reduced
    assert not (view.timeline or view.case_data or view.incidents or view.notes or view.diagram or view.retry)
    assert access.case_view(world["paul"]) == access.EMPLOYER_VIEW       # sees no case anyway


def test_tasks_are_seen_by_the_centers_staff_and_employer_tasks_by_the_firm(world):
    def sees(key):
        return who(world, lambda u: access.visible_task(u, world[key].id) is not None)
    assert sees("advisor_task") == {"anna", "sara", "ada"}
    assert sees("done_task") == {"anna", "sara", "ada"}
    assert sees("employer_task") == {"anna", "sara", "ada", "jansen"}


def test_who_claims_works_and_assigns_a_task(world):
    advisor_task, employer_task = world["advisor_task"], world["employer_task"]
    # candidates by group within the task's organisations: not kai (an advisor of another center), not schmitz
    # (an employer user of another firm)
    assert who(world, lambda u: access.can_claim(u, advisor_task)) == {"anna", "sara"}
    assert who(world, lambda u: access.can_claim(u, employer_task)) == {"jansen"}
    assert who(world, lambda u: access.can_assign(u, advisor_task)) == {"sara"}
    assert not access.can_work(world["anna"], world["done_task"])


def test_a_supervisor_assigns_to_active_people_of_their_own_center_only(world):
    sara = world["sara"]
    assert access.may_be_assigned(world["ben"], sara)
    assert not access.may_be_assigned(world["kai"], sara)
    assert not access.may_be_assigned(world["jansen"], sara)
    assert not access.may_be_assigned(None, sara)
    world["ben"].active = False
    assert not access.may_be_assigned(world["ben"], sara)


def test_a_notification_is_its_recipients_only(world):
    note = world["notification"]
    assert who(world, lambda u: access.visible_notification(u, note.id) is not None) == {"anna"}


def test_the_outbox_is_read_by_admins_and_supervisors_of_the_recipients_center(world):
    mail = world["mail"]
    assert who(world, access.may_see_outbox) == {"sara", "ada", "kim"}
    assert who(world, lambda u: access.visible_mail(u, mail.id) is not None) == {"sara", "ada"}


def test_the_inbox_all_tab_is_for_supervisors_of_their_own_center(world):
    assert who(world, access.can_see_all_tasks) == {"sara", "kim"}
    seen = {name: {r.id for r in inbox.inbox_page(world[name], inbox.InboxQuery(view="all")).rows}
            for name in ROLES}
    assert {name for name, ids in seen.items() if world["advisor_task"].id in ids} == {"sara"}


def test_the_deadline_list_shows_each_role_what_it_may_see(world):
    def names(user):
        return {d.name for d in inbox.deadlines(user, clock.now(), weeks=4)}
    everything = {"Arbeitsvertrag bestätigen", "Nachgespräch vorbereiten", "Bescheid der Ausländerbehörde abwarten",
                  "Rückmeldung des Arbeitgebers abwarten"}
    for name in ("anna", "sara", "ada"):
        assert names(world[name]) == everything, name
    assert names(world["jansen"]) == {"Arbeitsvertrag bestätigen", "Rückmeldung des Arbeitgebers abwarten"}
    for name in ("paul", "schmitz", "kai", "kim"):
        assert names(world[name]) == set(), name


@pytest.mark.parametrize("target", [
    "/", "/?view=group&q=Ravi%20Kumar&sort=-due", "/cases/WC-AC-2026-00001#notes", "/deadlines?weeks=8",
    "/tasks/3f2a?next=%2F%3Fview%3Dgroup", "/tasks/3f2a?next=/%09/evil.example",
])
def test_safe_next_keeps_paths_of_the_site(target):
    assert access.safe_next(target, "/fallback") == target


@pytest.mark.parametrize("target", [
    None, "", "//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/\r\n/evil.example",
    "javascript:alert(1)", "https://evil.example/", "http:evil.example", "evil.example", "?next=x",
    "/%09/evil.example", "%2F%2Fevil.example", "/%2F/evil.example", "/%5Cevil.example", "/%252F%252Fevil.example",
    "/" + "a" * 2001,
])
def test_safe_next_refuses_anything_that_could_leave_the_site(target):
    assert access.safe_next(target, "/fallback") == "/fallback"
