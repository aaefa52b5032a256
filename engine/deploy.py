"""Deploying process files: validate a whole set, then store new immutable versions.

Nothing is stored unless every file passes: hardened XML parsing, the BPMN schema,
resolvable call activities and decision tables, referenced forms present, and every
expression compilable by the sandbox. Problems name the file, the element id and what
is wrong. A process whose content did not change gets no new version.

One file may be deployed on its own (`with_deployed_context`): it is validated together with
the newest deployed version of everything else, so what it calls or references resolves to
those, and a deployed process that calls or references what it changes gets a new version
too (a process version embeds the specs of what it calls and the decision tables it
evaluates, and pins its forms).
"""
import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS
from sqlalchemy import func, select

from engine import audit, clock, dialect, documents, sandbox, state, timer_starts
from engine.db import db
from engine.errors import DeploymentRejected, Problem
from engine.forms import FormDefinition, FormDefinitionError
from engine.models import (CaseMilestone, DecisionVersion, Deployment, DeployedFile, FormVersion, HumanTask,
                           HumanTaskGroup, MessageSubscription, ProcessDefinition, User)
from engine.parsing import DmnRejected, LotseParser, UnsafeXML, active_content, deep_recursion, parse_xml
from engine.settings import setting

KINDS = {".bpmn": "bpmn", ".dmn": "dmn", ".form": "form"}


@dataclass
class DeployResult:
    deployment: Deployment | None
    created: list = field(default_factory=list)      # new ProcessDefinition versions
    unchanged: list = field(default_factory=list)    # latest versions of given files that already had this content
    forms: list = field(default_factory=list)        # new FormVersion rows
    warnings: list = field(default_factory=list)     # Problems that do not stop the deployment
    decisions: list = field(default_factory=list)    # new DecisionVersion rows
    context: list = field(default_factory=list)      # names of the deployed files with_deployed_context added


def sha256(data) -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def collect_files(paths) -> list[tuple[str, bytes]]:
    """Files and folders given on the command line -> [(name, content)] of .bpmn/.dmn/.form files."""
    files = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend((p.name, p.read_bytes()) for p in sorted(path.rglob("*")) if p.suffix in KINDS)
        elif path.is_file():
            files.append((path.name, path.read_bytes()))
        else:
            raise DeploymentRejected([Problem(str(path), "no such file or folder")])
    return files


def _element_problem(file, exc: ValidationException) -> Problem:
    message = str(exc).split("\n")[0]
    return Problem(exc.file_name or file, message, element_id=getattr(exc, "id", None) or None,
                   line=getattr(exc, "line_number", None) or None)


def _flow_ids(bpmn_docs) -> dict:
    """{(source id, target id, condition text): flow id}, and {(source id, target id): flow id} where only one
    flow joins the two: how a gateway's condition is named by its sequence flow."""
    flows, pairs = {}, {}
    for _name, doc in bpmn_docs:
        for flow in doc.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            pair = (flow.get("sourceRef"), flow.get("targetRef"))
            condition = flow.find(f"{{{BPMN_NS}}}conditionExpression")
            flows[(*pair, (condition.text or "").strip() if condition is not None else "")] = flow.get("id")
            pairs.setdefault(pair, []).append(flow.get("id"))
    flows.update({pair: ids[0] for pair, ids in pairs.items() if len(ids) == 1})
    return flows


