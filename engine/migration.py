"""Moving running cases onto a newer version of their process.

A case's workflow keeps its tasks; each task is pointed at the element of the same id in the target
version, or at the element an explicit mapping names (`{"old_id": "new_id"}`, for elements whose id
changed). The steps ahead of where the case stands (predicted, not yet reached) are dropped and
predicted anew from the target, so new and changed elements ahead take effect.

A case is refused, with the reason, when the target lacks an element the case stands on (an open
task, a waiting timer or message, a running call activity) or has already passed (its history must
stay readable), when such an element changed its kind (a user task that became a script), when a
process it runs in is no longer called, or when it has a failed step (fix or retry that first).

Each case moves in a transaction of its own (`cases.change_version`: locked, checked again under
the lock, so a case that moved since the dry run is judged as it is now): one case that is refused
or fails never holds back the others, and a case never moves half. The derived rows are synced in
the same transaction, its event log records `case_migrated`, and the audit log an entry per case.
Open tasks keep their due dates, candidate groups and assignee; waiting timers keep their due
times: the target's values apply where the case reaches those elements next.
"""
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from SpiffWorkflow import TaskState
from sqlalchemy import select

from engine import audit, cases, state
from engine.db import db
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import Case, ProcessDefinition
from engine.models.statuses import CaseStatus
from engine.versions import definition, versions as all_versions

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
AHEAD = TaskState.PREDICTED_MASK | TaskState.FUTURE
# What the dry run names when an open element changed (spec attributes; the rest is in `extensions`).
_IGNORED = {"inputs", "outputs", "lookahead", "description", "manual"}


@dataclass
class CasePlan:
    """One case: what it stands on, whether it can move, why not, and what would change."""
    case_id: int
    reference: str
    subject: str
    standing: list = field(default_factory=list)   # "“Name” (element_id)" the case stands on now
    refusals: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    migrated: bool = False

    @property
    def ok(self) -> bool:
        return not self.refusals


@dataclass
class MigrationPlan:
    key: str
    source: ProcessDefinition
    target: ProcessDefinition
    mapping: dict
    cases: list = field(default_factory=list)

    @property
    def movable(self):
        return [c for c in self.cases if c.ok]

    @property
    def refused(self):
        return [c for c in self.cases if not c.ok]


def parse_mapping(pairs) -> dict:
    """`["old=new", …]` (the CLI's --map, the page's lines) -> {old: new}; InvalidData naming a bad pair."""
    mapping = {}
    for pair in pairs or []:
        pair = pair.strip()
        if not pair:
            continue
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise InvalidData(_l("Eine Zuordnung lautet alte_id=neue_id, nicht „%(pair)s“.", pair=pair), field="map")
        mapping[old.strip()] = new.strip()
    return mapping


def _versions(key, from_version, to_version, mapping):
    source, target = definition(key, from_version), definition(key, to_version)
    if source.id == target.id:
        raise InvalidData(_l("%(key)s v%(version)s ist schon die Version, auf die umgestellt werden soll.", key=key,
                             version=from_version), field="to")
    source_names, target_names = _element_names(source), _element_names(target)
    for old, new in mapping.items():
        if old not in source_names:
            raise InvalidData(_l("Die Zuordnung nennt „%(id)s“, kein Element von %(key)s v%(version)s.", id=old,
                                 key=key, version=from_version), field="map")
        if new not in target_names:
            raise InvalidData(_l("Die Zuordnung nennt „%(id)s“, kein Element von %(key)s v%(version)s.", id=new,
                                 key=key, version=to_version), field="map")
    return source, target


def _element_names(definition_row) -> set[str]:
    spec, subprocess_specs = state.spec_cache.get(definition_row.id)
    return {name for process in (spec, *subprocess_specs.values()) for name in process.task_specs}


def _cases_of(source, case_id):
    query = select(Case).where(Case.definition_id == source.id, Case.status == CaseStatus.ACTIVE).order_by(Case.id)
    if case_id is not None:          # a case id, or its reference (WC-AC-2026-00042)
        found = db.session.scalar(select(Case).where(
            Case.id == int(case_id) if str(case_id).isdigit() and int(case_id) < 2**31 else Case.reference == str(case_id)))
        if found is None or found.definition_id != source.id:
            raise InvalidData(_l("%(case)s ist kein laufender Fall von %(key)s v%(version)s.", case=case_id,
                                 key=source.key, version=source.version), field="case")
        if found.status != CaseStatus.ACTIVE:
            raise InvalidData(_l("Der Fall %(case)s läuft nicht mehr; nur laufende Fälle werden umgestellt.",
                                 case=found.reference), field="case")
        query = query.where(Case.id == found.id)
    return db.session.scalars(query).all()


