"""engine.oversight: the stuck cases of a center with their reasons, the bulk actions, correcting a
failed step's data and retrying it. Through the real engine; the case is read back from the database."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import cases, clock, oversight, state
from engine.db import db
from engine.errors import InvalidFields
from engine.models import Case, CaseEvent, HumanTask
from tests.conftest import fixture_files


def _reload():
    db.session.expire_all()
    state.spec_cache.clear()


def _open(case):
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")
                              .order_by(HumanTask.created_at, HumanTask.id)).all()


def _reasons(listing):
    return {c.reference: sorted(r.kind for r in c.reasons) for c in listing.cases}


@pytest.fixture
def center(people, deploy_fixture):
    deploy_fixture("ws_permit.bpmn", "ws_start.form", "ws_documents.form", "divide.bpmn")
    return people


def _permit(people, center="center", subject="Ravi Kumar"):
    actor = people["anna"] if center == "center" else people["kai"]
    return cases.start_case("ws_permit", center=people[center], subject=subject, data={"worker_name": subject},
                            actor=actor, responsible=actor)


def test_each_reason_lists_its_case_and_nothing_of_another_center(center):
    fine = _permit(center, subject="Fine")
    overdue = _permit(center, subject="Overdue")
    failed = cases.start_case("divide", center=center["center"], subject="Broken", data={"total": 1, "parts": 0},
                              actor=center["anna"])
    elsewhere = _permit(center, "other_center", subject="Köln")
    db.session.commit()
    assert _reasons(oversight.stuck_cases(center["sara"])) == {failed.reference: ["error"]}

    clock.advance(timedelta(days=2))
    cases.claim_task(_open(fine)[0].id, center["anna"])             # taken: not "unclaimed"
    clock.advance(timedelta(days=2))                                # due P3D: both overdue now
    _reload()
    listing = oversight.stuck_cases(center["sara"])
    reasons = _reasons(listing)
    assert reasons[overdue.reference] == ["overdue", "unclaimed"]      # 4 days, nobody took it (default 3)
    assert reasons[fine.reference] == ["overdue"]
    assert reasons[failed.reference] == ["error"]
    assert elsewhere.reference not in reasons
    assert listing.counts["overdue"] == 2 and listing.counts["error"] == 1
    assert [c.reference for c in oversight.stuck_cases(center["sara"], "error").cases] == [failed.reference]
    # the other center's supervisor sees only theirs; an advisor has no such list
    from engine import users
    kim = users.ensure_user("kim", "Kim Köln", organisation=center["other_center"], groups=["supervisor"],
                            password="pw-kim")
    db.session.commit()
    assert set(_reasons(oversight.stuck_cases(kim))) == {elsewhere.reference}
    assert oversight.stuck_cases(center["anna"]) is None and oversight.stuck_cases(center["kai"]) is None


def test_outside_party_and_idle_days_per_process(center, deploy_fixture):
    case = _permit(center)
    cases.complete_task(_open(case)[0].id, {"docs_complete": True}, actor=center["anna"])
    _reload()
    waiting = [t for t in _open(case) if t.actor in oversight.OUTSIDE_PARTIES]
    clock.advance(timedelta(days=10))
    _reload()
    listing = oversight.stuck_cases(center["sara"])
    [stuck] = listing.cases
    party = [r for r in stuck.reasons if r.kind == "waiting"]
    assert party and {r.party for r in party} == {t.actor for t in waiting}
    assert "idle" not in stuck.kinds                                  # 10 days < LOTSE_IDLE_DAYS (14)
    clock.advance(timedelta(days=5))
    assert "idle" in oversight.stuck_cases(center["sara"]).cases[0].kinds


def test_a_process_sets_its_own_idle_days(center):
    xml = fixture_files("divide.bpmn")[0][1].decode()
    xml = xml.replace('<bpmn:process id="divide"', '<bpmn:process id="quiet"', 1)
    assert 'id="quiet"' in xml
    xml = xml.replace('isExecutable="true">', 'isExecutable="true"><bpmn:extensionElements><camunda:properties>'
                      '<camunda:property name="idle_days" value="2"/></camunda:properties></bpmn:extensionElements>', 1)
    from engine import deploy
    deploy.deploy([("quiet.bpmn", xml.encode())])
    db.session.commit()
    case = cases.start_case("quiet", center=center["center"], data={"total": 4, "parts": 2}, actor=center["anna"])
    clock.advance(timedelta(days=3))
    _reload()
    assert "idle" in next(c for c in oversight.stuck_cases(center["sara"]).cases if c.id == case.id).kinds

    bad = xml.replace('value="2"', 'value="soon"').replace('id="quiet"', 'id="quiet2"')
    with pytest.raises(Exception) as refused:
        deploy.deploy([("quiet2.bpmn", bad.encode())])
    assert "idle_days" in str(refused.value) and "quiet2" in str(refused.value)


def test_bulk_actions_write_the_case_log(center):
    first, second = _permit(center, subject="A"), _permit(center, subject="B")
    elsewhere = _permit(center, "other_center", subject="Köln")
    db.session.commit()
    sara, ben = center["sara"], center["ben"]
    tasks = [_open(first)[0].id, _open(second)[0].id]
    result = oversight.bulk_action(sara, "reassign", task_ids=tasks, person_id=ben.id)
    assert len(result.done) == 2 and result.failed == []
    _reload()
    assert {t.assignee_id for t in _open(first) + _open(second)} == {ben.id}

    result = oversight.bulk_action(sara, "responsible", case_ids=[first.id, elsewhere.id], person_id=ben.id)
    assert result.done == [first.reference] and [item for item, _ in result.failed] == [str(elsewhere.id)]
    _reload()
    assert db.session.get(Case, first.id).responsible_id == ben.id
    assert db.session.get(Case, elsewhere.id).responsible_id == center["kai"].id

    with pytest.raises(InvalidFields) as missing:
        oversight.bulk_action(sara, "cancel", case_ids=[second.id])
    assert set(missing.value.errors) == {"reason"}
    oversight.bulk_action(sara, "cancel", case_ids=[second.id], reason="Firma hat abgesagt")
    _reload()
    assert db.session.get(Case, second.id).status == "cancelled"
    logged = {(e.case_id, e.kind): e.details for e in db.session.scalars(select(CaseEvent))}
    assert logged[(first.id, "responsible_changed")] == {"from": "anna", "to": "ben", "from_name": "Anna Berger",
                                                         "to_name": "Ben Okafor"}
    assert logged[(second.id, "case_cancelled")] == {"reason": "Firma hat abgesagt"}
    assert logged[(first.id, "task_assigned")]["assignee"] == "ben"

    with pytest.raises(InvalidFields) as wrong:
        oversight.bulk_action(sara, "responsible", case_ids=[first.id], person_id=center["kai"].id)
    assert set(wrong.value.errors) == {"person"}


def test_correct_the_data_a_step_saw_and_retry(center):
    case = cases.start_case("divide", center=center["center"], subject="Broken", data={"total": 10, "parts": 0},
                            actor=center["anna"])
    db.session.commit()
    _reload()
    page = oversight.incident_case(center["sara"], case.reference)
    [incident] = page.incidents
    assert incident.element_id == "run" and "null" in page.explanations[incident.id]
    assert dict(page.fields) == {"parts": "0", "total": "10"}
    assert oversight.incident_case(center["kai"], case.reference) is None      # another center: not found
    assert oversight.incident_case(center["anna"], case.reference) is None     # not a supervisor

    with pytest.raises(InvalidFields) as bad:
        oversight.retry_with_corrections(center["sara"], case.reference, {"new_key": "1x", "new_value": "2"})
    assert set(bad.value.errors) == {"new_key"}
    again = oversight.retry_with_corrections(center["sara"], case.reference, {"value:parts": "0", "value:total": "10"})
    assert again.has_incident                                         # nothing changed: it fails again

    fixed = oversight.retry_with_corrections(center["sara"], case.reference,
                                             {"value:parts": "4", "value:total": "10", "new_key": "note",
                                              "new_value": "korrigiert"})
    _reload()
    fixed = db.session.get(Case, fixed.id)
    assert not fixed.has_incident and [t.element_id for t in _open(fixed)] == ["check"]
    data = state.load(fixed).data
    assert (data["parts"], data["ratio"], data["note"]) == (4, 2.5, "korrigiert")
    retried = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                         CaseEvent.kind == "task_retried")).all()
    assert retried[-1].details["changes"]["parts"] == {"old": 0, "new": 4}     # what it replaced
    assert retried[-1].details["changes"]["note"] == {"old": None, "new": "korrigiert"}
    assert retried[-1].actor_id == center["sara"].id


def test_cancel_needs_a_reason(center):
    case = cases.start_case("divide", center=center["center"], data={"total": 1, "parts": 0}, actor=center["anna"])
    db.session.commit()
    with pytest.raises(InvalidFields):
        oversight.cancel_with_reason(center["sara"], case.reference, "  ")
    oversight.cancel_with_reason(center["sara"], case.reference, "Doppelt angelegt")
    _reload()
    assert db.session.get(Case, case.id).status == "cancelled" and not db.session.get(Case, case.id).has_incident