def _expressions(spec, flows=None):
    """(element id, kind, source, mode) for every piece of code a task spec will run. A gateway's condition
    is named by its sequence flow (from `flows`, see `_flow_ids`) where it is known."""
    element = spec.bpmn_id or spec.name
    script = getattr(spec, "script", None)
    if script:
        yield element, "script", script, "exec"
    for condition, target in getattr(spec, "cond_task_specs", []) or []:
        if condition is not None:
            flows = flows or {}
            flow = flows.get((element, target, str(condition.args[0]).strip())) or flows.get((element, target), element)
            yield flow, "condition", condition.args[0], "eval"
    event = getattr(spec, "event_definition", None)
    if isinstance(event, TimerEventDefinition):
        yield element, "timer", event.expression, "eval"
    if isinstance(event, MessageEventDefinition):
        if getattr(event, "expression", None):
            yield element, "message payload", event.expression, "eval"
        for prop in event.correlation_properties or []:
            yield element, "correlation", prop.retrieval_expression, "eval"
    if getattr(event, "expression", None) and not isinstance(event, (TimerEventDefinition, MessageEventDefinition)):
        yield element, "event condition", event.expression, "eval"
    for attr in ("cardinality", "condition"):
        value = getattr(spec, attr, None)
        if isinstance(value, str) and value:
            yield element, f"multi-instance {attr}", value, "eval"
    ext = getattr(spec, "extensions", None) or {}
    for listener in ext.get("listeners") or []:
        yield element, f"listener ({listener['event']})", listener["code"], listener["mode"]
    for kind in ("inputs", "outputs"):
        for name, value in ext.get(kind) or []:
            for source in _mapping_expressions(value):
                yield element, f"camunda:{kind[:-1]}Parameter {name}", source, "eval"
    for mapping in (ext.get("callIn") or []) + (ext.get("callOut") or []):
        if mapping.get("expr"):
            yield element, "camunda:in/out sourceExpression", mapping["expr"], "eval"
    service = ext.get("service") or {}
    if service.get("expression"):
        yield element, "camunda:expression", service["expression"], "eval"
    for attr in ("candidateGroups", "candidateUsers", "assignee", "dueDate", "followUpDate", "priority"):
        value = ext.get(attr)
        if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
            yield element, f"camunda:{attr}", value[2:-1], "eval"
    engine = getattr(spec, "dmnEngine", None)
    if engine is not None and hasattr(engine, "decision_table"):     # FEEL decisions were checked as they were read
        table = engine.decision_table
        for column in table.inputs:
            if column.expression:
                yield f"{element} → {table.id}/{column.id}", "DMN input", column.expression, "eval"
        for rule in table.rules:
            for entry in rule.inputEntries:
                for test in entry.lhs:
                    if test is not None:
                        for source in _dmn_test_expressions(engine, entry, test):
                            yield f"{element} → {table.id}/{rule.id}", "DMN input entry", source, "eval"
            for entry in rule.outputEntries:
                if entry.text:
                    yield f"{element} → {table.id}/{rule.id}", "DMN output", entry.text, "eval"


def _mapping_expressions(value):
    if "expr" in value:
        yield value["expr"]
    for item in value.get("list") or []:
        yield from _mapping_expressions(item)
    for _, item in value.get("map") or []:
        yield from _mapping_expressions(item)


class _RecordingScriptEngine:
    """Stands in for the script engine while SpiffWorkflow's DMNEngine turns an input entry into
    the expressions it evaluates, so a deployment checks exactly the code a decision will run."""

    def __init__(self):
        self.expressions = []

    def validate(self, text):
        sandbox.script_engine.validate(text)

    def evaluate(self, task, expression, external_context=None):
        self.expressions.append(expression)


def _dmn_test_expressions(engine, entry, test) -> list[str]:
    """The expressions an input entry's test (`>= 48300`, `"a", "b"`, `4 < ? < 6`) evaluates."""
    recorder = _RecordingScriptEngine()
    task = SimpleNamespace(workflow=SimpleNamespace(script_engine=recorder))
    try:
        engine.evaluate(entry.input.expression or entry.input.label or "None", test, task)
    except SyntaxError:
        return [test]               # not Python in any reading: check_code reports the syntax error
    return recorder.expressions


def _check_literal_dates(element, ext):
    for attr in ("dueDate", "followUpDate"):
        value = ext.get(attr)
        if isinstance(value, str) and value and not value.startswith("${"):
            try:
                from datetime import datetime, timezone
                state.resolve_date(value, {}, datetime.now(timezone.utc))
            except Exception:
                yield f"camunda:{attr} {value!r} is neither an ISO 8601 duration (P14D), a date-time nor ${{expression}}"


@lru_cache(maxsize=None)    # a column's size never changes; reading it through the ORM attribute costs
def _limit(column) -> int:
    return column.type.length


