"""Where a journey stands, in plain language: its milestones, who acts now, each party's next step.

Process owners mark milestones in the diagrams with `camunda:properties` on any element:

    <camunda:property name="milestone" value="power_of_attorney"/>          the key (stable, stored)
    <camunda:property name="milestone_label" value="Vollmacht liegt vor"/>   German, the source language
    <camunda:property name="milestone_label:en" value="Power of attorney signed"/>
    <camunda:property name="milestone_label:ar" value="…"/>                   any further language

and translate step names the same way (`name:en`, `name:ar` on a task or event). So translations
travel with the process version, not with the app. A label is looked up in the requested language,
then English, then German (`milestone_label`), then the element's name.

Who acts on a step (`party`): the element's `actor` property (`employer`, `worker`, `center`,
`authority`) and the parties of its candidate groups (`employer` → the firm; staff groups → the
Welcome Center, when no actor is named).

Nothing here loads a workflow: the plan (the milestones of a process version in diagram order,
called processes included) comes from the version's parsed specs, cached per version (versions never
change); where a case stands comes from the derived tables (open tasks, timers and messages it waits
for) and its reached milestones (`case_milestone`, written with the `milestone` event of the log).
`journeys` reads any number of cases in four statements. Callers check access first.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from engine import state
from engine.db import db
from engine.errors import UnreadableDefinition
from engine.models import Case, CaseMilestone, HumanTask, MessageSubscription, WaitingTimer
from engine.models.statuses import CaseStatus, TaskStatus

PARTIES = ("employer", "worker", "center", "authority")     # the order "who acts now" lists them in
GROUP_PARTIES = {"employer": "employer", "worker": "worker", "advisor": "center", "supervisor": "center",
                 "admin": "center"}
FALLBACK_LANGUAGES = ("en", "de")


def text(props: dict, base: str, language: str, default: str = "") -> str:
    """A translated property: `base:<language>`, then `base:en`, then `base` (German), then `default`."""
    for lang in (language, *FALLBACK_LANGUAGES):
        value = props.get(base if lang == "de" else f"{base}:{lang}")
        if value:
            return value
    return props.get(base) or default


def owners(actor: str | None, candidate_groups=(), is_task: bool = True) -> tuple[str, ...]:
    """Whose step it is to take: for a user task, the parties of its candidate groups (the firm and the
    center act through their accounts), plus its actor where that party has no accounts (the worker, an
    authority); for an event the case waits for, its actor."""
    found = {GROUP_PARTIES[g] for g in candidate_groups or () if g in GROUP_PARTIES} if is_task else set()
    if actor in (("worker", "authority") if is_task else PARTIES):
        found.add(actor)
    return tuple(p for p in PARTIES if p in found)


def parties(actor: str | None, candidate_groups=()) -> tuple[str, ...]:
    """Who acts on a step: its actor, the firm where its candidates include the employer group, and the
    Welcome Center where staff groups are its candidates and it names no actor."""
    found = {actor} if actor in PARTIES else set()
    for group in candidate_groups or ():
        party = GROUP_PARTIES.get(group)
        if party == "center" and found:
            continue
        if party:
            found.add(party)
    return tuple(p for p in PARTIES if p in found)


# --------------------------------------------------------------------------- the plan of a version

@dataclass(frozen=True)
class PlannedMilestone:
    key: str
    element_id: str
    props: dict                    # the element's properties (its labels in every language)
    name: str                      # the element's name (last fallback)
    at_end: bool = False           # on an end event: an outcome, named ahead only when nothing else is

    def label(self, language: str) -> str:
        return text(self.props, "milestone_label", language, self.name or self.key)


@dataclass
class Plan:
    """The milestones of a process version in diagram order, and its flow graph (called processes inlined)."""
    milestones: list[PlannedMilestone]
    edges: dict                     # node -> [node]; a node is (process id, task spec name)
    nodes_of: dict                  # element id -> [node]
    milestone_at: dict              # node -> PlannedMilestone
    props_of: dict                  # element id -> properties (first found)
    name_of: dict                   # element id -> element name
    elements: list[str] = field(default_factory=list)   # element ids in diagram order

    def index(self, key: str) -> int:
        return next((i for i, m in enumerate(self.milestones) if m.key == key), len(self.milestones))

    def milestone(self, key: str) -> PlannedMilestone | None:
        return next((m for m in self.milestones if m.key == key), None)


def _build_plan(spec, subprocess_specs) -> Plan:
    specs = {spec.name: spec, **subprocess_specs}
    edges, nodes_of, milestone_at, props_of, name_of = {}, {}, {}, {}, {}
    for process_id, process in specs.items():
        for name, task_spec in process.task_specs.items():
            node = (process_id, name)
            called = getattr(task_spec, "spec", None)
            inner = getattr(task_spec, "task_spec", None)          # a multi-instance names its child
            if not isinstance(called, str) and isinstance(inner, str) and inner in process.task_specs:
                called = getattr(process.task_specs[inner], "spec", None)
            outputs = [(process_id, o.name) for o in task_spec.outputs]
            if isinstance(called, str) and called in specs:       # a call activity or subprocess: through it
                edges[node] = [(called, "Start")]
                edges.setdefault((called, "End"), []).extend(outputs)
            else:
                edges.setdefault(node, []).extend(outputs)
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if not bpmn_id:
                continue
            nodes_of.setdefault(bpmn_id, []).append(node)
            props = state.properties(task_spec)
            props_of.setdefault(bpmn_id, props)
            name_of.setdefault(bpmn_id, task_spec.bpmn_name or "")
            if props.get("milestone"):
                milestone_at[node] = PlannedMilestone(props["milestone"], bpmn_id, dict(props),
                                                      task_spec.bpmn_name or "",
                                                      at_end=type(task_spec).__name__ == "EndEvent")
    ordered, seen_keys, elements = [], set(), {}
    for node in _walk(edges, [(spec.name, "Start")]):
        bpmn_id = getattr(specs[node[0]].task_specs.get(node[1]), "bpmn_id", None)
        if bpmn_id:
            elements.setdefault(bpmn_id, None)          # a dict keeps the order and each id once
        found = milestone_at.get(node)
        if found is not None and found.key not in seen_keys:
            seen_keys.add(found.key)
            ordered.append(found)
    return Plan(ordered, edges, nodes_of, milestone_at, props_of, name_of, list(elements))


def _walk(edges, sources):
    """Nodes reachable from `sources`, breadth first (the diagram's order), each once."""
    seen, queue = set(sources), deque(sources)
    while queue:
        node = queue.popleft()
        yield node
        for following in edges.get(node, ()):
            if following not in seen:
                seen.add(following)
                queue.append(following)


def plan(definition_id: int) -> Plan:
    """The plan of a process version, kept with its specs in `state.spec_cache` (versions never change).
    A version whose specs cannot be read has an empty plan: the pages of its cases show the rest
    (the case page says why milestones and the checklist are missing)."""
    try:
        spec, subprocess_specs = state.spec_cache.get(definition_id)
    except UnreadableDefinition:
        return Plan([], {}, {}, {}, {}, {})
    found = getattr(spec, "lotse_plan", None)
    if found is None:
        found = spec.lotse_plan = _build_plan(spec, subprocess_specs)
    return found


# --------------------------------------------------------------------------- a case's standing

@dataclass(frozen=True)
class Milestone:
    key: str
    label: str                      # in the language asked for
    status: str                     # done | current | next
    reached_at: datetime | None = None


@dataclass(frozen=True)
class Step:
    """Something open now: a user task, or an event the case waits for."""
    title: str                      # the element's name as in the diagram (German)
    label: str                      # in the language asked for, from the diagram (`name:<lang>`); else == title
    translated: bool                # whether `label` came from the diagram (else translate `title` elsewhere)
    parties: tuple[str, ...]        # who acts on it ("who acts now")
    owners: tuple[str, ...]         # whose step it is to take (a party's own list; see `owners`)
    due_at: datetime | None
    task_id: str | None = None      # a human task's id; None for a timer or message
    element_id: str = ""
    kind: str = "task"              # task | timer | message


@dataclass
class Journey:
    """Where one case stands, for the language asked for."""
    case: Case
    done: list[Milestone]           # reached, in the order reached, with the date
    current: Milestone | None       # the nearest milestone ahead of what is open now
    next: Milestone | None          # the one after it
    steps: list[Step] = field(default_factory=list)     # everything open now, by due date

    @property
    def has_milestones(self) -> bool:
        return bool(self.done or self.current or self.next)

    @property
    def acting(self) -> list[str]:
        """Who acts now (employer, worker, center, authority), in that order."""
        found = {p for step in self.steps for p in step.parties}
        return [p for p in PARTIES if p in found]

    def steps_of(self, party: str) -> list[Step]:
        """The party's own steps, due first: only these are named to the party (the others' are theirs)."""
        return [s for s in self.steps if party in s.owners]

    def next_step(self, party: str) -> Step | None:
        """The party's open step that is due first (undated ones last)."""
        own = self.steps_of(party)
        return own[0] if own else None


def _by_due(step: Step):
    return (step.due_at is None, step.due_at or datetime.max, step.title)


def journeys(cases: list[Case], language: str = "de") -> list[Journey]:
    """Where each case stands (in the order given): four statements for any number of cases."""
    ids = [c.id for c in cases]
    if not ids:
        return []
    reached: dict[int, list[CaseMilestone]] = {i: [] for i in ids}
    for row in db.session.scalars(select(CaseMilestone).where(CaseMilestone.case_id.in_(ids))
                                  .order_by(CaseMilestone.reached_at, CaseMilestone.id)):
        reached[row.case_id].append(row)
    tasks: dict[int, list] = {i: [] for i in ids}
    for row in db.session.execute(select(HumanTask.case_id, HumanTask.id, HumanTask.element_id, HumanTask.title,
                                         HumanTask.actor, HumanTask.candidate_groups, HumanTask.due_at)
                                  .where(HumanTask.case_id.in_(ids), HumanTask.state == TaskStatus.OPEN)):
        tasks[row.case_id].append(row)
    timers: dict[int, list] = {i: [] for i in ids}
    for row in db.session.execute(select(WaitingTimer.case_id, WaitingTimer.element_id, WaitingTimer.name,
                                         WaitingTimer.actor, WaitingTimer.due_at)
                                  .where(WaitingTimer.case_id.in_(ids))):
        timers[row.case_id].append(row)
    messages: dict[int, list] = {i: [] for i in ids}
    for row in db.session.execute(select(MessageSubscription.case_id, MessageSubscription.element_id)
                                  .where(MessageSubscription.case_id.in_(ids))):
        messages[row.case_id].append(row)
    return [_journey(c, language, reached[c.id], tasks[c.id], timers[c.id], messages[c.id]) for c in cases]


def journey(case: Case, language: str = "de") -> Journey:
    return journeys([case], language)[0]


def _step(the_plan: Plan, language, element_id, title, actor, groups, due_at, task_id, kind) -> Step:
    props = the_plan.props_of.get(element_id, {})
    # German is the element's own name; other languages come from `name:<lang>`, else English
    label = text(props, "name", language) if language != "de" and any(k.startswith("name:") for k in props) else ""
    return Step(title=title, label=label or title, translated=bool(label), parties=parties(actor, groups),
                owners=owners(actor, groups, kind == "task"), due_at=due_at, task_id=task_id,
                element_id=element_id, kind=kind)


def _journey(case, language, reached, tasks, timers, messages) -> Journey:
    the_plan = plan(case.definition_id)
    steps = [_step(the_plan, language, t.element_id, t.title, t.actor, t.candidate_groups, t.due_at, t.id, "task")
             for t in tasks]
    steps += [_step(the_plan, language, t.element_id, t.name, t.actor, (), t.due_at, None, "timer") for t in timers]
    for m in messages:
        props = the_plan.props_of.get(m.element_id, {})
        steps.append(_step(the_plan, language, m.element_id, the_plan.name_of.get(m.element_id) or m.element_id,
                           props.get("actor"), (), None, None, "message"))
    steps.sort(key=_by_due)

    done, reached_keys = [], set()
    for row in reached:
        if row.key in reached_keys:
            continue
        reached_keys.add(row.key)
        planned = the_plan.milestone(row.key)
        done.append(Milestone(row.key, planned.label(language) if planned else row.label, "done", row.reached_at))

    current = next_ = None
    if case.status == CaseStatus.ACTIVE:
        sources = [n for s in steps for n in the_plan.nodes_of.get(s.element_id, ())]
        ahead = _ahead(the_plan, sources, reached_keys)
        if ahead:
            current = Milestone(ahead[0].key, ahead[0].label(language), "current")
            after = _ahead(the_plan, the_plan.nodes_of.get(ahead[0].element_id, ()), reached_keys | {ahead[0].key},
                           skip_sources=True)
            if after:
                next_ = Milestone(after[0].key, after[0].label(language), "next")
    return Journey(case=case, done=done, current=current, next=next_, steps=steps)


def _ahead(the_plan: Plan, sources, reached_keys, skip_sources=False) -> list[PlannedMilestone]:
    """Milestones not yet reached on the way from `sources`, nearest first (ties in diagram order); those on
    end events last: an end is one outcome among others (the journey closed early, the visa refused), so
    it is named as ahead only when nothing else is."""
    found, distance = {}, {}
    seen = set(sources)
    queue = deque((s, 0) for s in sources)
    while queue:
        node, hops = queue.popleft()
        milestone = the_plan.milestone_at.get(node)
        if milestone is not None and milestone.key not in reached_keys and not (skip_sources and hops == 0):
            if milestone.key not in found:
                found[milestone.key], distance[milestone.key] = milestone, hops
        for following in the_plan.edges.get(node, ()):
            if following not in seen:
                seen.add(following)
                queue.append((following, hops + 1))
    return sorted(found.values(), key=lambda m: (m.at_end, distance[m.key], the_plan.index(m.key)))
