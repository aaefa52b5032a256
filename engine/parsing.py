"""The Camunda 7 dialect as Lotse reads it.

SpiffWorkflow's `CamundaParser` keeps `camunda:properties` but drops the attributes process
owners use most: candidate groups and users, assignee, due and follow-up dates, priority and
`formRef`. `LotseParser` subclasses each of its node parsers (no fork) so every task spec's
`extensions` holds one predictable dict:

    {"properties": {"actor": "center", "milestone": ...},      # camunda:properties, all elements
     "candidateGroups": ["advisor"], "candidateUsers": [],      # user tasks only
     "assignee": "anna" | "${expr}", "dueDate": "P14D" | ISO | "${expr}",
     "followUpDate": ..., "priority": "50", "formRef": "intake"}

XML is parsed with a hardened parser: no DTDs, no entities, no network.
"""
import sys
import threading
from contextlib import contextmanager
from datetime import datetime
from typing import NamedTuple

from copy import copy, deepcopy

import defusedxml
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from xml.parsers import expat
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.exceptions import WorkflowDataException, WorkflowTaskException
from SpiffWorkflow.bpmn.parser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs import control, defaults as bpmn_specs
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import (
    ConditionalEventDefinition as LibraryConditionalEventDefinition)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimeDateEventDefinition
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS
from SpiffWorkflow.camunda.specs import multiinstance_task as camunda_mi
from SpiffWorkflow.dmn.parser.DMNParser import DMNParser
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask as CamundaBusinessRuleTask
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine import casedata, clock, cron, dialect, dmn
from engine.feel import FeelError
from engine.models.statuses import NoticeKind

USER_TASK_ATTRIBUTES = ("candidateGroups", "candidateUsers", "assignee", "dueDate", "followUpDate",
                        "priority", "formRef", "formKey")
LIST_ATTRIBUTES = ("candidateGroups", "candidateUsers")
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                            remove_comments=False, huge_tree=False)


class UnsafeXML(ValueError):
    pass


def _forbid_dtd(name, sysid, pubid, has_internal_subset):
    raise DTDForbidden(name, sysid, pubid)


def _forbid_entity(name, is_parameter_entity, value, base, sysid, pubid, notation_name):
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation_name)


def _forbid_unparsed_entity(name, base, sysid, pubid, notation_name):
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation_name)


def _forbid_external(context, base, sysid, pubid):
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def parse_xml(content: bytes, filename: str):
    """Parse untrusted XML: a DOCTYPE (and so any entity trick) is refused outright.

    The refusal is defusedxml's (its handlers and exceptions, forbid_dtd, forbid_entities, forbid_external) on a
    bare expat parser: defusedxml's ElementTree.fromstring would also build a tree in Python, only to drop it."""
    screen = expat.ParserCreate(None, "}")
    screen.StartDoctypeDeclHandler = _forbid_dtd
    screen.EntityDeclHandler = _forbid_entity
    screen.UnparsedEntityDeclHandler = _forbid_unparsed_entity
    screen.ExternalEntityRefHandler = _forbid_external
    try:
        screen.Parse(content, True)
    except defusedxml.DefusedXmlException as exc:
        raise UnsafeXML(f"refused unsafe XML ({type(exc).__name__}): DTDs and entities are not allowed") from exc
    except expat.ExpatError:
        pass            # not well-formed: let lxml report it with its line number
    return etree.fromstring(content, parser=_SAFE_XML)


ACTIVE_NAMESPACES = {"http://www.w3.org/1999/xhtml": "XHTML", "http://www.w3.org/2000/svg": "SVG",
                     "http://www.w3.org/1998/Math/MathML": "MathML"}


def _split_tag(tag: str) -> tuple[str | None, str]:
    """(namespace or None, local name) of an lxml tag or attribute name, as etree.QName reads it (without building
    one: a diagram has thousands of elements)."""
    if tag[:1] == "{":
        namespace, _, localname = tag[1:].partition("}")
        return namespace or None, localname
    return None, tag