def _too_long(spec):
    """Values of an element that the derived tables could not store (their column sizes), as messages.

    Without this, a diagram deploys and then every case that reaches the element fails to save
    on PostgreSQL, which enforces the sizes (SQLite does not).
    """
    ext = getattr(spec, "extensions", None) or {}
    props = state.properties(spec)
    values = [("element id", spec.bpmn_id, _limit(HumanTask.element_id)),
              ("name", spec.bpmn_name, _limit(HumanTask.title)),
              ("lane", spec.lane, _limit(HumanTask.lane)),
              ("camunda:formRef", ext.get("formRef"), _limit(HumanTask.form_key)),
              ("property actor", props.get("actor"), _limit(HumanTask.actor)),
              ("property milestone", props.get("milestone"), _limit(CaseMilestone.key)),
              ("property milestone_label", props.get("milestone_label"), _limit(CaseMilestone.label))]
    event = getattr(spec, "event_definition", None)
    if isinstance(event, MessageEventDefinition):
        values.append(("message name", event.name, _limit(MessageSubscription.message_name)))
    group_limit = _limit(HumanTaskGroup.group_name)
    for attr, prefix in (("candidateGroups", ""), ("candidateUsers", "user:")):
        value = ext.get(attr) or []
        if isinstance(value, str):
            value = [] if value.startswith("${") else value.split(",")
        values += [(f"camunda:{attr} entry", prefix + item.strip(), group_limit) for item in value if item.strip()]
    for what, value, limit in values:
        if isinstance(value, str) and len(value) > limit:
            yield f"{what} is {len(value)} characters long; at most {limit} can be stored ({value[:40]!r}…)"


BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_RESERVED_IDS = {"Start", "End", "Root"}     # SpiffWorkflow names its own task specs so


def _reserved_ids(file, doc) -> list[Problem]:
    """Elements whose id collides with a task SpiffWorkflow adds to every process (the run would fail)."""
    problems = []
    for process in doc.iter(f"{{{BPMN_NS}}}process"):
        reserved = _RESERVED_IDS | {f"{process.get('id')}.EndJoin"}
        for element in process.iter():
            element_id = element.get("id") if isinstance(element.tag, str) else None
            if element_id in reserved:
                problems.append(Problem(file, f"the id {element_id!r} is reserved by the engine; give this element "
                                              f"another id (for example {element_id.replace('.', '_')}Event)",
                                        element_id=element_id, line=element.sourceline))
    return problems


def screen_xml(name, content: bytes):
    """(document, problems) of a .bpmn or .dmn file before it is read as a model: its size, hardened
    parsing (no DTD, no entities), no active content, and at most DIAGRAM_MAX_ELEMENTS elements."""
    limit = setting("PROCESS_FILE_MAX_BYTES")
    if len(content) > limit:
        return None, [Problem(name, f"the file has {len(content)} bytes; at most {limit} are accepted")]
    try:
        doc = parse_xml(content, name)
    except UnsafeXML as exc:
        return None, [Problem(name, str(exc))]
    except etree.XMLSyntaxError as exc:
        return None, [Problem(name, f"not well-formed XML: {exc.msg}", line=exc.lineno)]
    most = setting("DIAGRAM_MAX_ELEMENTS")
    count = sum(1 for _element in doc.iter())
    if count > most:
        return None, [Problem(name, f"the file has {count} XML elements; at most {most} are accepted in one diagram")]
    foreign = [Problem(name, f"{what} is not allowed in a diagram (active content a browser could run)",
                       element_id=element, line=line) for element, line, what in active_content(doc)]
    return (None, foreign) if foreign else (doc, [])


@dataclass(frozen=True)
class Offer:
    """How a process is offered to people: whether they may start it, and what it is for."""
    startable: bool
    documentation: str | None
    idle_days: int | None = None      # the process's property `idle_days` (engine.oversight)


MAX_IDLE_DAYS = 3650


def _process_idle_days(name, process) -> tuple[int | None, list]:
    """The process-level camunda property `idle_days`: whole days, 1 to MAX_IDLE_DAYS, or unset."""
    path = f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_MODEL_NS}}}properties/{{{CAMUNDA_MODEL_NS}}}property"
    raw = next((prop.get("value") for prop in process.findall(path) if prop.get("name") == "idle_days"), None)
    if raw is None:
        return None, []
    if not raw.strip().isdigit() or not 1 <= int(raw) <= MAX_IDLE_DAYS:
        return None, [Problem(name, f"the property idle_days must be a whole number of days from 1 to "
                                    f"{MAX_IDLE_DAYS}, not {raw!r}", element_id=process.get("id"))]
    return int(raw), []


