"""engine.access: each role against each kind of object.

The roles: an advisor, a supervisor, an admin and a process owner of the Aachen center; an employer
user of the firm whose worker the case is about, and one of another firm; an advisor and a
supervisor-admin of the Köln center; the case's worker through their personal link; a personal API
token and a service account of the Aachen center (as `api_tokens.authenticate` makes them). The objects:
a case, its tasks (an advisor task, an employer task), the parts of its page, its documents and
conversations, its worker links, an external task, a notification, a mail in the outbox, the deadline
list, the inbox's "all" tab, assigning, a failed step, process versions, the library, firms and people, the
supervisors' pages (oversight, the report) and the audit log, and redirect targets.
"""
import pytest
from sqlalchemy import select

from engine import access, api_tokens, cases, clock, inbox, notifications, users, worker_links
from engine.db import db
from engine.models import (CaseDocument, ExternalTask, HumanTask, Incident, MailMessage, Notification,
                           ProcessDefinition)

ROLES = ["anna", "sara", "ada", "paul", "jansen", "schmitz", "kai", "kim"]
STAFF = {"anna", "sara", "ada", "kai", "kim"}          # center staff with a workspace role, both centers


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


def _document(case, name, shared_with):
    doc = CaseDocument(case_id=case.id, filename=name, content_type="application/pdf", size=1, sha256="0" * 64,
                       storage_key=name, party="center", shared_with=shared_with, uploaded_at=clock.now())
    db.session.add(doc)
    return doc


def _external_task(case, center, topic):
    row = ExternalTask(id=f"{topic}-{center.id}", case_id=case.id, center_id=center.id, topic=topic,
                       element_id=topic, process_key="sec_worker_record", created_at=clock.now())
    db.session.add(row)
    return row


@pytest.fixture
def wider(world):
    """`world` with the case's worker (a live link), a personal token of anna and a service account of the
    Aachen center for the topic `check`, three documents (the center's own, shared with the firm, shared
    with the worker) and three external tasks (Aachen `check`, Aachen `other`, Köln `check`)."""
    link, _token = worker_links.issue(world["case"], world["anna"], {"language": "en"})
    _row, personal = api_tokens.create_personal(world["anna"], "laptop", 30)
    _row, service = api_tokens.create_service_account(world["ada"], "checker", ["check"])
    docs = {"center_doc": _document(world["case"], "intern", []),
            "employer_doc": _document(world["case"], "vertrag", ["employer"]),
            "worker_doc": _document(world["case"], "pass", ["worker"])}
    ext = {"ext_check": _external_task(world["case"], world["center"], "check"),
           "ext_other": _external_task(world["case"], world["center"], "other"),
           "ext_koeln": _external_task(world["case"], world["other_center"], "check")}
    db.session.commit()
    actors = {"worker": access.WorkerActor(link), "token": api_tokens.authenticate(personal)[0],
              "service": api_tokens.authenticate(service)[0]}
    return {**world, **docs, **ext, **actors}


ACTORS = ROLES + ["worker", "token", "service"]


def reach(world, check, names=ACTORS):
    """The actors among `names` for whom `check` holds."""
    return {name for name in names if check(world[name])}


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


# --------------------------------------------------------------------------- the actors without an account

def test_a_personal_token_is_its_person_and_a_service_account_of_no_organisation(wider):
    token, anna = wider["token"], wider["anna"]
    assert (token.id, token.username, token.display_name, token.organisation_id, token.group_names) == \
        (anna.id, anna.username, anna.display_name, anna.organisation_id, anna.group_names)
    assert token.organisation is anna.organisation       # loaded when an operation asks for it
    service = wider["service"]
    assert access.is_service(service) and service.organisation_id == wider["center"].id
    assert service.topics == {"check"}


def test_the_worker_sees_their_case_and_a_service_account_no_case_or_task(wider):
    case = wider["case"]
    assert reach(wider, lambda a: access.visible_case(a, case.id) is not None) == {"anna", "sara", "ada", "jansen",
                                                                                     "worker", "token"}
    for key in ("advisor_task", "employer_task", "done_task"):     # none of them is a `worker` task
        assert reach(wider, lambda a: access.visible_task(a, wider[key].id) is not None) & {"worker", "service"} \
            == set(), key
    assert not access.worker_may_work(wider["worker"].link, wider["employer_task"])
    assert reach(wider, lambda a: access.visible_notification(a, wider["notification"].id) is not None) == \
        {"anna", "token"}