def plan(key, from_version, to_version, case_id=None, mapping=None) -> MigrationPlan:
    """The dry run: for each active case of `key` v`from_version` (or the one case), whether it can move."""
    mapping = dict(mapping or {})
    source, target = _versions(key, from_version, to_version, mapping)
    result = MigrationPlan(key, source, target, mapping)
    for case in _cases_of(source, case_id):
        try:
            result.cases.append(_check(case, state.load(case), target, mapping))
        except Exception as exc:        # a case the engine cannot read or judge: refused, never a crash
            result.cases.append(_failed(case.id, case.reference, case.subject, exc))
    return result


def _failed(case_id, reference, subject, exc) -> CasePlan:
    error = f"{type(exc).__name__}: {exc}"      # outside _l(): the msgid stays a plain format string
    return CasePlan(case_id, reference, subject, refusals=[
        _l("Der Fall lässt sich nicht umstellen: %(error)s", error=error)])


def migrate(key, from_version, to_version, case_id=None, mapping=None, actor=None) -> MigrationPlan:
    """Move every case the dry run allows, each in its own transaction; returns the plan with
    `migrated` set on the cases that moved and the refusals of those that did not."""
    result = plan(key, from_version, to_version, case_id, mapping)
    db.session.rollback()        # the dry run only read: each case is locked and checked again below
    for case_plan in result.cases:
        if not case_plan.ok:
            continue
        try:
            moved = cases.change_version(case_plan.case_id, actor,
                                         lambda change: _move(change, result.target, result.mapping, actor))
        except _Refused as refused:          # the case changed since the dry run: judged as it is now
            moved = refused.case_plan
        except (Conflict, NotFound) as exc:  # changed by someone at the same moment, or gone
            moved = CasePlan(case_plan.case_id, case_plan.reference, case_plan.subject, refusals=[str(exc)])
        except Exception as exc:             # rolled back by cases.change_version: this case stays as it was
            moved = _failed(case_plan.case_id, case_plan.reference, case_plan.subject, exc)
        case_plan.refusals, case_plan.changes, case_plan.migrated = moved.refusals, moved.changes, moved.migrated
    return result


def _resolve(name: str, mapping: dict) -> str:
    """The target's name of a task spec: mapped, or an engine-made spec of a mapped element
    (`task_a.BoundaryEventSplit`), or the same."""
    if name in mapping:
        return mapping[name]
    element, dot, rest = name.partition(".")
    return f"{mapping[element]}.{rest}" if dot and element in mapping else name


def _label(spec) -> str:
    return f"“{spec.bpmn_name}” ({spec.bpmn_id})" if spec.bpmn_name else (spec.bpmn_id or spec.name)


def _is_top(workflow) -> bool:
    return getattr(workflow, "top_workflow", workflow) is workflow


def _check(case, workflow, target, mapping) -> CasePlan:
    """Judge one loaded case against the target (reads only)."""
    result = CasePlan(case.id, case.reference, case.subject)
    spec, subs = state.spec_cache.get(target.id)
    refusals, changes = result.refusals, result.changes
    missing_processes, missing = set(), {}      # element id -> its label, whether the case stands on it
    for task in workflow.get_tasks():
        old = task.task_spec
        process_spec = spec if _is_top(task.workflow) else subs.get(task.workflow.spec.name)
        if task.has_state(ACTIVE | TaskState.ERROR) and old.bpmn_id:
            result.standing.append(_label(old))
        if task.has_state(TaskState.ERROR):
            refusals.append(_l("%(element)s ist fehlgeschlagen: erst wiederholen oder beheben, dann umstellen.",
                               element=_label(old)))
            continue
        if task.has_state(AHEAD):
            continue                           # predicted anew from the target
        if process_spec is None:
            if task.workflow.spec.name not in missing_processes:
                missing_processes.add(task.workflow.spec.name)
                refusals.append(_l("Der Fall läuft im Prozess „%(process)s“, den v%(version)s nicht mehr aufruft.",
                                   process=task.workflow.spec.name, version=target.version))
            continue
        new = process_spec.task_specs.get(_resolve(old.name, mapping))
        if new is None:        # a task's spec must exist in the target, or the case could not be loaded again
            # an engine-made spec (`review.BoundaryEventSplit`) is reported as its element
            element = old.bpmn_id or old.name.partition(".")[0]
            seen = missing.setdefault(element, {"label": element, "active": False})
            seen["label"] = _label(old) if old.bpmn_id else seen["label"]
            seen["active"] = seen["active"] or task.has_state(ACTIVE)
            continue
        if type(new).__name__ != type(old).__name__:
            refusals.append(_l("%(element)s ist hier ein %(old)s, in v%(version)s ein %(new)s.", element=_label(old),
                               old=type(old).__name__, new=type(new).__name__, version=target.version))
            continue
        if task.has_state(ACTIVE) and old.bpmn_id:
            if new.name != old.name:
                changes.append(_l("%(old)s wird zu %(new)s.", old=_label(old), new=_label(new)))
            changed = _changed_attributes(old, new)
            if changed:
                changes.append(_l("%(element)s ändert %(attributes)s; was jetzt offen ist, behält Frist, Gruppen "
                                  "und Bearbeitung.", element=_label(new), attributes=", ".join(changed)))
    for element, seen in missing.items():
        names = {"element": seen["label"], "version": target.version, "id": element}
        target_name = _resolve(element, mapping)
        kept = next((p.task_specs[target_name] for p in (spec, *subs.values()) if target_name in p.task_specs), None)
        if kept is not None:       # the element is there, the engine's split for its boundary events is not
            refusals.append(_l("Der Fall hat %(element)s mit angehefteten Ereignissen durchlaufen; in v%(version)s "
                               "hat es keine mehr.", element=_label(kept), version=target.version))
            continue
        refusals.append(_l("Der Fall steht auf %(element)s, das es in v%(version)s nicht gibt (einem Element "
                           "von v%(version)s zuordnen: %(id)s=neue_id).", **names)
                        if seen["active"] else
                        _l("Der Fall hat %(element)s durchlaufen, das es in v%(version)s nicht gibt (einem "
                           "Element von v%(version)s zuordnen: %(id)s=neue_id).", **names))
    if not refusals:
        changes.append(_l("Die nächsten Schritte folgen v%(version)s.", version=target.version))
    return result