def active_content(doc):
    """(element id, line, what) for markup a browser would run if it ever rendered the file.

    A diagram is data: XHTML, SVG or MathML elements, a `script` element outside BPMN
    (bpmn:script is a script task's code, camunda:script a listener's or mapping's), event-handler attributes (`onload`), `javascript:`
    URLs and processing instructions (`<?xml-stylesheet?>` applies XSLT) have no place in it.
    The element id is that of the nearest enclosing element that has one.
    """
    def owner(node):
        return next((n.get("id") for n in [node, *node.iterancestors()] if n.get("id")), None)

    tree = doc.getroottree()
    for node in [*doc.itersiblings(preceding=True), *tree.getroot().iter(), *doc.itersiblings()]:
        if isinstance(node, etree._ProcessingInstruction):
            yield None, node.sourceline, f"processing instruction <?{node.target} …?>"
            continue
        if not isinstance(node.tag, str):
            continue                  # a comment
        namespace, localname = _split_tag(node.tag)
        if namespace in ACTIVE_NAMESPACES:
            yield owner(node), node.sourceline, f"{ACTIVE_NAMESPACES[namespace]} element <{localname}>"
        elif localname.lower() == "script" and namespace not in (BPMN_NS, CAMUNDA_MODEL_NS):
            yield owner(node), node.sourceline, f"<script> element in namespace {namespace or '(none)'}"
        for attr, value in node.attrib.items():
            local = _split_tag(attr)[1]
            if local.lower().startswith("on"):
                yield owner(node), node.sourceline, f"event-handler attribute {local}"
            elif value.strip().lower().startswith(("javascript:", "vbscript:", "data:text/html")):
                yield owner(node), node.sourceline, f"attribute {local} holds a {value.strip()[:11]!r} URL"


def _camunda_extensions(parser, node):
    """What every Lotse task spec carries in `extensions` (see module docstring)."""
    properties = {}
    for prop in parser.xpath('./bpmn:extensionElements/camunda:properties/camunda:property'):
        properties[prop.get("name")] = prop.get("value")
    extensions = {"properties": properties}
    for attr, name in ((dialect.FORM_ATTRIBUTE, "formAttribute"), (dialect.GENERATED_FORM, "generatedForm"),
                       (dialect.CAMUNDA_FORMS, "camundaForms")):
        if node.get(attr):
            extensions[name] = node.get(attr)
    if node.tag == f"{{{BPMN_NS}}}startEvent":
        form = node.get(f"{{{CAMUNDA_MODEL_NS}}}formRef") or node.get(f"{{{CAMUNDA_MODEL_NS}}}formKey")
        if form:
            extensions["formRef"] = form.strip()
    if node.tag == f"{{{BPMN_NS}}}userTask":
        for attr in USER_TASK_ATTRIBUTES:
            value = node.get(f"{{{CAMUNDA_MODEL_NS}}}{attr}")
            if value is None:
                continue
            value = value.strip()
            if attr in LIST_ATTRIBUTES and not value.startswith("${"):
                value = [part.strip() for part in value.split(",") if part.strip()]
            extensions["formRef" if attr == "formKey" else attr] = value
        if "notices" in properties:
            extensions["notices"] = _notice_kinds(properties["notices"], node, parser)
    if node.tag == f"{{{BPMN_NS}}}businessRuleTask":
        for attr in ("resultVariable", "mapDecisionResult"):
            if node.get(f"{{{CAMUNDA_MODEL_NS}}}{attr}"):
                extensions[attr] = node.get(f"{{{CAMUNDA_MODEL_NS}}}{attr}").strip()
    listeners = [{"event": ("task:" if etree.QName(listener).localname == "taskListener" else "") + listener.get("event"),
                  "code": listener.get(dialect.PYTHON), "mode": listener.get(dialect.LISTENER_MODE)}
                 for listener in node.findall(f"{{{BPMN_NS}}}extensionElements/*")
                 if etree.QName(listener).localname in dialect.LISTENER_EVENTS and listener.get(dialect.PYTHON)]
    if listeners:
        extensions["listeners"] = listeners
    io = node.find(f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_MODEL_NS}}}inputOutput")
    if io is not None:
        for kind in ("input", "output"):
            params = [[p.get("name"), _mapping(p)] for p in io.findall(f"{{{CAMUNDA_MODEL_NS}}}{kind}Parameter")]
            if params:
                extensions[f"{kind}s"] = params
    if node.tag == f"{{{BPMN_NS}}}callActivity":
        for kind in ("in", "out"):
            found = node.findall(f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_MODEL_NS}}}{kind}")
            mappings = [{"all": True} if m.get("variables") == "all" else
                        {"target": m.get("target"), "source": m.get("source"), "expr": m.get(dialect.PYTHON)}
                        for m in found if m.get("businessKey") is None]
            if mappings:
                extensions[f"call{kind.title()}"] = mappings
    service = node.get(dialect.SERVICE)
    if service:
        extensions["service"] = {
            "kind": service, "topic": node.get(f"{{{CAMUNDA_MODEL_NS}}}topic"),
            "expression": node.get(f"{{{CAMUNDA_MODEL_NS}}}expression"),
            "resultVariable": node.get(f"{{{CAMUNDA_MODEL_NS}}}resultVariable"),
            "priority": node.get(f"{{{CAMUNDA_MODEL_NS}}}taskPriority"), "connector": node.get(dialect.CONNECTOR)}
        if service == "connector":
            extensions["connectorInputs"] = [
                [p.get("name"), _mapping(p)] for p in node.findall(
                    f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_MODEL_NS}}}connector/{{{CAMUNDA_MODEL_NS}}}inputOutput"
                    f"/{{{CAMUNDA_MODEL_NS}}}inputParameter")]
    return extensions