def test_the_json_api_serves_people_and_external_tasks_their_workers(wider):
    assert reach(wider, access.may_use_people_api) == set(ROLES) | {"token"}
    assert reach(wider, access.may_use_external_tasks, ROLES + ["token", "service"]) == STAFF | {"token", "service"}

    def sees(key):
        return reach(wider, lambda a: access.visible_external_task(a, wider[key].id) is not None,
                     ROLES + ["token", "service"])
    assert sees("ext_check") == {"anna", "sara", "ada", "token", "service"}
    assert sees("ext_other") == {"anna", "sara", "ada", "token"}          # not the service account's topic
    assert sees("ext_koeln") == {"kai", "kim"}


# --------------------------------------------------------------------------- documents and conversations

def test_documents_are_the_centers_and_those_shared_with_a_party_that_partys(wider):
    def reads(key):
        return reach(wider, lambda a: access.visible_document(a, wider[key].id) is not None)
    center = {"anna", "sara", "ada", "token"}
    assert reads("center_doc") == center
    assert reads("employer_doc") == center | {"jansen"}
    assert reads("worker_doc") == center | {"worker"}


def test_conversations_are_the_centers_with_every_party_and_a_partys_with_the_center(wider):
    parties = {name: access.conversation_parties(wider[name]) for name in ("anna", "jansen", "paul", "worker")}
    assert parties == {"anna": ("employer", "worker"), "jansen": ("employer",), "paul": (), "worker": ("worker",)}


# --------------------------------------------------------------------------- acting on a case

def test_staff_of_the_cases_center_start_cancel_and_hand_over_cases_and_issue_worker_links(wider):
    case, ben = wider["case"], wider["ben"]
    assert who(wider, access.may_start_cases) == STAFF
    assert who(wider, access.may_list_cases) == STAFF
    assert who(wider, lambda u: access.may_cancel_case(u, case)) == {"anna", "sara", "ada"}
    assert who(wider, lambda u: access.may_manage_worker_links(u, case)) == {"anna", "sara", "ada"}
    assert who(wider, lambda u: access.may_change_responsible(u, case, ben)) == {"sara"}
    assert not access.may_change_responsible(wider["sara"], case, wider["jansen"])     # not an advisor


# --------------------------------------------------------------------------- processes, library

def test_process_versions_are_read_by_staff_and_owners_and_deployed_by_owners_and_admins(wider):
    definition = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == "sec_worker_record"))
    assert who(wider, access.may_read_definitions) == STAFF | {"paul"}
    assert who(wider, lambda u: access.visible_definition(u, definition.id) is not None) == STAFF | {"paul"}
    assert who(wider, access.may_deploy) == {"ada", "paul", "kim"}
    assert who(wider, access.may_keep_info_library) == {"paul"}


# --------------------------------------------------------------------------- administration, oversight

def test_admins_administer_their_own_centers_firms_and_people_only(wider):
    assert who(wider, access.may_administer) == {"ada", "kim"}
    assert who(wider, lambda u: access.administers(u, wider["firm"])) == {"ada"}
    assert who(wider, lambda u: access.administers(u, wider["jansen"])) == {"ada"}     # a firm's person
    assert who(wider, lambda u: access.administers(u, wider["kai"])) == {"kim"}
    assert who(wider, lambda u: access.administers(u, wider["center"])) == {"ada"}


def test_supervisors_oversee_and_report_on_their_center_and_read_its_audit_log_with_its_admins(wider):
    assert who(wider, access.may_oversee) == {"sara", "kim"}
    assert who(wider, access.may_read_audit) == {"sara", "ada", "kim"}


def test_a_failed_step_is_seen_by_the_staff_of_its_cases_center(wider):
    incident = Incident(case_id=wider["case"].id, task_id="t", element_id="counsel", error_type="ValueError",
                        message="boom")
    db.session.add(incident)
    db.session.commit()
    found = {name for name in ROLES + ["token"] if db.session.scalar(
        select(Incident.id).where(Incident.id == incident.id, access.incident_filter(wider[name]))) is not None}
    assert found == {"anna", "sara", "ada", "token"}
