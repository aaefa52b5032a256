"""Case operations through the engine API: each one transaction, with derived tables in step."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import cases, clock, deploy, state
from engine.db import db
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import Case, CaseEvent, CaseMilestone, HumanTask, HumanTaskGroup, Incident, WaitingTimer
from tests.conftest import fixture_files

INTAKE = {"name": "Ana Lima", "salary": 61000, "start_date": "2027-02-01", "reviewer": "sara"}


@pytest.fixture
def onboarding(people, deploy_fixture):
    deploy_fixture("onboarding.bpmn", "intake_form.form")
    case = cases.start_case("onboarding", center=people["center"], employer=people["firm"], subject="Ana Lima",
                            actor=people["anna"])
    return case


def open_tasks(case):
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")
                              .order_by(HumanTask.created_at, HumanTask.title)).all()


def events(case):
    return [e.kind for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                               .order_by(CaseEvent.id))]


def test_start_creates_reference_task_row_and_deadlines(onboarding, people):
    assert onboarding.reference == f"WC-AC-{clock.now().year}-{onboarding.id:05d}"
    [task] = open_tasks(onboarding)
    assert (task.title, task.element_id, task.actor) == ("Erstgespräch führen", "intake", "center")
    assert task.candidate_groups == ["advisor", "supervisor"] and task.priority == 70
    assert task.due_at == clock.now() + timedelta(days=3)
    assert task.follow_up_at == clock.now() + timedelta(days=1)
    assert task.form_key == "intake_form" and task.form_version_id is not None
    assert task.documentation.startswith("Fragen Sie")
    groups = db.session.scalars(select(HumanTaskGroup.group_name).where(HumanTaskGroup.task_id == task.id)).all()
    assert sorted(groups) == ["advisor", "supervisor"]
    assert events(onboarding) == ["case_started", "task_created"]


def test_state_row_holds_no_spec_and_records_versions(onboarding):
    stored = json.loads(onboarding.state)
    assert "spec" not in stored and "subprocess_specs" not in stored
    assert stored["definition_id"] == onboarding.definition_id
    assert onboarding.serializer_version == "1.5" and onboarding.library_version == "3.2.0"


def test_complete_advances_case_logs_diff_and_milestone(onboarding, people):
    [task] = open_tasks(onboarding)
    cases.claim_task(task.id, people["anna"])
    cases.complete_task(task.id, INTAKE, actor=people["anna"])
    done = db.session.get(HumanTask, task.id)
    assert done.state == "completed" and done.completed_by_id == people["anna"].id
    # The group index holds open tasks only: nobody's group inbox offers a completed task.
    assert db.session.scalars(select(HumanTaskGroup).where(HumanTaskGroup.task_id == task.id)).all() == []
    [review] = open_tasks(onboarding)
    assert review.element_id == "review"
    assert review.assignee_id == people["sara"].id                # camunda:assignee="${reviewer}"
    assert review.due_at.date().isoformat() == "2027-02-15"      # ${add_duration(start_date, 'P14D')}
    completed = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "task_completed"))
    assert completed.details["changes"]["salary"] == {"old": None, "new": 61000}
    milestone = db.session.scalar(select(CaseMilestone).where(CaseMilestone.case_id == onboarding.id))
    assert (milestone.key, milestone.label) == ("intake_done", "Erstgespräch geführt")
    reached = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "milestone"))
    assert reached.element_name == "Erstgespräch geführt"          # the history names the milestone, not the task
    timer = db.session.scalar(select(WaitingTimer).where(WaitingTimer.case_id == onboarding.id))
    assert timer.element_id == "review_late" and timer.due_at == clock.now() + timedelta(days=2)
    assert db.session.get(Case, onboarding.id).next_timer_at == timer.due_at


def test_low_salary_takes_the_default_branch_and_completes(onboarding, people):
    [task] = open_tasks(onboarding)
    cases.complete_task(task.id, {**INTAKE, "salary": 20000}, actor=people["anna"])
    case = db.session.get(Case, onboarding.id)
    assert case.status == "completed" and case.ended_at is not None
    assert open_tasks(case) == []
    assert events(case)[-1] == "case_completed"


def test_claim_conflicts_and_authorization(onboarding, people):
    [task] = open_tasks(onboarding)
    with pytest.raises(NotFound):                # own firm, but an advisor task: employers do not see it
        cases.claim_task(task.id, people["jansen"])
    cases.claim_task(task.id, people["anna"])
    with pytest.raises(Conflict, match="Anna Berger"):
        cases.claim_task(task.id, people["ben"])
    with pytest.raises(Conflict, match="assigned to Anna Berger"):
        cases.complete_task(task.id, INTAKE, actor=people["ben"])
    with pytest.raises(NotFound):                                   # other center: invisible
        cases.claim_task(task.id, people["kai"])
    with pytest.raises(NotFound):                                   # an employer of another firm
        cases.complete_task(task.id, INTAKE, actor=people["schmitz"])
    cases.unclaim_task(task.id, people["anna"])
    cases.assign_task(task.id, people["ben"], actor=people["sara"])
    assert db.session.get(HumanTask, task.id).assignee_id == people["ben"].id
    with pytest.raises(Forbidden):
        cases.assign_task(task.id, people["anna"], actor=people["anna"])   # not a supervisor


def test_completed_task_cannot_be_completed_again(onboarding, people):
    [task] = open_tasks(onboarding)
    cases.complete_task(task.id, INTAKE, actor=people["anna"])
    with pytest.raises(Conflict, match="already completed by Anna Berger"):
        cases.complete_task(task.id, INTAKE, actor=people["ben"])


def test_typename_and_unstorable_values_are_rejected_before_anything_changes(onboarding, people):
    [task] = open_tasks(onboarding)
    with pytest.raises(InvalidData, match="typename"):
        cases.complete_task(task.id, {**INTAKE, "address": {"typename": "x"}}, actor=people["anna"])
    with pytest.raises(InvalidData):
        cases.complete_task(task.id, {**INTAKE, "when": object()}, actor=people["anna"])
    assert db.session.get(HumanTask, task.id).state == "open"


def test_dates_round_trip_through_the_serializer(onboarding, people):
    from datetime import date
    [task] = open_tasks(onboarding)
    cases.complete_task(task.id, {**INTAKE, "signed_on": date(2026, 5, 4)}, actor=people["anna"])
    workflow = state.load(db.session.get(Case, onboarding.id))
    assert workflow.get_next_task(spec_name="review").data["signed_on"] == date(2026, 5, 4)


def test_cancel(onboarding, people):
    cases.cancel_case(onboarding.id, actor=people["sara"], reason="Firma hat abgesagt")
    case = db.session.get(Case, onboarding.id)
    assert case.status == "cancelled" and open_tasks(case) == []
    assert db.session.scalar(select(HumanTask.state).where(HumanTask.case_id == case.id)) == "cancelled"
    assert events(case).count("case_cancelled") == 1          # the clock is frozen: no double entry
    with pytest.raises(Conflict):
        cases.cancel_case(onboarding.id, actor=people["sara"])


def test_redeploy_does_not_change_running_cases(onboarding, people):
    changed = fixture_files("onboarding.bpmn")[0][1].replace('name="Prüfen"'.encode(), 'name="Gründlich prüfen"'.encode())
    result = deploy.deploy([("onboarding.bpmn", changed)])
    db.session.commit()
    assert result.created[0].version == 2
    [task] = open_tasks(onboarding)
    cases.complete_task(task.id, INTAKE, actor=people["anna"])
    assert [t.title for t in open_tasks(onboarding)] == ["Prüfen"]             # still v1
    newer = cases.start_case("onboarding", center=people["center"], actor=people["anna"])
    assert newer.definition.version == 2


def test_failing_script_leaves_a_retryable_incident(people, deploy_fixture):
    deploy_fixture("divide.bpmn")
    case = cases.start_case("divide", center=people["center"], data={"total": 10, "parts": 0}, actor=people["anna"])
    assert case.has_incident and case.status == "active"
    incident = db.session.scalar(select(Incident).where(Incident.case_id == case.id))
    assert (incident.element_id, incident.error_type) == ("run", "ZeroDivisionError")
    assert "division by zero" in incident.message
    assert open_tasks(case) == []

    case = cases.retry_task(case.id, data={"parts": 4}, actor=people["sara"])
    assert not case.has_incident
    assert db.session.get(Incident, incident.id).resolved_at is not None
    [check] = open_tasks(case)
    workflow = state.load(case)
    assert workflow.get_task_from_id(__import__("uuid").UUID(check.id)).data["ratio"] == 2.5
    with pytest.raises(Conflict):
        cases.retry_task(case.id, actor=people["sara"])


def test_scripts_cannot_rewrite_history_of_completed_tasks(people, deploy_fixture):
    """SpiffWorkflow 3.2.0 shares nested dicts between tasks; a script must not change earlier tasks' data."""
    deploy_fixture("nested_mutation.bpmn")
    profile = {"address": {"city": "Aachen"}, "tags": ["new"]}
    case = cases.start_case("nested_mutation", center=people["center"], data={"profile": profile},
                            actor=people["anna"])
    workflow = state.load(case)
    start = workflow.get_next_task(spec_name="start")
    after = workflow.get_next_task(spec_name="check")
    assert after.data["profile"] == {"address": {"city": "Köln"}, "tags": ["new", "moved"]}
    assert start.data["profile"] == {"address": {"city": "Aachen"}, "tags": ["new"]}