def _changed_attributes(old, new) -> list[str]:
    before, after = state.registry.convert(old), state.registry.convert(new)
    changed = [k for k in sorted(set(before) | set(after))
               if k not in _IGNORED | {"extensions", "name", "bpmn_id"} and before.get(k) != after.get(k)]
    ext_before, ext_after = before.get("extensions") or {}, after.get("extensions") or {}
    for k in sorted(set(ext_before) | set(ext_after)):
        if ext_before.get(k) != ext_after.get(k):
            changed.append(f"camunda:{k}" if k != "properties" else "properties")
    return changed


def _move(change, target, mapping, actor) -> CasePlan:
    """Inside the case's transaction: check again, then point the workflow at the target."""
    case, workflow = change.case, change.workflow
    checked = _check(case, workflow, target, mapping)
    if not checked.ok:
        raise _Refused(checked)
    source = case.definition
    spec, subs = state.spec_cache.get(target.id)
    for task in list(workflow.get_tasks()):
        if task.has_state(AHEAD) and task.parent is not None and not task.parent.has_state(AHEAD) \
                and task.id in task.workflow.tasks:
            task.workflow._remove_task(task.id)        # and what was predicted below it
    workflows = [workflow, *workflow.subprocesses.values()]
    for sub in workflows:
        process_spec = spec if sub is workflow else subs[sub.spec.name]
        for task in sub.tasks.values():
            task.task_spec = process_spec.task_specs[_resolve(task.task_spec.name, mapping)]
        sub.spec = process_spec
    workflow.subprocess_specs = subs
    workflow.definition_id = target.id
    for task in list(workflow.get_tasks(state=ACTIVE)):
        if not task.children:                      # predict the steps ahead from the target
            task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.DEFINITE_MASK)
    case.definition_id, case.definition = target.id, target
    _resync_open_rows(change, target)
    change.log("case_migrated", details={"from": source.version, "to": target.version, "process": target.key,
                                         "mapping": mapping})
    audit.record(actor, case, "case_migrated", {"version": {"old": source.version, "new": target.version},
                                                **({"mapping": {"old": None, "new": mapping}} if mapping else {})})
    checked.migrated = True
    return checked


def _resync_open_rows(change, target):
    """Open task rows name the target's element, title and form version (their deadlines stay)."""
    facts = state.spec_cache.facts(target.id)
    for row in change.open_rows.values():
        task = state.find_task(change.workflow, row.id)
        if task is None:
            continue
        spec = task.task_spec
        form_key = (getattr(spec, "extensions", None) or {}).get("formRef")
        row.element_id, row.title = spec.bpmn_id or spec.name, spec.bpmn_name or spec.bpmn_id or spec.name
        row.documentation, row.lane = spec.documentation, spec.lane
        row.actor = state.properties(spec).get("actor")
        row.process_name, row.form_key = facts.name, form_key
        row.form_version_id = (facts.forms or {}).get(form_key) if form_key else None


class _Refused(Exception):
    def __init__(self, case_plan):
        self.case_plan = case_plan



def migration_page(key, from_version=None, to_version=None, case=None, mapping_text="") -> dict:
    """What the migration page reads: the versions of `key` (NotFound if none) and, when both versions are
    given, the dry run; bad input comes back as `error` ({field: message}) instead of a plan."""
    rows = all_versions(key)
    page = {"key": key, "name": rows[0].name, "versions": rows, "plan": None, "error": {},
            "from_version": from_version if from_version is not None else (rows[1].version if len(rows) > 1 else None),
            "to_version": to_version if to_version is not None else rows[0].version,
            "case": case or "", "mapping_text": mapping_text or ""}
    if from_version is None or to_version is None:
        return page
    try:
        page["plan"] = plan(key, from_version, to_version, case_id=case or None,
                            mapping=parse_mapping((mapping_text or "").splitlines()))
    except (InvalidData, NotFound) as exc:
        page["error"] = {getattr(exc, "field", None) or "case": str(exc)}
    return page