def _mapping(node) -> dict:
    """A camunda:inputParameter/outputParameter's value: {"text"}, {"expr"} (sandbox), {"list"} or {"map"}."""
    for child in node:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if local == "list":
            return {"list": [_mapping(item) for item in child if isinstance(item.tag, str)]}
        if local == "map":
            return {"map": [[entry.get("key"), _mapping(entry)] for entry in child if isinstance(entry.tag, str)]}
    if node.get(dialect.PYTHON):
        return {"expr": node.get(dialect.PYTHON)}
    return {"text": node.text} if node.text is not None and node.text.strip() else {"text": None}


NOTICE_KINDS = tuple(NoticeKind)


def _notice_kinds(text, node, parser) -> list[str]:
    """Property `notices` of a user task: the deadline notices Lotse sends for it ("reminder, overdue",
    or "none" when its diagram models all of them); without it, all three."""
    kinds = [part.strip() for part in (text or "").split(",") if part.strip()]
    if kinds == ["none"]:
        return []
    unknown = [kind for kind in kinds if kind not in NOTICE_KINDS]
    if unknown or not kinds:
        raise ValidationException(f"property notices {text!r}: list some of {', '.join(NOTICE_KINDS)}, or none",
                                  node=node, file_name=getattr(parser, "filename", None))
    return [kind for kind in NOTICE_KINDS if kind in kinds]


DEFAULT_CORRELATION_KEY = "MainCorrelationKey"