def validate(files: list[tuple[str, bytes]]):
    """Parse and check a file set. Returns (specs, {process id: file name}, {process id: Offer}, forms) or raises."""

    problems, refusals, forms, names = [], [], {}, set()   # refusals: what the Camunda dialect cannot run
    parser = LotseParser()
    process_files, offered = {}, {}
    bpmn_docs = []
    for name, content in files:
        if name in names:
            problems.append(Problem(name, "the same file name appears twice in one deployment"))
            continue
        names.add(name)
        kind = KINDS.get(Path(name).suffix)
        if kind is None:
            problems.append(Problem(name, "not a .bpmn, .dmn or .form file"))
            continue
        if kind == "form":
            if len(content) > setting("PROCESS_FILE_MAX_BYTES"):
                problems.append(Problem(name, f"the file has {len(content)} bytes; at most "
                                              f"{setting('PROCESS_FILE_MAX_BYTES')} are accepted"))
                continue
            try:
                definition = FormDefinition.from_json(content.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, FormDefinitionError) as exc:
                problems.append(Problem(name, f"invalid form: {exc}"))
                continue
            for comp in definition.required_with_default():
                problems.append(Problem(name, f"form {definition.id!r}, field {comp.key!r} ({comp.label or comp.id}): "
                                              f"it is required, but its default value {comp.default!r} already "
                                              f"satisfies that, so the form could be completed without anyone "
                                              f"entering it; remove the default value or make the field optional",
                                        element_id=comp.id))
            if not definition.id:
                problems.append(Problem(name, "the form has no id (camunda:formRef refers to it by id)"))
            elif definition.id in forms:
                problems.append(Problem(name, f"form id {definition.id!r} is also used by {forms[definition.id][0]}"))
            else:
                forms[definition.id] = (name, content, definition)
            continue
        doc, screened = screen_xml(name, dialect.namespaces(content) if kind == "bpmn" else content)
        if screened:
            problems += screened
            continue
        if kind == "bpmn":
            refused, generated_forms = dialect.prepare(doc, name)
            refusals += refused
            if any(problem.element_id is None for problem in refused):
                continue        # the file as a whole cannot be read; otherwise its other problems are listed too
            for form_id, schema in generated_forms.items():
                content = json.dumps(schema, sort_keys=True)
                try:
                    definition = FormDefinition.from_json(content)
                except FormDefinitionError as exc:
                    problems.append(Problem(name, f"camunda:formData: {exc}", element_id=form_id.split(".")[-1]))
                    continue
                forms[form_id] = (f"{name} ({form_id})", content.encode(), definition)
        try:
            if kind == "bpmn":
                parser.add_bpmn_xml(doc, name)
                bpmn_docs.append((name, doc))
            else:
                parser.add_dmn_xml(doc, name)
        except ValidationException as exc:
            problems.append(_element_problem(name, exc))
        except DmnRejected as exc:
            problems += [Problem(name, message) for message in exc.problems]
        except Exception as exc:      # the library raises assorted errors on malformed models
            problems.append(Problem(name, f"{type(exc).__name__}: {exc}"))
    flows = _flow_ids(bpmn_docs)
    for name, doc in bpmn_docs:
        problems += _reserved_ids(name, doc)
        for process in doc.iter(f"{{{BPMN_NS}}}process"):
            pid = process.get("id")
            if pid in process_files:
                problems.append(Problem(name, f"process id {pid!r} is also defined in {process_files[pid]}",
                                        element_id=pid))
            process_files[pid] = name
            # Camunda 7's attribute (default true): false for parts of a journey that only a caller or a message
            # starts, so "Neuer Fall" does not offer them. The documentation says what the process is for.
            idle_days, idle_problems = _process_idle_days(name, process)
            problems += idle_problems
            offered[pid] = Offer(
                idle_days=idle_days,
                startable=process.get(f"{{{CAMUNDA_MODEL_NS}}}isStartableInTasklist", "true") != "false",
                documentation=next((child.text.strip() for child in process if child.tag == f"{{{BPMN_NS}}}documentation"
                                    and child.text and child.text.strip()), None))
    if problems:
        raise DeploymentRejected(_with_refusals(refusals, problems))

    deployed = set(db.session.scalars(select(FormVersion.key).distinct()))
    known_forms = {key: key for key in [*deployed, *forms]}
    known_forms.update({form_name: key for key, (form_name, _, _) in forms.items()})
    specs = {}
    with deep_recursion():
        for pid, name in process_files.items():
            try:
                specs[pid] = (parser.get_spec(pid), parser.get_subprocess_specs(pid))
            except ValidationException as exc:
                problems.append(_element_problem(name, exc))
            except RecursionError:
                problems.append(Problem(name, "the process is too deeply nested to parse", element_id=pid))
    checked = set()
    for pid, (spec, subprocess_specs) in specs.items():
        name = process_files[pid]
        for what, value, limit in (("process id", pid, _limit(ProcessDefinition.key)),
                                   ("process name", spec.description, _limit(ProcessDefinition.name))):
            if value and len(value) > limit:
                problems.append(Problem(name, f"{what} is {len(value)} characters long; at most {limit} can be "
                                              f"stored", element_id=pid))
        for task_spec in timer_starts.timer_start_events(spec):       # the process's own start events only
            try:
                timer_starts.first_fire(task_spec, clock.now())
            except timer_starts.TimerStartError as exc:
                problems.append(Problem(name, f"timer start event: {exc}", element_id=task_spec.bpmn_id))
        starts = [t for t in spec.task_specs.values() if isinstance(t, StartEvent)]
        if starts and all(isinstance(t.event_definition, SignalEventDefinition) for t in starts):
            problems.append(Problem(name, "the process starts only on a signal, and nothing outside a case sends "
                                          "signals in Lotse: no case of it could ever start; use a message start "
                                          "event (`lotse correlate`) or a plain start event",
                                    element_id=starts[0].bpmn_id))
        # The process and its embedded subprocesses, at every depth; a called process is checked as its own.
        for process in [spec, *subprocess_specs.values()]:
            if process is None or process.name in checked or (process is not spec and process.name in process_files):
                continue
            checked.add(process.name)
            problems += _task_problems(getattr(process, "file", None) or name, process, known_forms, flows)
    if problems or refusals:
        raise DeploymentRejected(_with_refusals(refusals, problems))
    return specs, process_files, offered, forms


