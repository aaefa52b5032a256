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
from contextlib import contextmanager

from copy import deepcopy

import defusedxml.ElementTree
from xml.etree import ElementTree
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition

from engine import clock

USER_TASK_ATTRIBUTES = ("candidateGroups", "candidateUsers", "assignee", "dueDate", "followUpDate",
                        "priority", "formRef", "formKey")
LIST_ATTRIBUTES = ("candidateGroups", "candidateUsers")
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                            remove_comments=False, huge_tree=False)


class UnsafeXML(ValueError):
    pass


def parse_xml(content: bytes, filename: str):
    """Parse untrusted XML: a DOCTYPE (and so any entity trick) is refused outright."""
    try:
        defusedxml.ElementTree.fromstring(content, forbid_dtd=True, forbid_entities=True,
                                          forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise UnsafeXML(f"refused unsafe XML ({type(exc).__name__}): DTDs and entities are not allowed") from exc
    except ElementTree.ParseError:
        pass            # not well-formed: let lxml report it with its line number
    return etree.fromstring(content, parser=_SAFE_XML)


def _camunda_extensions(parser, node):
    """What every Lotse task spec carries in `extensions` (see module docstring)."""
    properties = {}
    for prop in parser.xpath('./bpmn:extensionElements/camunda:properties/camunda:property'):
        properties[prop.get("name")] = prop.get("value")
    extensions = {"properties": properties}
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
    return extensions


NOTICE_KINDS = ("reminder", "overdue", "escalation")


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

    def catch(self, my_task, event=None):
        self.update_internal_data(my_task, event)
        if event is not None:
            my_task.workflow.correlations.update(self._correlations(my_task, event.payload.get("payload")))
        EventDefinition.catch(self, my_task, event)


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


def _collection_as_input(task_spec) -> None:
    """A Camunda multi-instance over `camunda:collection` reads and writes that one collection.

    SpiffWorkflow sets that up when the task first runs, by changing the spec in memory; a
    process that restores the spec from its JSON later has no input and appends each result
    to the collection (three referrals became six). Set here, the stored spec already has it.
    """
    if getattr(task_spec, "cardinality", "") is None and task_spec.data_output is not None:
        task_spec.data_input = TaskDataReference(task_spec.data_output.bpmn_id)
        if task_spec.output_item is not None:
            task_spec.input_item = TaskDataReference(task_spec.output_item.bpmn_id)


def _with_camunda_extensions(parser_class):
    def parse_extensions(self, node=None):
        return _camunda_extensions(self, node if node is not None else self.node)

    members = {"parse_extensions": parse_extensions}
    if hasattr(parser_class, "parse_message_event"):
        def parse_message_event(self, message_event):
            base = parser_class.parse_message_event(self, message_event)
            return CorrelatedMessageEventDefinition(base.name, base.correlation_properties, base.expression,
                                                    base.result_var)
        members["parse_message_event"] = parse_message_event
    if hasattr(parser_class, "_add_multiinstance_task"):
        def _add_multiinstance_task(self, loop_characteristics):
            parser_class._add_multiinstance_task(self, loop_characteristics)
            _collection_as_input(self.task)
        members["_add_multiinstance_task"] = _add_multiinstance_task
    if hasattr(parser_class, "parse_timer_event"):
        def parse_timer_event(self, event):
            base = parser_class.parse_timer_event(self, event)
            if type(base) is TimeDateEventDefinition:
                return DeadlineTimeDateEventDefinition(base.name, base.expression, description=base.description)
            return base
        members["parse_timer_event"] = parse_timer_event
    return type(f"Lotse{parser_class.__name__}", (parser_class,), members)


class LotseParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        tag: (_with_camunda_extensions(parser_class), spec_class)
        for tag, (parser_class, spec_class) in {
            **CamundaParser.PARSER_CLASSES, **CamundaParser.OVERRIDE_PARSER_CLASSES}.items()
    }

    def __init__(self):
        super().__init__(validator=BpmnValidator())

    def get_decision_ref(self, node):
        return node.attrib[f"{{{CAMUNDA_MODEL_NS}}}decisionRef"]


@contextmanager
def deep_recursion(limit=10000):
    """The parser recurses along sequence flows; long linear models need more stack."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)