class CorrelatedMessageEventDefinition(CamundaMessageEventDefinition):
    """A Camunda message that carries its correlation values.

    The library's Camunda message sends `{'payload': ..., 'result_var': ...}` with no
    correlations, so a receiver could not tell which case a message belongs to. Here the
    correlation properties (`bpmn:correlationPropertyRetrievalExpression/messagePath`) are
    evaluated over the payload itself, on both the sending and the receiving side.
    """

    def _correlations(self, my_task, payload):
        context = payload if isinstance(payload, dict) else {}
        correlations = {}
        for prop in self.correlation_properties:
            # A diagram without bpmn:correlationKey (Camunda Modeler cannot draw one) uses one default key.
            for key in prop.correlation_keys or [DEFAULT_CORRELATION_KEY]:
                value = my_task.workflow.script_engine.environment.evaluate(prop.retrieval_expression, context)
                correlations.setdefault(key, {})[prop.name] = value
        return correlations

    def throw(self, my_task):
        if self.expression:
            result = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        else:
            result = deepcopy(my_task.data)
        correlations = self._correlations(my_task, result)
        my_task.workflow.correlations.update(correlations)
        event = BpmnEvent(self, payload={"payload": result, "result_var": self.result_var},
                          correlations=correlations)
        my_task.workflow.top_workflow.catch(event)

    def update_internal_data(self, my_task, event):
        # The receiver's camunda:resultVariable names where the payload lands (the library lets the sender decide).
        payload = dict(event.payload)
        payload["result_var"] = self.result_var or payload.get("result_var") or f"{my_task.task_spec.bpmn_id}_message"
        my_task.internal_data[self.name] = payload

    def update_task_data(self, my_task):
        event_data = my_task.internal_data.get(self.name) or {}
        if event_data.get("variables"):     # from outside Lotse (engine.messages.correlate): Camunda's process variables
            my_task.data.update(event_data["payload"] or {})
            return
        super().update_task_data(my_task)

    def catch(self, my_task, event=None):
        self.update_internal_data(my_task, event)
        if event is not None:
            my_task.workflow.correlations.update(self._correlations(my_task, event.payload.get("payload")))
        EventDefinition.catch(self, my_task, event)


class BoundaryEventJoin(control.BoundaryEventJoin):
    """Ends a task's boundary events when the task ends; the paths they started run on.

    A non-interrupting boundary event's path runs beside the activity (BPMN 2.0) and outlives
    it. SpiffWorkflow keeps that for events that fire once, but a repeating timer
    waits on while its reminders run, and cancelling it drops the reminders it spawned (their
    open tasks vanished from under the task list). Here a repeating timer whose task ends stops
    repeating, and what it started stays. Restored in place of the library's class for every
    stored spec (same serialized name, see `engine.state`).
    """

    def _check_threshold_structured(self, my_task):
        finished, cancel = super()._check_threshold_structured(my_task)
        for task in [t for t in cancel if _repeats(t.task_spec)]:
            cancel.remove(task)
            task._set_state(TaskState.CANCELLED)       # without dropping the paths it spawned
            task.task_spec._on_cancel(task)            # leaves the event manager: no more repetitions
        return finished, cancel


def _repeats(spec) -> bool:
    return not getattr(spec, "cancel_activity", True) and \
        isinstance(getattr(spec, "event_definition", None), CycleTimerEventDefinition)


# --- specs that never change while a case runs ----------------------------------------------------
#
# A version's specs are restored once per process and shared by every case of that version
# (`engine.state.spec_cache`), and a case is loaded anew by each operation, in whichever process
# runs it. So nothing about a case may live in a spec: SpiffWorkflow 3.2.0 keeps some run-time
# state there, which one long-lived process remembers and a fresh one does not. The classes below
# replace the library's (same serialized names, see `engine.state`) so that every stored spec is
# restored without that.