def _with_refusals(refusals, problems) -> list[Problem]:
    """The dialect's refusals, then the other problems, less those of an element the dialect refused already
    (reading it as it stands repeats the refusal in other words)."""
    refused = {(problem.file, problem.element_id) for problem in refusals}
    return refusals + [problem for problem in problems if (problem.file, problem.element_id) not in refused]


def _task_problems(name, process, known_forms, flows=None) -> list[Problem]:
    """What is wrong with the elements of one process or embedded subprocess (file `name`)."""
    problems = []
    for task_spec in process.task_specs.values():
        for message in _too_long(task_spec):
            problems.append(Problem(name, message, element_id=task_spec.bpmn_id))
        for message in documents.problems(state.properties(task_spec)):
            problems.append(Problem(name, message, element_id=task_spec.bpmn_id))
        ext = getattr(task_spec, "extensions", None) or {}
        for element, kind, source, mode in _expressions(task_spec, flows):
            if not source or not str(source).strip():
                problems.append(Problem(name, f"empty {kind}", element_id=element))
                continue
            reason = sandbox.check_code(str(source), mode) or sandbox.unknown_calls(str(source), mode)
            if reason:
                problems.append(Problem(name, f"{kind} {source!r} cannot run: {reason}", element_id=element))
        problem = _resolve_form(ext, known_forms)
        if problem:
            problems.append(Problem(name, problem, element_id=task_spec.bpmn_id))
        for message in _check_literal_dates(task_spec.bpmn_id, ext):
            problems.append(Problem(name, message, element_id=task_spec.bpmn_id))
    return problems


def _resolve_form(ext, known_forms) -> str | None:
    """Point the task's formRef at a known form id; returns a problem, or None.

    `known_forms` maps form ids and the file names of the deployment's forms (`x.form`) to ids. A
    camunda:formRef, or a formKey naming a form-js file (`camunda-forms:…`), must be found. Any other
    camunda:formKey (embedded HTML, JSF, a name) falls back to the form generated from camunda:formData,
    or else to a generic completion page: `formIgnored` keeps the key for the deploy warning.
    """
    ref, generated_form = ext.get("formRef"), ext.get("generatedForm")
    attribute = ext.get("formAttribute", "camunda:formRef")
    if ref:
        found = known_forms.get(ref) or (known_forms.get(ref[:-5]) if ref.endswith(".form") else None)
        if found:
            ext["formRef"] = found
            return None
        if attribute == "camunda:formRef" or ext.get("camundaForms"):
            return f"form {ext.get('camundaForms') or ref!r} ({attribute}) is not deployed and not in this deployment"
        del ext["formRef"]
        if not generated_form:
            ext["formIgnored"] = ref
    if generated_form:
        ext["formRef"] = generated_form
    return None