def test_wake_fires_due_timers_only(onboarding, people):
    [task] = open_tasks(onboarding)
    cases.complete_task(task.id, INTAKE, actor=people["anna"])
    cases.wake(onboarding.id)
    assert [t.element_id for t in open_tasks(onboarding)] == ["review"]
    clock.advance(timedelta(days=2, seconds=1))
    cases.wake(onboarding.id)
    assert sorted(t.element_id for t in open_tasks(onboarding)) == ["remind", "review"]
    assert db.session.get(Case, onboarding.id).next_timer_at is None
    assert "timer_fired" in events(onboarding)


def test_unknown_things_are_not_found(people, ctx):
    with pytest.raises(NotFound):
        cases.start_case("nope", center=people["center"])
    with pytest.raises(NotFound):
        cases.complete_task("00000000-0000-0000-0000-000000000000", {}, actor=people["anna"])


def test_a_candidate_user_finds_the_task_among_group_tasks(people, deploy_fixture):
    """camunda:candidateUsers offers the task to named people, as candidate groups do to groups."""
    from engine import inbox
    deploy_fixture("candidate_user.bpmn")
    case = cases.start_case("candidate_user", center=people["center"], subject="Olena", actor=people["anna"])
    group_tab = inbox.InboxQuery(view="group")
    [row] = inbox.inbox_page(people["ben"], group_tab).rows
    assert row.case_id == case.id
    assert inbox.inbox_page(people["anna"], group_tab).rows == []
    [task] = open_tasks(case)
    with pytest.raises(Forbidden):
        cases.claim_task(task.id, people["anna"])
    cases.claim_task(task.id, people["ben"])