class _CamundaMultiInstance:
    """Camunda's multi-instance, read the same way in every process.

    The library rewrites the shared spec when an instance starts (`update_task_spec`: the
    collection becomes the input, the element variable the input item, and a loopCardinality
    that names a list becomes the input). A process that restored the spec afterwards saw none
    of it: a collection used in place got the results appended ([1, 2, 3] doubled became
    [1, 2, 3, 2, 4, 6]), a sequential one stopped after its first item. Here what does not
    depend on data is set when the spec is restored; whether a loopCardinality names a list
    is decided per task and kept in the task's internal data.
    """
    LIBRARY = None          # the plain BPMN class whose behaviour this reads

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.output_item is not None:
            self.input_item = TaskDataReference(self.output_item.bpmn_id)
        if self.cardinality is None and self.data_output is not None:
            self.data_input = TaskDataReference(self.data_output.bpmn_id)   # one collection, updated in place
        self._over_list = None

    def _reading(self, my_task):
        """This spec, or (a loopCardinality naming a list) a view of it that takes the list as its input."""
        if self.cardinality is None:
            return self
        if "cardinality_is_list" not in my_task.internal_data:
            value = my_task.workflow.script_engine.evaluate(my_task, self.cardinality)
            my_task.internal_data["cardinality_is_list"] = not isinstance(value, int)
        if not my_task.internal_data["cardinality_is_list"]:
            return self
        if self._over_list is None:
            view = copy(self)
            view.data_input, view.cardinality = TaskDataReference(self.cardinality), None
            view.merge_child = self.merge_child     # children stay connected to this spec's merge
            self._over_list = view
        return self._over_list

    def _update_hook(self, my_task):
        if my_task.state != TaskState.WAITING:       # what the library's update_task_spec does besides rewriting
            BpmnSpecMixin._update_hook(self, my_task)
            my_task._set_state(TaskState.WAITING)
        spec = self._reading(my_task)
        if spec.data_input is not None:              # the library would fail on it with a bare TypeError
            items = my_task.data.get(spec.data_input.bpmn_id)
            if not isinstance(items, (list, dict)):
                problem = "is missing from the case data" if items is None else \
                    f"must be a list or a mapping, not {type(items).__name__}"
                raise WorkflowDataException(f"the collection {spec.data_input.bpmn_id!r} of this multi-instance "
                                            f"{problem}", my_task, data_input=spec.data_input)
        return self.LIBRARY._update_hook(spec, my_task)

    def merge_child(self, workflow, child):
        return self.LIBRARY.merge_child(self._reading(child.parent), workflow, child)

    def task_info(self, my_task):
        return self.LIBRARY.task_info(self._reading(my_task), my_task)


class ParallelMultiInstanceTask(_CamundaMultiInstance, camunda_mi.ParallelMultiInstanceTask):
    LIBRARY = bpmn_specs.ParallelMultiInstanceTask


class SequentialMultiInstanceTask(_CamundaMultiInstance, camunda_mi.SequentialMultiInstanceTask):
    LIBRARY = bpmn_specs.SequentialMultiInstanceTask


def link_event_subprocesses(spec):
    """Connect the event subprocesses of a restored process spec as their first trigger would.

    The library connects an event subprocess to the process's start and end only when its
    event first arrives, in the shared spec: a process that restored the spec later could not
    finish the subprocess ("No input task connected"), and other cases' starts saw the link.
    Giving it its input here (not an output of the start: it must not start with the case) and
    its way to the end makes the first trigger find it connected.
    """
    start = spec.start
    for name in getattr(start, "trigger_specs", ()):
        subprocess = spec.task_specs.get(name)
        if subprocess is not None and start.name not in subprocess._inputs:
            subprocess._inputs.append(start.name)
            subprocess.connect(spec.end)


class DeadlineTimeDateEventDefinition(TimeDateEventDefinition):
    """A `timeDate` timer read as a deadline: a date without a time fires after the end of that day in
    Berlin, a date-time without an offset is Berlin time (`clock.deadline_instant`).

    The library reads both as server-local time, so "register by 20 December" fired at 00:00 UTC
    of the 20th, about a day early. The value is kept as an aware UTC time once evaluated, so
    what the case waits for (`state.waiting`) and when it fires are the same moment. It is stored
    under the library's type name: specs deployed before this class existed load as it too.
    """

    def has_fired(self, my_task):
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            try:
                event_value = clock.deadline_instant(value).isoformat()
            except (TypeError, ValueError):
                event_value = None
            if event_value is None:      # raised outside the except: the incident shows this message
                raise WorkflowTaskException(f"timer {self.name!r}: {value!r} (from {self.expression!r}) is neither "
                                            "a date (2026-12-20) nor a date-time", task=my_task)
            my_task._set_internal_data(event_value=event_value)
        if clock.deadline_instant(event_value) < clock.now():
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)