def form_warnings(name, processes) -> list[Problem]:
    """Tasks whose camunda:formKey names no form Lotse has: they show a generic completion page."""
    warnings = []
    for process in processes:
        for task_spec in process.task_specs.values():
            ignored = (getattr(task_spec, "extensions", None) or {}).get("formIgnored")
            if ignored:
                warnings.append(Problem(name, f"camunda:formKey {ignored!r} names no deployed form-js form (embedded "
                                              "and external forms cannot be shown): the task shows a generic "
                                              "completion page with its documentation and the case data",
                                        element_id=task_spec.bpmn_id))
    return warnings


# ------------------------------------------------------------------ one file on its own: the deployed context

@lru_cache(maxsize=256)     # every deploy reads what each deployed file defines, and those rarely change
def defines(name, content) -> frozenset:
    """What a file defines, as ("process" | "decision" | "form", id) pairs. A file that cannot be read
    defines nothing here; `validate` reports it."""
    kind = KINDS.get(Path(name).suffix)
    if kind == "form":
        try:
            form_id = json.loads(content).get("id")
        except (ValueError, AttributeError, UnicodeDecodeError):
            return frozenset()
        return frozenset({("form", form_id)} if isinstance(form_id, str) else ())
    try:
        doc = parse_xml(content, name)
    except (UnsafeXML, etree.XMLSyntaxError):
        return frozenset()
    wanted = {"bpmn": "process", "dmn": "decision"}.get(kind)
    return frozenset((wanted, element.get("id")) for element in doc.iter(f"{{*}}{wanted}") if element.get("id"))


def _deployed_files():
    """The source files of the newest version of every process and decision: [(name, content)], each file once."""
    newest_processes = select(ProcessDefinition.source_file_id).where(ProcessDefinition.id.in_(
        select(func.max(ProcessDefinition.id)).group_by(ProcessDefinition.key)))
    newest_decisions = select(DecisionVersion.source_file_id).where(DecisionVersion.id.in_(
        select(func.max(DecisionVersion.id)).group_by(DecisionVersion.key)))
    rows = db.session.execute(select(DeployedFile.name, DeployedFile.content).where(
        DeployedFile.id.in_(newest_processes.union(newest_decisions))).order_by(DeployedFile.id.desc())).all()
    return [(name, content.encode("utf-8")) for name, content in rows]


def with_deployed_context(files) -> tuple[list, list]:
    """`files` plus the newest deployed files of every other process and decision: (all files, added names).

    The set is then parsed as a whole, as if everything had been deployed together: what the files
    call or reference resolves to the deployed versions, SpiffWorkflow sees the same collaboration
    (message correlations are read across files), and a deployed process gets a new version exactly
    when what it embeds changed (a called process, a decision table, a form), by its checksum. A
    deployed file that defines something the set defines, or has the name of one of its files, is
    left out: the set replaces it."""
    names = {name for name, _content in files}
    defined = set().union(*(defines(name, content) for name, content in files))
    added = []
    for name, content in _deployed_files():
        if name in names:
            continue
        if defines(name, content) & defined:
            continue
        names.add(name)
        added.append((name, content))
    return list(files) + added, [name for name, _content in added]


def _forms_used(spec, subprocess_specs) -> set[str]:
    used = set()
    for s in [spec, *subprocess_specs.values()]:
        for task_spec in s.task_specs.values():
            ref = (getattr(task_spec, "extensions", None) or {}).get("formRef")
            if ref:
                used.add(ref)
    return used


def _latest(model, key):
    return db.session.scalar(select(model).where(model.key == key).order_by(model.version.desc()).limit(1))


