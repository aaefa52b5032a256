"""Timer throughput: 10,000 cases whose timers are all due, swept by one and by two worker processes.

    createdb -h 127.0.0.1 -U postgres bench     # a scratch database: the bench drops every table in it
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/timers.py

DROPS AND RECREATES ALL TABLES of DATABASE_URL (use a scratch database). Each case waits in a
user task with an interrupting boundary timer (`"PT1H"`); waking it fires the timer, cancels
the task and opens a follow-up task — the whole transactional wake path (claim a batch with
SKIP LOCKED, deserialize, refresh_timers, do_engine_steps, sync, serialize, commit).
Workers are separate processes running `engine.timers.sweep` (what the rq sweep job runs)
two hours ahead on the engine clock. Prints timers/second, median/p95 per wake (a transaction's time over the
cases it woke) and the median CPU time of the worker per wake (PostgreSQL's not included; on a loaded machine it
varies less than the wall time).

Options: BENCH_CASES (default 10000), BENCH_WORKERS (default "1,2"), BENCH_PROFILE=1 (cProfile
of 300 wakes in-process, top 25 by cumulative time).
"""
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = int(os.environ.get("BENCH_CASES", "10000"))
AHEAD = 2 * 3600

DIAGRAM = b'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="bench">
  <bpmn:process id="bench_timer" name="Bench timer" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:userTask id="wait" name="Zustimmung abwarten" camunda:candidateGroups="advisor"/>
    <bpmn:boundaryEvent id="late" name="Frist abgelaufen" attachedToRef="wait" cancelActivity="true">
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="late" targetRef="chase"/>
    <bpmn:userTask id="chase" name="Nachhaken" camunda:candidateGroups="supervisor"/>
    <bpmn:sequenceFlow id="f3" sourceRef="chase" targetRef="end_late"/>
    <bpmn:endEvent id="end_late"/>
    <bpmn:sequenceFlow id="f4" sourceRef="wait" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>'''


def stats(samples):
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


def instrument():
    """Time each transaction of wakes (claim, wake its cases, commit) inside a worker process."""
    from engine import cases
    samples = []
    original = cases.wake_due

    def timed(now, **kwargs):
        t0, c0 = time.perf_counter(), time.process_time()
        result = original(now, **kwargs)
        if result:
            samples.append((time.perf_counter() - t0, len(result), time.process_time() - c0))
        return result
    cases.wake_due = timed
    return samples


def worker_main():
    """A sweeping worker process: sweep until nothing is due; print JSON with the per-wake samples."""
    from engine import timers
    from engine.db import db
    from web import create_app
    app = create_app({"REDIS_URL": None, "MAIL_URL": None})
    samples = instrument()
    woken = 0
    with app.app_context():
        t0 = time.perf_counter()
        while True:
            result = timers.sweep(limit=500)
            woken += result["woken"]
            if result["woken"] == 0:
                break
        elapsed = time.perf_counter() - t0
        db.session.remove()
    print(json.dumps({"woken": woken, "elapsed": elapsed, "samples": samples}))


def create_cases(app, n):
    from engine import cases, users
    from engine.db import db
    with app.app_context():
        center = users.get_organisation("center", "Bench Center", code="BC")
        db.session.commit()
        t0 = time.perf_counter()
        for _ in range(n):
            cases.start_case("bench_timer", center=center)
        db.session.remove()
        return time.perf_counter() - t0


def run_workers(count):
    from engine import clock
    env = dict(os.environ, LOTSE_CLOCK_OFFSET_SECONDS=str(clock.offset_from_real_time().total_seconds() + AHEAD),
               PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, __file__, "--worker"], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(count)]
    results = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"worker failed ({proc.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return time.perf_counter() - t0, results


def profile(app):
    import cProfile
    import pstats
    from engine import clock, timers
    from datetime import timedelta
    create_cases(app, 300)
    clock.advance(timedelta(seconds=AHEAD))
    with app.app_context():
        profiler = cProfile.Profile()
        profiler.enable()
        timers.sweep(limit=300)
        profiler.disable()
    clock.reset()
    pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(25)


def main():
    from sqlalchemy import func, select
    from engine import deploy, users
    from engine.db import db, drop_everything
    from engine.models import Case, CaseEvent
    from web import create_app

    app = create_app({"REDIS_URL": None, "MAIL_URL": None})
    backend = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
    with app.app_context():
        drop_everything()
        db.create_all()
        users.get_organisation("center", "Bench Center", code="BC")
        deploy.deploy([("bench_timer.bpmn", DIAGRAM)])
        db.session.commit()
    if os.environ.get("BENCH_PROFILE"):
        profile(app)
        return
    print(f"backend: {backend}  cases per run: {CASES}  (boundary timer → cancel task → open follow-up task)")
    for count in [int(c) for c in os.environ.get("BENCH_WORKERS", "1,2").split(",")]:
        setup = create_cases(app, CASES)
        wall, results = run_workers(count)
        batches = [s for r in results for s in r["samples"]]
        samples = [elapsed / count for elapsed, count, _cpu in batches]     # per wake, within its batch
        cpu = statistics.median(cpu / count for _elapsed, count, cpu in batches) * 1000
        woken = sum(r["woken"] for r in results)
        with app.app_context():
            fired = db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "timer_fired"))
            due = db.session.scalar(select(func.count()).select_from(Case).where(Case.next_timer_at.is_not(None)))
            db.session.remove()
        sweep_time = max(r["elapsed"] for r in results)
        median, p95 = stats(samples)
        print(f"{count} worker(s): {woken} timers in {sweep_time:.1f} s sweeping ({wall:.1f} s with process start) "
              f"= {woken / sweep_time:.0f} timers/s; per wake median {median:.2f} ms, p95 {p95:.2f} ms "
              f"({len(batches)} transactions), CPU per wake median {cpu:.2f} ms; "
              f"per worker {[r['woken'] for r in results]}; setup {CASES / setup:.0f} case starts/s")
        print(f"   check: timer_fired events so far {fired}, cases still waiting {due}")
    with app.app_context():
        drop_everything()


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker_main()
    else:
        main()