class CronCycleTimerEventDefinition(CycleTimerEventDefinition):
    """A timeCycle written as a Quartz cron expression (`0 0 9 * * ?`): fires at each time it names, without end.

    Serialized under its own name; the next time is kept, like the library's cycles, in the task's
    internal data, so `state.waiting` and the sweeper see it like any cycle timer.
    """

    def cycle_complete(self, my_task):
        event_value = my_task._get_internal_data("event_value")
        now = clock.now()
        if event_value is None:
            text = str(my_task.workflow.script_engine.evaluate(my_task, self.expression))
            event_value = {"cycles": -1, "next": cron.next_after(text, now).isoformat(), "cron": text}
        if "cron" not in event_value:           # a timer start the schedule fired (engine.cases._fire_start_timer)
            return super().cycle_complete(my_task)
        ready = False
        due = datetime.fromisoformat(event_value["next"])
        if due < now:
            event_value["next"] = cron.next_after(event_value["cron"], max(due, now)).isoformat()
            ready = True
        my_task._set_internal_data(event_value=event_value)
        return ready


class ConditionalEventDefinition(LibraryConditionalEventDefinition):
    """A conditional event that reads the case data as it is now (`casedata.visible`), not the copy its task
    was created with, and counts a condition over a variable that does not exist yet as not met (as Camunda
    does: `${invoiceId != null}` waits until a worker sets invoiceId). Restored in place of the library's class.
    """

    def has_fired(self, my_task):
        try:
            met = my_task.workflow.script_engine.environment.evaluate(
                self.expression, casedata.visible(my_task), external_context=my_task.workflow.data_objects)
        except NameError:
            met = False
        my_task._set_internal_data(has_fired=bool(met))
        return bool(met)


def refresh_conditions(workflow):
    """Evaluate the conditions of waiting conditional events again (the library does it for timers only)."""
    for task in list(workflow.event_manager.tasks.values()):
        if isinstance(task.task_spec.event_definition, LibraryConditionalEventDefinition):
            task.task_spec._update(task)


def _with_camunda_extensions(parser_class):
    def parse_extensions(self, node=None):
        return _camunda_extensions(self, node if node is not None else self.node)

    members = {"parse_extensions": parse_extensions}
    if hasattr(parser_class, "parse_message_event"):
        def parse_message_event(self, message_event):
            base = parser_class.parse_message_event(self, message_event)
            # send and receive tasks get the plain BPMN definition from their parsers: no payload, no result variable
            return CorrelatedMessageEventDefinition(base.name, base.correlation_properties,
                                                    getattr(base, "expression", None), getattr(base, "result_var", None))
        members["parse_message_event"] = parse_message_event
    if hasattr(parser_class, "parse_conditional_event"):
        def parse_conditional_event(self, event):
            base = parser_class.parse_conditional_event(self, event)
            return ConditionalEventDefinition(base.expression, name=base.name, description=base.description)
        members["parse_conditional_event"] = parse_conditional_event
    if hasattr(parser_class, "parse_timer_event"):
        def parse_timer_event(self, event):
            base = parser_class.parse_timer_event(self, event)
            if event.get(dialect.CRON):
                return CronCycleTimerEventDefinition(base.name, base.expression, description=base.description)
            if type(base) is TimeDateEventDefinition:
                return DeadlineTimeDateEventDefinition(base.name, base.expression, description=base.description)
            return base
        members["parse_timer_event"] = parse_timer_event
    return type(f"Lotse{parser_class.__name__}", (parser_class,), members)


class ServiceTask(BpmnSpecMixin):
    """A service task as `engine.dialect` prepared it (`extensions["service"]`).

    An external task (`kind` "external") waits, STARTED, until a worker completes it through
    `engine.external_tasks`; an expression task evaluates its expression in the sandbox and keeps
    the value in its camunda:resultVariable.
    """

    def _run_hook(self, my_task):
        service = (self.extensions or {}).get("service") or {}
        if service.get("kind") in ("external", "connector"):
            return None                  # STARTED: a worker (or, for a connector, the case's change) completes it
        value = my_task.workflow.script_engine.evaluate(my_task, service["expression"])
        if service.get("resultVariable"):
            my_task.data[service["resultVariable"]] = value
        return True