def _newest(model, keys) -> dict:
    """key -> the newest version of each of `keys` that has one: one query, where `_latest` would ask per key."""
    newest = (select(model.key, func.max(model.version).label("version")).where(model.key.in_(set(keys)))
              .group_by(model.key).subquery())
    return {row.key: row for row in db.session.scalars(select(model).join(
        newest, (model.key == newest.c.key) & (model.version == newest.c.version)))}


def deploy(files: list[tuple[str, bytes]], user=None, note: str | None = None) -> DeployResult:
    """Validate `files` with the deployed files they need (`with_deployed_context`) as a whole and store
    what changed, with the deployer's change `note` and an audit entry. Raises DeploymentRejected,
    storing nothing."""
    if not files:
        raise DeploymentRejected([Problem("(none)", "no .bpmn, .dmn or .form files given")])
    files, context = with_deployed_context(files)
    specs, process_files, offered, forms = validate(files)
    checksums = {name: sha256(content) for name, content in files}

    deployment = Deployment(created_by_id=getattr(user, "id", None), note=(note or "").strip() or None,
                            checksum=sha256("".join(sorted(checksums.values()))))
    db.session.add(deployment)
    db.session.flush()
    contents, stored_files = dict(files), {}

    def stored(name, flush=True) -> DeployedFile:
        """The deployment's row of file `name`: every given file, and a deployed one only where a new version
        comes from it (the rest were only read)."""
        if name not in stored_files:
            stored_files[name] = DeployedFile(deployment_id=deployment.id, name=name, kind=KINDS[Path(name).suffix],
                                              checksum=checksums[name], content=contents[name].decode("utf-8"))
            db.session.add(stored_files[name])
            if flush:
                db.session.flush()
        return stored_files[name]

    for name, _content in files:
        if name not in context:
            stored(name, flush=False)
    db.session.flush()          # the given files' rows together: one INSERT for all
    result = DeployResult(deployment, context=context)
    result.decisions = _version_decisions(files, checksums, stored, deployment)

    form_ids, newest_forms = {}, _newest(FormVersion, forms)
    for key, (name, content, definition) in forms.items():
        latest = newest_forms.get(key)
        checksum = checksums.get(name) or sha256(content)       # a form generated from camunda:formData has no file
        if latest is not None and latest.checksum == checksum:
            form_ids[key] = latest
            continue
        row = FormVersion(key=key, version=(latest.version + 1) if latest else 1, checksum=checksum,
                          deployment_id=deployment.id, schema=json.loads(content))
        db.session.add(row)
        form_ids[key] = row
        result.forms.append(row)
    db.session.flush()

    for pid, (spec, subprocess_specs) in sorted(specs.items()):
        spec_json = state.dump_specs(spec, subprocess_specs)
        form_map = {}
        for ref in sorted(_forms_used(spec, subprocess_specs)):
            form = form_ids.get(ref) or _latest(FormVersion, ref)
            form_map[ref] = form.id
        form_checksums = [db.session.get(FormVersion, fid).checksum for fid in form_map.values()]
        checksum = sha256(spec_json + checksums[process_files[pid]] + "".join(form_checksums))
        latest = _latest(ProcessDefinition, pid)
        if latest is not None and latest.checksum == checksum:
            if process_files[pid] not in context:       # the deployed context is not news
                result.unchanged.append(latest)
            continue
        start_events = [t for t in spec.task_specs.values() if isinstance(t, StartEvent)]
        message_starts = sorted({t.event_definition.name for t in start_events
                                 if isinstance(t.event_definition, MessageEventDefinition)})
        plain_start = next((t for t in start_events if isinstance(t.event_definition, NoneEventDefinition)), None)
        row = ProcessDefinition(
            key=pid, version=(latest.version + 1) if latest else 1, name=spec.description or pid,
            checksum=checksum, deployment_id=deployment.id, source_file_id=stored(process_files[pid]).id,
            spec_json=spec_json, forms=form_map, message_starts=message_starts,
            startable=offered[pid].startable and plain_start is not None,
            documentation=offered[pid].documentation, idle_days=offered[pid].idle_days,
            start_form=((plain_start.extensions or {}).get("formRef") if plain_start is not None else None))
        db.session.add(row)
        result.created.append(row)
        db.session.flush()
        timer_starts.schedule(row, spec)
    db.session.flush()
    for pid, (spec, subprocess_specs) in sorted(specs.items()):
        if process_files[pid] in context:         # the deployed context was warned about when it was deployed
            continue
        own = [spec, *(s for s in subprocess_specs.values() if s.name not in process_files)]   # a called one has its own
        result.warnings += _identity_warnings(process_files[pid], own)
        result.warnings += form_warnings(process_files[pid], own)
        result.warnings += call_warnings(process_files[pid], own)
    audit.record_deployment(user, result)
    return result


