"""The group tab's count, kept in `group_task_count` (engine.task_counts), stays what counting the tasks says."""
import threading
from datetime import timedelta

from sqlalchemy import exists, func, or_, select

from engine import cases, clock, inbox, task_counts
from engine.db import db
from engine.models import GroupTaskCount, HumanTask, HumanTaskGroup, User

INTAKE = {"name": "Ana Lima", "salary": 20000, "start_date": "2027-02-01"}


def counted_now(user, followup=False) -> int:
    """The group tab's count by its definition: open, unassigned tasks of the user's center that have one of
    the user's groups (or the user) as candidate, without a follow-up date in the future (unless `followup`)."""
    names = sorted(user.group_names) + [f"user:{user.username}"]
    conditions = [HumanTask.state == "open", HumanTask.assignee_id.is_(None), HumanTask.center_id == user.organisation_id,
                  exists().where(HumanTaskGroup.task_id == HumanTask.id, HumanTaskGroup.group_name.in_(names))]
    if not followup:
        conditions.append(or_(HumanTask.follow_up_at.is_(None), HumanTask.follow_up_at <= clock.now()))
    return db.session.scalar(select(func.count()).select_from(HumanTask).where(*conditions))


def shown(user, followup=False) -> int:
    return inbox.inbox_page(user, inbox.InboxQuery(view="group", followup=followup)).counts["group"]


def kept_rows():
    return sorted(db.session.execute(select(GroupTaskCount.center_id, GroupTaskCount.candidates,
                                            GroupTaskCount.group_name, GroupTaskCount.tasks)
                                     .where(GroupTaskCount.tasks != 0)).all())


def assert_counts_agree(people, label):
    db.session.expire_all()
    for name in ("anna", "ben", "sara", "kai"):
        user = people[name]
        assert shown(user) == counted_now(user), (label, name)
        assert shown(user, followup=True) == counted_now(user, followup=True), (label, name, "followup")
    kept = kept_rows()
    task_counts.rebuild()
    assert kept_rows() == kept, label            # counting everything anew finds the same
    db.session.rollback()


def open_task_of(case) -> HumanTask:
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")).first()


def test_every_change_of_a_task_keeps_the_group_counts_exact(people, deploy_fixture):
    deploy_fixture("ws_permit.bpmn", "ws_start.form", "ws_documents.form")
    deploy_fixture("onboarding.bpmn", "intake_form.form")
    deploy_fixture("candidate_user.bpmn")
    deploy_fixture("candidate_expression.bpmn")
    center, other, anna, sara = people["center"], people["other_center"], people["anna"], people["sara"]
    permits = [cases.start_case("ws_permit", center=center, subject=f"Person {i}", data={"worker_name": "x"},
                                actor=anna) for i in range(4)]
    cases.start_case("ws_permit", center=other, subject="Köln", data={"worker_name": "x"}, actor=people["kai"])
    intake = cases.start_case("onboarding", center=center, actor=anna)      # advisor, supervisor; follow-up in a day
    cases.start_case("candidate_user", center=center, actor=anna)           # candidate user ben
    teams = [cases.start_case("candidate_expression", center=center, data={"team": team}, actor=anna)
             for team in ("supervisor", "advisor, supervisor", "visa")]
    db.session.commit()
    assert shown(anna) == 5 and shown(sara) == 6 and shown(people["ben"]) == 6
    assert_counts_agree(people, "started")

    task = open_task_of(permits[0])
    cases.claim_task(task.id, anna)
    assert shown(anna) == 4
    assert_counts_agree(people, "claimed")
    cases.unclaim_task(task.id, anna)
    assert_counts_agree(people, "released")
    cases.assign_task(open_task_of(permits[1]).id, people["ben"], actor=sara)
    cases.assign_task(open_task_of(teams[1]).id, people["ben"], actor=sara)
    assert_counts_agree(people, "assigned")

    ben = people["ben"]
    task = open_task_of(permits[1])
    cases.complete_task(task.id, {"passport_no": "C01X00T47", "salary": 52000}, actor=ben)  # its next task opens
    assert_counts_agree(people, "completed")
    cases.cancel_case(permits[2].id, actor=sara)
    assert_counts_agree(people, "cancelled")

    task = open_task_of(permits[3])
    task.follow_up_at = clock.now() + timedelta(days=2)                       # set by hand: hidden for now
    db.session.commit()
    assert shown(anna) == 2 and shown(anna, followup=True) == 4        # this one and the intake come later
    assert_counts_agree(people, "follow-up set")
    clock.advance(timedelta(days=3))                                          # both follow-ups have passed
    assert_counts_agree(people, "follow-ups passed")
    assert shown(sara) == counted_now(sara) and open_task_of(intake).follow_up_at <= clock.now()
    task.follow_up_at = None
    db.session.commit()
    assert_counts_agree(people, "follow-up removed")


def test_a_rolled_back_change_changes_no_count(people, deploy_fixture):
    deploy_fixture("ws_permit.bpmn", "ws_start.form", "ws_documents.form")
    case = cases.start_case("ws_permit", center=people["center"], data={"worker_name": "x"}, actor=people["anna"])
    db.session.commit()
    task = open_task_of(case)
    task.assignee_id = people["anna"].id
    db.session.flush()                      # noted, not yet applied
    db.session.rollback()
    task_counts.note(db.session, people["center"].id, ["advisor"], +1)     # as for a task row inserted, then
    db.session.rollback()
    people["anna"].display_name = "Anna B."                              # an unrelated commit applies nothing
    db.session.commit()
    assert shown(people["anna"]) == counted_now(people["anna"]) == 1


def test_concurrent_claims_lose_no_count(people, deploy_fixture, ctx):
    """Counts changed by several transactions at once (one row per set of candidates, upserted at commit)."""
    deploy_fixture("ws_permit.bpmn", "ws_start.form", "ws_documents.form")
    started = [cases.start_case("ws_permit", center=people["center"], subject=f"P{i}", data={"worker_name": "x"},
                                actor=people["anna"]) for i in range(8)]
    db.session.commit()
    task_ids = [open_task_of(case).id for case in started]
    user_ids = [people[name].id for name in ("anna", "ben", "sara", "anna")]
    db.session.remove()
    barrier = threading.Barrier(len(user_ids))
    failures = []

    def claim(user_id, mine):
        with ctx.app_context():
            try:
                user = db.session.get(User, user_id)
                barrier.wait()
                for task_id in mine:
                    cases.claim_task(task_id, user)
            except Exception as exc:          # noqa: BLE001 (reported below)
                failures.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim, args=(uid, task_ids[i::len(user_ids)])) for i, uid in enumerate(user_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == [] or ctx.backend == "sqlite", failures       # SQLite: one writer, a busy one may fail
    ben = db.session.get(User, user_ids[1])
    claimed = db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.assignee_id.is_not(None)))
    assert claimed == 8 or ctx.backend == "sqlite"
    assert shown(ben) == counted_now(ben) == 8 - claimed