def test_a_save_the_database_refuses_changes_nothing(onboarding, people, monkeypatch):
    """The derived rows go out together (one pipeline on PostgreSQL); if the database refuses one, the
    whole change is rolled back with a SQLAlchemy error, and the same completion succeeds afterwards."""
    from sqlalchemy.exc import IntegrityError
    [task] = open_tasks(onboarding)
    version = onboarding.lock_version
    original = state.DerivedWrites.execute

    def with_a_duplicate_row(writes):
        writes.task_groups.append(dict(writes.task_groups[0]))
        original(writes)
    monkeypatch.setattr(state.DerivedWrites, "execute", with_a_duplicate_row)
    with pytest.raises(IntegrityError):
        cases.complete_task(task.id, INTAKE, actor=people["anna"])
    db.session.expire_all()
    assert [t.id for t in open_tasks(onboarding)] == [task.id]
    assert db.session.get(Case, onboarding.id).lock_version == version
    assert "task_completed" not in events(onboarding)
    monkeypatch.setattr(state.DerivedWrites, "execute", original)
    cases.complete_task(task.id, INTAKE, actor=people["anna"])
    assert "task_completed" in events(onboarding)


def test_candidate_group_from_case_data_too_long_to_store_is_an_incident(people, deploy_fixture):
    """Literal groups are checked at deploy; one computed from case data is checked when the task opens:
    the task waits in ERROR with an incident naming it, and a retry with corrected data opens it."""
    deploy_fixture("candidate_expression.bpmn")
    case = cases.start_case("candidate_expression", center=people["center"], data={"team": "t" * 81},
                            actor=people["anna"])
    assert case.has_incident and open_tasks(case) == []
    incident = db.session.scalar(select(Incident).where(Incident.case_id == case.id))
    assert incident.element_id == "advise" and "camunda:candidateGroups" in incident.message
    assert "longer than" in incident.message
    case = cases.retry_task(case.id, data={"team": "advisor"}, actor=people["sara"])
    [task] = open_tasks(case)
    assert task.candidate_groups == ["advisor"] and not case.has_incident
    assert db.session.scalars(select(HumanTaskGroup.group_name).where(HumanTaskGroup.task_id == task.id)).all() \
        == ["advisor"]
    assert db.session.scalars(select(HumanTaskGroup.group_name).where(HumanTaskGroup.task_id == task.id)).all() \
        == ["advisor"]


def test_a_change_writes_its_case_and_task_rows_as_the_session_keeps_them(onboarding, people):
    """A change's case and task rows are written with Core statements, not by the flush: the database
    holds what the session kept (next notice, lock_version bumped once per change), and nothing is
    left for a later flush to write."""
    from sqlalchemy import text
    [task] = open_tasks(onboarding)
    assert task.next_notice_at is not None
    version = onboarding.lock_version
    case = cases.complete_task(task.id, INTAKE, actor=people["anna"])
    assert not db.session.dirty
    kept = db.session.get(HumanTask, task.id)
    stored_task = db.session.execute(text("SELECT state, assignee_id, completed_by_id, next_notice_at, draft "
                                          "FROM human_task WHERE id = :id"), {"id": task.id}).one()
    assert tuple(stored_task) == ("completed", people["anna"].id, people["anna"].id, None, None)
    assert (kept.state, kept.next_notice_at) == ("completed", None)
    stored_case = db.session.execute(text('SELECT lock_version, state FROM "case" WHERE id = :id'),
                                     {"id": case.id}).one()
    assert stored_case.lock_version == case.lock_version == version + 1
    assert stored_case.state == case.state
    db.session.expire_all()
    assert db.session.get(Case, case.id).lock_version == version + 1