def call_warnings(name, processes) -> list[Problem]:
    """Call activities that name no camunda:in or camunda:out. Lotse passes the case's variables in and the
    changed ones back, where Camunda 7 passes none; versions already deployed and running rely on Lotse's
    reading, so it stays, and the deploy says so (`variables="all"` states it and silences this)."""
    warnings = []
    for process in processes:
        for task_spec in process.task_specs.values():
            if not isinstance(task_spec, CallActivity) or task_spec.spec == task_spec.bpmn_id:   # embedded
                continue
            ext = getattr(task_spec, "extensions", None) or {}
            missing = [f"camunda:{kind}" for kind in ("in", "out") if not ext.get(f"call{kind.title()}")]
            if missing:
                warnings.append(Problem(name, f"the call activity names no {' and no '.join(missing)}: Lotse passes "
                                              "all variables (Camunda 7 passes none); write camunda:in/camunda:out "
                                              "variables=\"all\" to say so, or name the variables to pass",
                                        element_id=task_spec.bpmn_id))
    return warnings


def _version_decisions(files, checksums, stored, deployment) -> list[DecisionVersion]:
    """A new DecisionVersion for each decision whose file differs from its newest version's."""
    rows = []
    docs = [(name, parse_xml(content, name)) for name, content in files if KINDS.get(Path(name).suffix) == "dmn"]
    newest = _newest(DecisionVersion, [element.get("id") for _name, doc in docs for element in doc.iter("{*}decision")])
    for name, doc in docs:
        for element in doc.iter("{*}decision"):
            key = element.get("id")
            latest = newest.get(key)
            if latest is not None and latest.checksum == checksums[name]:
                continue
            row = newest[key] = DecisionVersion(key=key, version=(latest.version + 1) if latest else 1,
                                                name=(element.get("name") or key)[:200], checksum=checksums[name],
                                                deployment_id=deployment.id, source_file_id=stored(name).id)
            db.session.add(row)
            rows.append(row)
    db.session.flush()
    return rows


def _identity_warnings(name, processes) -> list[Problem]:
    """User tasks whose people cannot be found: no candidate at all, or an assignee or candidate user who is no
    active user (Camunda's examples assign to `demo`). The task still opens, for its groups or the advisors."""
    active = set(db.session.scalars(select(User.username).where(User.active.is_(True))))
    warnings, seen = [], set()
    for process in processes:
        for task_spec in process.task_specs.values():
            ext = getattr(task_spec, "extensions", None) or {}
            if task_spec.bpmn_id in seen or not getattr(task_spec, "manual", False):
                continue
            seen.add(task_spec.bpmn_id)
            groups, users, assignee = ext.get("candidateGroups"), ext.get("candidateUsers"), ext.get("assignee")
            unknown = [u for u in ([assignee] if isinstance(assignee, str) and not assignee.startswith("${") else [])
                       + (users if isinstance(users, list) else []) if u not in active]
            for username in unknown:
                warnings.append(Problem(name, f"the user {username!r} (camunda:assignee or camunda:candidateUsers) is "
                                              "no active user", element_id=task_spec.bpmn_id))
            if not groups and not users and (not assignee or unknown == [assignee]):
                warnings.append(Problem(name, f"the task names no candidate group and no known assignee: it is "
                                              f"offered to the center's advisors (group "
                                              f"{state.DEFAULT_CANDIDATE_GROUP!r})", element_id=task_spec.bpmn_id))
    return warnings


def deploy_paths(paths, user=None, note=None) -> DeployResult:
    return deploy(collect_files(paths), user=user, note=note)


def latest_definitions():
    """The newest version of every process key."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    return db.session.scalars(select(ProcessDefinition).join(
        newest, (ProcessDefinition.key == newest.c.key) & (ProcessDefinition.version == newest.c.version))
        .order_by(ProcessDefinition.key)).all()


def latest_definition(key):
    return _latest(ProcessDefinition, key)