class BusinessRuleTask(CamundaBusinessRuleTask):
    """A business rule task: a FEEL decision (engine.dmn) or a table in SpiffWorkflow's Python reading.

    camunda:resultVariable with camunda:mapDecisionResult stores the result as Camunda does;
    without a result variable, the outputs become case variables (Lotse's tables rely on it).
    Restored in place of the library's class for every stored spec (same serialized name).
    """

    def _run_hook(self, my_task):
        ext = self.extensions or {}
        result_variable, mapping = ext.get("resultVariable"), ext.get("mapDecisionResult")
        where = f"business rule task {self.bpmn_id!r}"
        if not isinstance(self.dmnEngine, dmn.DecisionEngine) and not result_variable:
            return super()._run_hook(my_task)            # a Python-dialect table, as Lotse always ran it
        try:
            if isinstance(self.dmnEngine, dmn.DecisionEngine):
                results = self.dmnEngine.evaluate(my_task.data)
            else:
                matched = self.dmnEngine.decide(my_task)
                results = [rule.output_as_dict(my_task) for rule in matched]
                if self.dmnEngine.decision_table.hit_policy != "COLLECT":
                    results = results[:1]
            if result_variable:
                my_task.data[result_variable] = dmn.map_result(results, mapping, where)
            else:
                my_task.data = DeepMerge.merge(my_task.data, _nested(dmn.as_variables(results)))
        except (dmn.DecisionError, FeelError) as exc:
            raise WorkflowTaskException(str(exc), task=my_task) from exc
        return True


def _nested(values: dict) -> dict:
    """Output names with dots (`item.y`) as nested data, as SpiffWorkflow's tables set them."""
    nested = {}
    for name, value in values.items():
        target, *path = name.split(".")
        if not path:
            nested[name] = value
            continue
        node = nested.setdefault(target, {})
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return nested


class DmnRejected(Exception):
    """A DMN file whose tables cannot run: one message per problem, naming decision, table and rule."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


def connector(task_spec) -> str | None:
    """The Lotse connector a service task runs (engine.cases runs it in the change), or None."""
    if not isinstance(task_spec, ServiceTask):
        return None
    return ((task_spec.extensions or {}).get("service") or {}).get("connector")


def is_external(task_spec) -> bool:
    return isinstance(task_spec, ServiceTask) and \
        ((task_spec.extensions or {}).get("service") or {}).get("kind") == "external"


class VersionTraits(NamedTuple):
    """What a process version's tasks can do, so a change skips looking for what its version does not have."""
    external: bool      # a service task waits for a worker (is_external)
    connectors: bool    # a service task runs a Lotse connector
    open_hooks: bool    # a person's task has input mappings or listeners (casedata.task_opened has work)


def _hooks(task_spec, kind) -> list:
    return (getattr(task_spec, "extensions", None) or {}).get(kind) or []


def traits(workflow) -> VersionTraits:
    """The traits of the workflow's process version (its spec and called processes), kept on its spec: a
    version's specs never change, and the spec cache gives every case of the version the same objects."""
    spec = workflow.spec
    kept = spec.__dict__.get("lotse_traits")
    if kept is None:
        task_specs = [task_spec for process in (spec, *workflow.subprocess_specs.values())
                      for task_spec in process.task_specs.values()]
        kept = spec.lotse_traits = VersionTraits(
            external=any(is_external(task_spec) for task_spec in task_specs),
            connectors=any(connector(task_spec) for task_spec in task_specs),
            open_hooks=any(getattr(task_spec, "manual", False) and (_hooks(task_spec, "inputs") or _hooks(task_spec, "listeners"))
                           for task_spec in task_specs))
    return kept


