"""The "Group tasks" tab's count, kept up to date instead of counted on every inbox page.

Counting a center's group tasks means reading ~1,000 index entries of two indexes on every page
(capped at "999+"): most of the page's time in PostgreSQL. `group_task_count` (GroupTaskCount)
holds, per center and set of candidates (a task's names in the group index,
`HumanTask.group_index_names`), how many tasks are *counted*: open, unassigned and without a
follow-up date. A user's group count is then the sum over the distinct sets that hold one of
their groups, plus a live count of the few open, unassigned tasks that have a follow-up date
(those come and go with the clock; `engine.inbox._group_tab_count`).

How the counts stay exact:
- every change that makes a task counted or not counted notes a +1 or -1 in the session:
  `note_opened` for the task rows `engine.state` inserts with Core, `note_changed` for the task objects
  it updates with Core, and a `before_flush` hook for task objects the session flushes (closing, claim, release, assign, a changed follow-up date;
  the columns it compares keep their old values, `active_history` in the model);
- the notes are applied at commit, after the last flush, as one upsert in a fixed order: the
  counter rows are locked only while the transaction commits, and always in the same order, so
  two transactions that change the same counts wait for each other but never deadlock;
- a rollback discards them with the rest of the transaction.
`rebuild` counts everything anew from the task tables (after a bulk load; `flask lotse recount`).
"""
from __future__ import annotations

from collections import Counter

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.orm.base import PASSIVE_NO_INITIALIZE
from sqlalchemy.dialects import postgresql, sqlite

from engine.db import db
from engine.models import GroupTaskCount, HumanTask, HumanTaskGroup
from engine.models.statuses import TaskStatus

_NOTES = "lotse_group_task_counts"      # session.info key: {(center_id, candidates): delta}
_table = GroupTaskCount.__table__


def candidates_key(names) -> str:
    """A set of candidates as one text: its names, sorted, one per line."""
    return "\n".join(sorted(set(names)))


def counted(state, assignee_id, follow_up_at) -> bool:
    """Whether a task with these values is in its center's kept group count."""
    return state == TaskStatus.OPEN and assignee_id is None and follow_up_at is None


def note(session: Session, center_id: int, names, delta: int) -> None:
    """Add `delta` to the count of this center's set of candidates when the transaction commits."""
    if not names or not delta:
        return                                  # a task without candidates is in no one's group tab
    notes = session.info.setdefault(_NOTES, {})
    key = (center_id, candidates_key(names))
    notes[key] = notes.get(key, 0) + delta


def note_opened(session: Session, row: dict, names) -> None:
    """A task row inserted with Core (engine.state.DerivedWrites), with its names in the group index."""
    if counted(row["state"], row["assignee_id"], row["follow_up_at"]):
        note(session, row["center_id"], names, +1)


def _old(obj, attribute: str):
    """The attribute's value as the database has it (before this flush)."""
    history = get_history(obj, attribute, passive=PASSIVE_NO_INITIALIZE)   # `attrs` would build one per attribute
    if history.deleted:
        return history.deleted[0]
    return history.unchanged[0] if history.unchanged else getattr(obj, attribute)


def note_changed(session: Session, obj: HumanTask) -> None:
    """A task object the session holds whose columns changed (before its changes are written)."""
    before = counted(_old(obj, "state"), _old(obj, "assignee_id"), _old(obj, "follow_up_at"))
    after = counted(obj.state, obj.assignee_id, obj.follow_up_at)
    if before != after:
        note(session, obj.center_id, obj.group_index_names, +1 if after else -1)


def note_task_changes(session, _flush_context, _instances):
    for obj in session.new:
        if isinstance(obj, HumanTask) and counted(obj.state or TaskStatus.OPEN, obj.assignee_id, obj.follow_up_at):
            note(session, obj.center_id, obj.group_index_names, +1)
    for obj in session.dirty:
        if isinstance(obj, HumanTask) and session.is_modified(obj):
            note_changed(session, obj)
    for obj in session.deleted:
        if isinstance(obj, HumanTask) and counted(_old(obj, "state"), _old(obj, "assignee_id"),
                                                  _old(obj, "follow_up_at")):
            note(session, obj.center_id, obj.group_index_names, -1)


def apply_notes(session):
    if session.new or session.dirty or session.deleted:
        session.flush()              # what commit would flush next: its changes are noted too
    notes = session.info.pop(_NOTES, None)
    if notes:
        apply(session.connection(), notes)


def discard_notes(session):
    session.info.pop(_NOTES, None)


def apply(connection, deltas: dict) -> None:
    """Add {(center_id, candidates): delta} to the kept counts: one upsert, rows in a fixed order."""
    rows = [{"center_id": center_id, "candidates": candidates, "group_name": name, "tasks": delta}
            for (center_id, candidates), delta in sorted(deltas.items()) if delta
            for name in candidates.split("\n")]
    if rows:
        connection.execute(_upsert(connection), rows)


def _upsert(connection):
    return _UPSERTS[connection.dialect.name == "postgresql"]


def _build_upsert(dialect):
    stmt = dialect.insert(_table)
    return stmt.on_conflict_do_update(index_elements=[_table.c.center_id, _table.c.candidates, _table.c.group_name],
                                      set_={"tasks": _table.c.tasks + stmt.excluded.tasks})


_UPSERTS = {True: _build_upsert(postgresql), False: _build_upsert(sqlite)}    # built once: one cache key each


def rebuild(connection=None) -> int:
    """Count every center's group tasks anew from the task tables; returns the number of counted tasks.
    For a bulk load that bypassed the engine, or to repair counts changed by hand in the database."""
    connection = connection or db.session.connection()
    task, group = HumanTask.__table__, HumanTaskGroup.__table__
    rows = connection.execute(
        select(task.c.center_id, task.c.id, group.c.group_name)
        .join(group, group.c.task_id == task.c.id)
        .where(task.c.state == TaskStatus.OPEN, task.c.assignee_id.is_(None), task.c.follow_up_at.is_(None))
        .order_by(task.c.id))
    tally, current, names, center = Counter(), None, [], None
    for center_id, task_id, name in rows:
        if task_id != current:
            if current is not None:
                tally[(center, candidates_key(names))] += 1
            current, names, center = task_id, [], center_id
        names.append(name)
    if current is not None:
        tally[(center, candidates_key(names))] += 1
    connection.execute(delete(_table))
    apply(connection, tally)
    return sum(tally.values())
