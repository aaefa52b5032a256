"""`replayed` (tests/conftest.py) gives a test the world its setup would have made: the same rows in every table,
the times moved with the clock, the same specs in the spec cache, and nothing handed to jobs or mail."""
import json
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from engine import clock, jobs, mail, state
from engine.db import db
from engine.models import AuditEntry, Case, CaseEvent, HumanTask
from tests.conftest import _people, empty_tables, replayed, sorted_tables
from tests.web.conftest import ws_setup

RECORDED_AT = datetime(2026, 3, 10, 7, 0, tzinfo=timezone.utc)
REPLAYED_AT = RECORDED_AT + timedelta(hours=5, minutes=17, seconds=3, microseconds=250)     # the same day
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
WALL_CLOCK = re.compile(r'"last_state_change": [0-9.e+]+')    # SpiffWorkflow's time.time(): orders tasks only


def every_row() -> dict:
    """table -> its rows, each as text, sorted; the task ids (random uuids) numbered by where they first appear
    in the cases' states, SpiffWorkflow's wall-clock stamps left out."""
    numbers = {}
    for case_state in db.session.scalars(select(Case.state).order_by(Case.id)):
        for task_id in json.loads(case_state)["tasks"]:
            numbers.setdefault(task_id, f"task-{len(numbers)}")

    def plain(value):
        if isinstance(value, str):
            return WALL_CLOCK.sub('"last_state_change": _', UUID.sub(lambda m: numbers.get(m.group(), "?"), value))
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value
    return {table.name: sorted(repr({k: plain(v) for k, v in row._mapping.items()})
                               for row in db.session.execute(select(table)))
            for table in sorted_tables()}


def test_a_replayed_ws_is_a_fresh_one_with_its_times_moved(ctx, monkeypatch):
    handed_off = []
    monkeypatch.setattr(jobs, "after_commit", handed_off.append)
    monkeypatch.setattr(mail, "after_commit_send_mail", lambda: handed_off.append("mail"))
    setups = []

    def world(at, replay):
        """The database, spec cache and returned cases of `ws` set up at `at` (after a clean start, as `ctx`)."""
        empty_tables(ctx)
        state.spec_cache.forget_ids()
        clock.freeze(at)
        people = replayed("people", _people)

        def setup():
            setups.append(at)
            return ws_setup(people)
        started = replayed("ws, as this test records it", setup, clock_relative=True) if replay else setup()
        return (every_row(), list(state.spec_cache.items), list(state.spec_cache.forms),
                {name: (case.id, case.reference, case.started_at) for name, case in started.items()})

    world(RECORDED_AT, replay=True)                     # recorded
    replayed_world = world(REPLAYED_AT, replay=True)
    assert setups == [RECORDED_AT], "the second ws was not replayed"
    tasks = db.session.scalars(select(HumanTask)).all()
    assert len(tasks) == 3 and {t.due_at for t in tasks} == {REPLAYED_AT + timedelta(days=3)}
    assert {t.created_at for t in tasks} == {REPLAYED_AT}
    assert {e.details["due_at"] for e in db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "task_created"))} \
        == {(REPLAYED_AT + timedelta(days=3)).isoformat()}

    fresh_world = world(REPLAYED_AT, replay=False)
    rows, fresh_rows = replayed_world[0], fresh_world[0]
    assert len(fresh_rows["case"]) == len(fresh_rows["human_task"]) == 3 and len(fresh_rows["case_event"]) == 6
    for table in rows:
        assert rows[table] == fresh_rows[table], table
    assert replayed_world[1:] == fresh_world[1:]        # the spec cache and the cases the fixture returns
    assert fresh_world[1], "starting a case leaves its process in the spec cache"
    assert handed_off == []                             # no job, no mail: the rows are the whole world


def _entry_a_day_ahead(runs):
    """A setup that writes one time of its own, the clock's now plus a day, and counts its runs in `runs`."""
    def setup():
        runs.append(clock.now())
        db.session.add(AuditEntry(at=clock.now() + timedelta(days=1), object_kind="center", object_label="x",
                                  action="test"))
    return setup


def test_a_setup_writing_a_time_not_the_clocks_is_run_each_time(people):
    runs = []
    setup = _entry_a_day_ahead(runs)
    replayed("a time of its own", setup)
    db.session.execute(AuditEntry.__table__.delete())
    db.session.commit()
    replayed("a time of its own", setup)
    assert len(runs) == 2


def test_a_clock_relative_setup_is_recorded_per_day(people):
    runs = []
    setup = _entry_a_day_ahead(runs)

    def once():
        replayed("a time from the clock", setup, clock_relative=True)
        [entry] = db.session.scalars(select(AuditEntry)).all()
        assert entry.at == clock.now() + timedelta(days=1)
        db.session.execute(AuditEntry.__table__.delete())
        db.session.commit()
    clock.freeze(RECORDED_AT)
    once()
    clock.advance(timedelta(minutes=5))
    once()
    assert len(runs) == 1
    clock.advance(timedelta(days=1))
    once()
    assert len(runs) == 2
