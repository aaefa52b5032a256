"""engine.milestones: a journey's milestones from the diagrams (done with dates, current, next), who acts now,
a party's next step; labels in the asked language from the diagram, falling back to English, then German."""
from datetime import timedelta

from engine import milestones
from tests.scenarios.driver import Journey, confirm_path, intake


def test_a_worker_journey_shows_done_current_and_next_in_the_asked_language(people):
    j = Journey(people)
    case = j.start("worker_journey", subject="Ravi Kumar", data={"worker_name": "Ravi Kumar"})
    start = milestones.journey(j.case(case), "en")
    assert start.done == [] and start.has_milestones
    assert (start.current.key, start.current.label) == ("intake_done", "Initial interview with the skilled worker held")
    assert start.next.key == "path_decided"
    assert start.acting == ["center"] and start.next_step("employer") is None

    intake(j, case)
    j.advance(days=1)
    j.reload()                                            # read back as another process would
    after = milestones.journey(j.case(case), "de")
    assert [(m.key, m.label, m.status) for m in after.done] == [
        ("intake_done", "Erstgespräch mit der Fachkraft geführt", "done")]
    assert after.done[0].reached_at == j.case(case).started_at     # the clock was frozen at the start
    assert after.current.key == "path_decided"
    # a language the diagram does not have falls back to English
    assert milestones.journey(j.case(case), "ar").done[0].label == "Initial interview with the skilled worker held"


def test_the_firm_acts_on_the_power_of_attorney_and_sees_its_deadline(people):
    j = Journey(people)
    case = j.start("worker_journey", subject="Ravi Kumar", data={"worker_name": "Ravi Kumar"})
    intake(j, case, has_job_offer=True, qualification_type="academic", annual_salary=60000)
    confirm_path(j, case, use_fast_track=True)
    journey = milestones.journey(j.case(case), "de")
    step = journey.next_step("employer")
    assert step is not None and step.element_id == "task_power_of_attorney"
    assert step.due_at == j.task(case, "task_power_of_attorney").created_at + timedelta(days=14)
    assert set(step.parties) == {"employer", "worker"}
    assert journey.acting == ["employer", "worker"]
    assert journey.current.key == "power_of_attorney"
    assert journey.current.label == "Vollmacht der Fachkraft liegt vor"
    # the step's name comes translated from the diagram (name:en)
    en = milestones.journey(j.case(case), "en").next_step("employer")
    assert en.translated and en.label == "Obtain the skilled worker's power of attorney"
    assert en.title == "Vollmacht der Fachkraft für den Arbeitgeber einholen"


def test_a_journey_without_milestones_names_its_open_step(people, deploy_fixture):
    deploy_fixture("candidate_user.bpmn")
    from engine import cases
    case = cases.start_case("candidate_user", center=people["center"], subject="X", actor=people["anna"])
    journey = milestones.journey(case, "de")
    assert not journey.has_milestones
    assert [s.title for s in journey.steps] and all(s.kind == "task" for s in journey.steps)


def test_labels_fall_back_to_english_then_german_then_the_name():
    props = {"milestone_label": "Vollmacht liegt vor", "milestone_label:en": "Power of attorney signed",
             "milestone_label:tr": "Vekaletname imzalandı"}
    assert milestones.text(props, "milestone_label", "tr") == "Vekaletname imzalandı"
    assert milestones.text(props, "milestone_label", "uk") == "Power of attorney signed"
    assert milestones.text({"milestone_label": "Vollmacht liegt vor"}, "milestone_label", "en") == "Vollmacht liegt vor"
    assert milestones.text({}, "milestone_label", "en", "Task name") == "Task name"


def test_whose_step_it_is():
    assert milestones.owners("worker", ["employer", "advisor"]) == ("employer", "worker", "center")
    assert milestones.owners("employer", ["advisor"]) == ("center",)     # the firm acts through its accounts
    assert milestones.owners("worker", ["advisor"]) == ("worker", "center")
    assert milestones.owners("employer", (), is_task=False) == ("employer",)


def test_parties_of_a_step():
    assert milestones.parties("worker", ["employer", "advisor"]) == ("employer", "worker")
    assert milestones.parties(None, ["advisor"]) == ("center",)
    assert milestones.parties("authority", ["advisor"]) == ("authority",)
    assert milestones.parties(None, ["employer", "advisor"]) == ("employer",)


def test_an_outcome_on_an_end_event_is_not_named_as_next_while_the_journey_goes_on(people):
    j = Journey(people)
    case = j.start("employer_journey", subject="Elektro Jansen GmbH", data={"firm_name": "Elektro Jansen GmbH"})
    journey = milestones.journey(j.case(case), "en")
    assert journey.current.key == "first_consultation"
    assert journey.next is not None and journey.next.key != "closed_after_first_consultation"
    plan = milestones.plan(j.case(case).definition_id)
    assert plan.milestone("closed_after_first_consultation").at_end
    # called processes count, a multi-instance call (one hire per position) too
    keys = [m.key for m in plan.milestones]
    assert {"referrals_done", "kuemmerer_named", "hire_confirmed", "worker_arrived"} <= set(keys)
    assert keys.index("first_consultation") < keys.index("hire_confirmed") < keys.index("worker_arrived")


def test_the_portal_reads_any_number_of_journeys_in_a_fixed_number_of_statements(people):
    from contextlib import contextmanager

    from sqlalchemy import event

    from engine import portal
    from engine.db import db

    @contextmanager
    def counted():
        statements = []
        listener = lambda *args: statements.append(args[2])       # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)

    j = Journey(people)
    j.start("employer_journey", subject="Elektro Jansen GmbH")
    j.start("worker_journey", subject="Worker 0", data={"worker_name": "Worker 0"})
    portal.home(people["jansen"], "de")                    # the plans are built once per version
    with counted() as few:
        portal.home(people["jansen"], "de")
    for i in range(1, 6):
        j.start("worker_journey", subject=f"Worker {i}", data={"worker_name": f"Worker {i}"})
    j.reload()
    portal.home(people["jansen"], "de")
    with counted() as many:
        page = portal.home(people["jansen"], "de")
    assert len(page.workers) == 6 and len(many) == len(few) <= 7, many