class _Validators(threading.local):
    """Compiled XML schemas (BPMN 2.0, the DMN versions), each compiled once per thread: compiling the BPMN
    schema costs more than validating a file with it, and every deployment and every scenario run makes a parser.
    Per thread: an lxml validator keeps the errors of its last validation on itself."""

    def __init__(self):
        self.by_path = {}

    def get(self, xsd_path: str | None) -> BpmnValidator:
        """The validator of the schema at `xsd_path` (None: BPMN 2.0's)."""
        if xsd_path not in self.by_path:
            self.by_path[xsd_path] = BpmnValidator() if xsd_path is None else BpmnValidator(xsd_path)
        return self.by_path[xsd_path]


_validators = _Validators()


class LotseParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        tag: (_with_camunda_extensions(parser_class), spec_class)
        for tag, (parser_class, spec_class) in {
            **CamundaParser.PARSER_CLASSES, **CamundaParser.OVERRIDE_PARSER_CLASSES,
            f"{{{BPMN_NS}}}businessRuleTask": (CamundaParser.OVERRIDE_PARSER_CLASSES[
                f"{{{BPMN_NS}}}businessRuleTask"][0], BusinessRuleTask),
            f"{{{BPMN_NS}}}serviceTask": (CamundaParser.OVERRIDE_PARSER_CLASSES[f"{{{BPMN_NS}}}task"][0],
                                          ServiceTask)}.items()
    }

    def __init__(self):
        super().__init__(validator=_validators.get(None))
        self.feel_decisions = {}         # decision id -> {decision id: engine.dmn.Decision} of its file

    def get_decision_ref(self, node):
        return node.attrib[f"{{{CAMUNDA_MODEL_NS}}}decisionRef"]

    def _add_dmn_node(self, node, filename):
        """The library's `add_dmn_xml` (schema validation for DMN 1.1, 1.2, 1.3, then its DMN parser), but with
        the thread's compiled schema: the library compiles the schema again for every file."""
        namespaces = {**self.namespaces, **node.nsmap}
        if None in namespaces:
            namespaces["dmn"] = namespaces.pop(None)
        schema = self.dmn_schemas.get(namespaces.get("dmn"))
        if schema is not None:
            _validators.get(schema).validate(node, filename)
        dmn_parser = DMNParser(self, node, namespaces, filename=filename)
        self.dmn_parsers[dmn_parser.bpmn_id] = dmn_parser
        self.dmn_parsers_by_name[dmn_parser.get_name()] = dmn_parser

    def add_dmn_xml(self, node, filename=None):
        """Read a DMN file: Camunda's FEEL tables with engine.dmn (every decision of the file), Lotse's earlier
        Python-dialect tables with SpiffWorkflow's parser. Raises DmnRejected or ValidationException."""
        self._add_dmn_node(node, filename)
        try:
            decisions = dmn.read(node, filename)
        except dmn.DecisionError as exc:
            raise DmnRejected([str(exc)]) from None
        if dmn.is_python_dialect(decisions):
            if len(decisions) > 1:
                raise DmnRejected(["several decisions in one file need FEEL cells; this file is written in Python "
                                   "(True, None, ==): give each decision its own file"])
            return
        problems = dmn.check(decisions)
        if problems:
            raise DmnRejected(problems)
        for decision_id in decisions:
            if decision_id in self.feel_decisions or (decision_id in self.dmn_parsers and
                                                      self.dmn_parsers[decision_id].node is not node):
                raise DmnRejected([f"decision id {decision_id!r} is defined twice"])
            self.feel_decisions[decision_id] = decisions

    def get_engine(self, decision_ref, node):
        if decision_ref not in self.feel_decisions:
            return super().get_engine(decision_ref, node)
        decisions, needed, todo = self.feel_decisions[decision_ref], {}, [decision_ref]
        while todo:
            decision = decisions[todo.pop()]
            needed[decision.id] = decision
            todo += [r for r in decision.required if r not in needed]
        return dmn.DecisionEngine(decision_ref, needed)


@contextmanager
def deep_recursion(limit=10000):
    """The parser recurses along sequence flows; long linear models need more stack."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)
