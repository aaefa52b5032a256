"""Engine latency: case start and task completion through the engine API, against the in-memory floor.

    createdb -h 127.0.0.1 -U postgres bench     # a scratch database: the bench drops every table in it
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/engine.py

Uses a generated 30-task process (20 user tasks, 10 script tasks). Prints medians, p95 and
the ratio of a full transactional completion to the pure SpiffWorkflow step (deserialize →
complete → do_engine_steps → serialize), which is the floor no storage layer can beat, and the median CPU
time of this process per start and per completion (PostgreSQL's not included; on a loaded machine it varies
less than the wall time).

Options: BENCH_CASES (default 40).
"""
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

USER_TASKS, SCRIPT_TASKS = 20, 10
CASES = int(os.environ.get("BENCH_CASES", "40"))


def diagram() -> bytes:
    nodes, flows, previous = [], [], "start"
    for i in range(USER_TASKS):
        node = f"task_{i}"
        nodes.append(f'<bpmn:userTask id="{node}" name="Schritt {i}" camunda:candidateGroups="advisor" '
                     f'camunda:dueDate="P7D"/>')
        flows.append((previous, node))
        previous = node
        if i % 2 == 1 and i // 2 < SCRIPT_TASKS:
            script = f"script_{i}"
            nodes.append(f'<bpmn:scriptTask id="{script}" name="Rechnen {i}"><bpmn:script>'
                         f'counter = counter + 1\nstep_{i} = counter * 2</bpmn:script>'
                         f'</bpmn:scriptTask>')
            flows.append((previous, script))
            previous = script
    flows.append((previous, "end"))
    flow_xml = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
                       for i, (a, b) in enumerate(flows))
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="bench">
  <bpmn:process id="bench30" name="Bench 30" isExecutable="true">
    <bpmn:startEvent id="start"/>{"".join(nodes)}<bpmn:endEvent id="end"/>{flow_xml}
  </bpmn:process></bpmn:definitions>'''.encode()


def stats(samples):
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def main():
    from sqlalchemy import select
    from SpiffWorkflow import TaskState
    from engine import cases, deploy, state, users
    from engine.db import db, drop_everything, end_session
    from engine.models import Case, HumanTask, User
    from web import create_app

    app = create_app()
    backend = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
    with app.app_context():
        drop_everything()
        db.create_all()
        center = users.get_organisation("center", "Bench Center", code="BC")
        advisor = users.ensure_user("bench", "Bench Advisor", organisation=center, groups=["advisor"])
        db.session.commit()
        deploy.deploy([("bench30.bpmn", diagram())])
        db.session.commit()

        advisor_id, center_id = advisor.id, center.id

        def fresh_request():
            """A new session per operation, as in a web request: the user is loaded before the view runs."""
            end_session()     # how the app ends each request's session
            user = db.session.get(User, advisor_id)
            user.group_names, user.organisation   # what the login loader has loaded already
            return user

        starts, completions, floors = [], [], []
        start_cpu, completion_cpu = [], []      # this process's CPU time: on a loaded machine it varies less
        for _ in range(CASES):
            advisor = fresh_request()
            t0, c0 = time.perf_counter(), time.process_time()
            case = cases.start_case("bench30", center=center_id, actor=advisor, data={"counter": 0})
            starts.append(time.perf_counter() - t0)
            start_cpu.append(time.process_time() - c0)
            case_id = case.id
            for step in range(USER_TASKS):
                task_id = db.session.scalar(select(HumanTask.id).where(HumanTask.case_id == case_id,
                                                                       HumanTask.state == "open"))
                # The in-memory floor for the same step, on the same state.
                case_state = db.session.scalar(select(Case.state).where(Case.id == case_id))
                t0 = time.perf_counter()
                workflow = state.serializer.deserialize_json(case_state)
                workflow.script_engine = state.sandbox.script_engine
                ready = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
                ready.data.update({"answer": step})
                ready.run()
                workflow.refresh_timers()
                workflow.do_engine_steps()
                state.serializer.serialize_json(workflow)
                floors.append(time.perf_counter() - t0)

                advisor = fresh_request()
                t0, c0 = time.perf_counter(), time.process_time()
                cases.complete_task(task_id, {"answer": step}, actor=advisor)
                completions.append(time.perf_counter() - t0)
                completion_cpu.append(time.process_time() - c0)
        size = len(db.session.scalar(select(Case.state).where(Case.id == case_id)))
        db.session.commit()
        drop_everything()

    start_med, start_p95 = stats(starts)
    done_med, done_p95 = stats(completions)
    floor_med, floor_p95 = stats(floors)
    print(f"backend: {backend}  cases: {CASES}  process: {USER_TASKS} user + {SCRIPT_TASKS} script tasks")
    start_cpu_med, done_cpu_med = statistics.median(start_cpu) * 1000, statistics.median(completion_cpu) * 1000
    print(f"case start            median {start_med:6.2f} ms   p95 {start_p95:6.2f} ms   CPU median {start_cpu_med:6.2f} ms")
    print(f"task completion       median {done_med:6.2f} ms   p95 {done_p95:6.2f} ms   CPU median {done_cpu_med:6.2f} ms"
          f"   (n={len(completions)})")
    print(f"in-memory floor       median {floor_med:6.2f} ms   p95 {floor_p95:6.2f} ms")
    print(f"ratio completion/floor (medians): {done_med / floor_med:.2f}x")
    print(f"state size of a completed case: {size / 1024:.1f} KiB (no spec inside)")


if __name__ == "__main__":
    main()
