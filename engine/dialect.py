"""Camunda 7 diagrams as their users wrote them: what Lotse runs, translated; what it cannot, refused by name.

`prepare(doc, file)` runs on every BPMN document before SpiffWorkflow parses it, at every depth
of the document, and rewrites it in place into what Lotse's engine runs:

- JUEL (`${…}`, `#{…}`) in conditions, multi-instance attributes, timers, user-task attributes,
  mappings and listeners becomes a sandbox expression (`engine.juel`); an expression in Lotse's own
  dialect (Python over case data and the sandbox's helpers, as the bundled journeys write it) stays;
- timer literals as Camunda writes them (`P7D`, `2027-03-01T09:00`, `R3/PT1H`) become text values,
  Quartz cron cycles are marked for `engine.cron`;
- a service or send task with `camunda:type="external"` and a topic becomes an external task
  (`engine.external_tasks`), one with a JUEL `camunda:expression` an expression task, one with a
  Lotse connector (CONNECTORS) a connector task;
- `camunda:formKey`/`camunda:formData` are prepared for the deployment to resolve (forms), listeners
  and mappings get their code.

What the parser needs to know is left on the elements as attributes in Lotse's namespace (below).
It returns the problems of the elements Lotse cannot run, each naming the element and what it
cannot run: Java classes and delegate expressions, scripts in other languages than Python,
Camunda's connectors, data stores, listeners on other events (see docs/conformance.md).
`namespaces` reads files written with Camunda's old namespace (`http://activiti.org/bpmn`) as Camunda's.
"""
import ast
import re

from lxml import etree

from engine import cron, juel, sandbox
from engine.errors import Problem
from engine.forms import generated

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
OLD_CAMUNDA_NS = b"http://activiti.org/bpmn"
LOTSE_NS = "https://lotse.nrw/bpmn"
# What the preparation tells the parser (engine.parsing) about an element:
SERVICE = f"{{{LOTSE_NS}}}service"                # what a service task is: "external", "expression", "connector"
FORM_ATTRIBUTE = f"{{{LOTSE_NS}}}formAttribute"   # which attribute named the form, for messages
CAMUNDA_FORMS = f"{{{LOTSE_NS}}}camundaForms"     # the key as written, when it named a form-js file
GENERATED_FORM = f"{{{LOTSE_NS}}}generatedForm"   # the id of the form generated from camunda:formData
CRON = f"{{{LOTSE_NS}}}cron"                      # on a timerEventDefinition whose cycle is a Quartz cron
PYTHON = f"{{{LOTSE_NS}}}python"                  # the sandbox code of a mapping's value or a listener
LISTENER_MODE = f"{{{LOTSE_NS}}}mode"             # a listener's code: "exec" (a script) or "eval" (an expression)
CONNECTOR = f"{{{LOTSE_NS}}}connector"            # a service task's Lotse connector id
# Lotse's connectors (camunda:connector with this connectorId) and the input parameters each needs
# (engine.cases.CaseChange._run_connectors runs them; docs/conformance.md lists the optional ones).
CONNECTORS = {"lotse-notify-group": ("group", "subject", "message"),
              "lotse-send-mail": ("subject", "body"),             # optional: to (else the responsible advisor)
              "lotse-start-case": ("process",),                   # optional: data (a map), subject
              "lotse-record-referral": ("topic", "partner")}      # optional: partner_type, referred_on, contact_made

PYTHON_FORMATS = {"", "python", "python3", "py"}
USER_TASK_EXPRESSIONS = ("assignee", "candidateUsers", "candidateGroups", "dueDate", "followUpDate", "priority")
UNSUPPORTED_ELEMENTS = {
    "dataStoreReference": "data stores are not supported (Lotse keeps a case's data in the case)",
    "dataStore": "data stores are not supported (Lotse keeps a case's data in the case)",
    "complexGateway": "complex gateways are not supported; use exclusive, inclusive or parallel gateways",
    "compensateEventDefinition": "compensation is not supported; model the undoing as its own path "
                                 "(an error boundary event and the tasks that undo)",
}
LISTENER_EVENTS = {"executionListener": ("start", "end"), "taskListener": ("create", "complete")}
_ISO_LITERAL = re.compile(r"^(?:R\d*/.+|P(?=\d|T\d)[\dYMWDTHS.,]*|\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?)$")


def namespaces(content: bytes) -> bytes:
    """Camunda 7 still reads files that use the namespace of its Activiti days; so does Lotse."""
    return content.replace(b'"' + OLD_CAMUNDA_NS + b'"', b'"' + CAMUNDA_NS.encode() + b'"')


def _local(node) -> tuple[str | None, str]:
    name = etree.QName(node)
    return name.namespace, name.localname


def _owner(node):
    """The nearest element with an id: what a message names."""
    return next((n.get("id") for n in [node, *node.iterancestors()] if n.get("id")), None)


def _camunda(node, attr):
    return node.get(f"{{{CAMUNDA_NS}}}{attr}")


def _uses_only_helpers(source: str) -> bool:
    """Whether a Python expression calls nothing but the sandbox's helpers and builtins (Lotse's own dialect)."""
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        return False
    allowed = set(sandbox.HELPERS) | set(sandbox.BUILTINS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in allowed):
            return False
        if isinstance(node, ast.Name) and node.id in juel.ENGINE_OBJECTS:
            return False
    return sandbox.check_code(source, "eval") is None


def expression(text: str) -> str:
    """A condition or value as the sandbox evaluates it: JUEL translated, Lotse's Python kept. Raises JuelError."""
    if not juel.is_juel(text):
        return text
    try:
        return juel.translate(text)
    except juel.JuelError:
        inner = re.sub(r"^\s*[$#]\{(.*)\}\s*$", r"\1", text, flags=re.DOTALL)
        if inner != text and _uses_only_helpers(inner):
            return inner
        raise


def timer(text: str) -> str:
    """A timer's text as the sandbox evaluates it. Raises JuelError (or ValueError for a cron cycle)."""
    stripped = (text or "").strip()
    if juel.is_juel(stripped):
        return expression(stripped)
    if _ISO_LITERAL.match(stripped):
        return repr(stripped)
    return text


class _Prepared:
    def __init__(self, file):
        self.file, self.problems = file, []
        self.forms = {}              # form id -> form-js schema generated from camunda:formData

    def refuse(self, node, message):
        self.problems.append(Problem(self.file, message, element_id=_owner(node), line=node.sourceline))


def prepare(doc, file: str) -> tuple[list[Problem], dict]:
    """Rewrite a parsed BPMN document into what Lotse runs (see module docstring).

    Returns what it cannot run, and the form-js schemas generated from camunda:formData by form id.
    """
    seen = _Prepared(file)
    for node in list(doc.iter()):
        if not isinstance(node.tag, str):
            continue
        namespace, local = _local(node)
        if namespace == BPMN_NS:
            _bpmn_element(seen, node, local)
        elif namespace == CAMUNDA_NS:
            _camunda_element(seen, node, local)
    return seen.problems, seen.forms


def _form(seen, node, local):
    """camunda:formKey as Camunda users write it, and camunda:formData as a generated form (engine.forms.generated).

    `camunda-forms:deployment:x.form` and `camunda-forms:app:forms/x.form` name a form-js file: the key
    becomes the file's name, which the deployment resolves to the form's id. The attribute the
    file used is kept for messages (FORM_ATTRIBUTE); a generated form's id in GENERATED_FORM.
    """
    key, ref = _camunda(node, "formKey"), _camunda(node, "formRef")
    if ref is not None or key is not None:
        node.set(FORM_ATTRIBUTE, "camunda:formRef" if ref is not None else "camunda:formKey")
    if key and key.startswith("camunda-forms:"):
        path = key.split(":", 2)[2] if key.count(":") >= 2 else ""
        name = path.rsplit("/", 1)[-1].strip()
        if not name:
            seen.refuse(node, f"camunda:formKey {key!r} names no form file")
            return
        node.set(f"{{{CAMUNDA_NS}}}formKey", name)
        node.set(CAMUNDA_FORMS, key)
    form_data = node.find(f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_NS}}}formData")
    if form_data is not None:
        process = next((n.get("id") for n in node.iterancestors() if _local(n) == (BPMN_NS, "process")), "")
        form_id = f"{process}.{node.get('id')}"[:128]
        try:
            seen.forms[form_id] = generated.form_data_schema(form_id, form_data)
        except generated.GeneratedFormError as exc:
            seen.refuse(form_data, f"camunda:formData of {node.get('id')}: {exc}")
            return
        node.set(GENERATED_FORM, form_id)


def _bpmn_element(seen, node, local):
    if local in UNSUPPORTED_ELEMENTS:
        seen.refuse(node, f"{local}{' ' + node.get('id') if node.get('id') else ''}: {UNSUPPORTED_ELEMENTS[local]}")
        return
    if node.get("isForCompensation") == "true":
        seen.refuse(node, f"{local} {node.get('id')}: {UNSUPPORTED_ELEMENTS['compensateEventDefinition']}")
        return
    for attr in ("class", "delegateExpression"):
        if _camunda(node, attr):
            seen.refuse(node, f"{local} {node.get('id')}: Java classes and delegate expressions are not supported "
                              f"(camunda:{attr}=\"{_camunda(node, attr)}\"); use an external task "
                              f"(camunda:type=\"external\") or a script task")
            return
    for attr in ("calledElementTenantId", "caseTenantId", "decisionRefTenantId"):
        if _camunda(node, attr):      # Camunda picks another tenant's version; Lotse's centers share one version
            seen.refuse(node, f"{local} {node.get('id')}: camunda:{attr} is not supported: Lotse has no tenants, "
                              "every Welcome Center runs the same deployed version; remove the attribute")
            return
    for attr in ("calledElementBinding", "decisionRefBinding", "caseBinding"):
        # Lotse binds a called process or decision when the caller is deployed (the version deployed with it;
        # a new case takes the newest): "latest" and "deployment" come to that, a pinned version would not
        if _camunda(node, attr) not in (None, "latest", "deployment"):
            seen.refuse(node, f"{local} {node.get('id')}: camunda:{attr}=\"{_camunda(node, attr)}\" is not "
                              "supported: Lotse runs the called process or decision deployed with this one (a new "
                              "case takes the newest), not a pinned version; remove the attribute")
            return
    if local in ("serviceTask", "sendTask") or (local == "businessRuleTask" and _camunda(node, "type")):
        _service_task(seen, node, local)
    elif local == "businessRuleTask" and not _camunda(node, "decisionRef"):
        seen.refuse(node, f"businessRuleTask {node.get('id')} names no decision: give it camunda:decisionRef (the "
                          "id of a decision in a deployed .dmn file)")
    elif local == "scriptTask":
        before = len(seen.problems)
        _script_format(seen, node, node.get("scriptFormat"), f"scriptTask {node.get('id')}")
        if _camunda(node, "resultVariable") and len(seen.problems) == before:   # only a Python script has the fix
            seen.refuse(node, f"scriptTask {node.get('id')}: camunda:resultVariable is not supported on a Python "
                              f"script; assign the variable in the script ({_camunda(node, 'resultVariable')} = …)")
        if _camunda(node, "resource"):
            seen.refuse(node, f"scriptTask {node.get('id')}: external script resources (camunda:resource) are not "
                              "supported; write the script in the diagram")
    elif local in ("conditionExpression", "completionCondition", "loopCardinality", "condition"):
        _rewrite_text(seen, node, expression, local)
    elif local == "timeCycle" and cron.is_quartz(node.text or ""):
        try:
            cron.quartz_to_croniter(node.text.strip())
        except cron.CronError as exc:
            seen.refuse(node, f"timer timeCycle: {exc}")
            return
        node.text = repr(node.text.strip())
        node.getparent().set(CRON, "true")
    elif local in ("timeDate", "timeDuration", "timeCycle"):
        _rewrite_text(seen, node, timer, f"timer {local}")
    elif local == "multiInstanceLoopCharacteristics":
        collection = _camunda(node, "collection")
        if collection and juel.is_juel(collection):
            name = re.fullmatch(r"\s*[$#]\{\s*([A-Za-z_]\w*)\s*\}\s*", collection)
            if name is None:
                seen.refuse(node, f"camunda:collection {collection!r}: name the variable that holds the list "
                                  "(${items}); other expressions are not supported here")
            else:
                node.set(f"{{{CAMUNDA_NS}}}collection", name.group(1))
    if local in ("userTask", "startEvent"):
        _form(seen, node, local)
        for attr in USER_TASK_EXPRESSIONS:
            value = _camunda(node, attr)
            if value and juel.is_juel(value):
                try:
                    node.set(f"{{{CAMUNDA_NS}}}{attr}", "${" + expression(value) + "}")
                except juel.JuelError as exc:
                    seen.refuse(node, f"camunda:{attr} {value!r}: {exc}")


def _rewrite_text(seen, node, translate, what):
    text = node.text or ""
    try:
        node.text = translate(text)
    except juel.JuelError as exc:
        seen.refuse(node, f"{what} {text.strip()!r}: {exc}")
    except ValueError as exc:
        seen.refuse(node, f"{what}: {exc}")


def _script_format(seen, node, script_format, where):
    if (script_format or "").strip().lower() not in PYTHON_FORMATS:
        seen.refuse(node, f"{where}: scripts in {script_format} are not supported; Lotse runs Python scripts only "
                          "(scriptFormat=\"python\")")
        return False
    return True


def _listener(seen, node, local):
    """An execution or task listener: a Python script or an expression runs; Java and other events are refused."""
    event = node.get("event") or ""
    owner = node.getparent().getparent() if node.getparent() is not None else None
    owner_kind = _local(owner)[1] if owner is not None else ""
    where = f"camunda:{local} event=\"{event}\""
    for attr in ("class", "delegateExpression"):
        if node.get(attr):
            seen.refuse(node, f"{where}: Java classes and delegate expressions are not supported "
                              f"({attr}=\"{node.get(attr)}\"); write the listener as a Python script")
            return
    if owner_kind in ("process", "sequenceFlow") or event not in LISTENER_EVENTS[local]:
        seen.refuse(node, f"{where} on a {owner_kind}: Lotse runs {local}s on the events "
                          f"{', '.join(LISTENER_EVENTS[local])} of tasks and events")
        return
    script = node.find(f"{{{CAMUNDA_NS}}}script")
    if script is not None:
        if script.get("resource"):
            seen.refuse(node, f"{where}: external script resources are not supported; write the script here")
        elif not (script.text or "").strip():
            seen.refuse(node, f"{where}: the script is empty")
        else:
            node.set(PYTHON, script.text)
            node.set(LISTENER_MODE, "exec")
    elif node.get("expression"):
        try:
            node.set(PYTHON, expression(node.get("expression")))
            node.set(LISTENER_MODE, "eval")
        except juel.JuelError as exc:
            seen.refuse(node, f"{where}: {exc}")
    else:
        seen.refuse(node, f"{where} names nothing to run (a script or an expression)")


def _mapping_value(seen, node, where):
    """A mapping's text value: a JUEL expression becomes the sandbox expression it means (PYTHON), text stays text."""
    text = node.text or ""
    if juel.is_juel(text):
        try:
            node.set(PYTHON, juel.translate_template(text) if not juel.is_whole(text) else expression(text))
        except juel.JuelError as exc:
            seen.refuse(node, f"{where} {text.strip()!r}: {exc}")


def _service_task(seen, node, local):
    """A service or send task: an external task, an expression, or refused (Java, connectors, nothing)."""
    element = f"{local} {node.get('id')}"
    kind, topic, expr = _camunda(node, "type"), _camunda(node, "topic"), _camunda(node, "expression")
    if kind == "external":
        if not (topic or "").strip():
            seen.refuse(node, f"{element}: an external task needs a topic (camunda:topic)")
            return
        if juel.is_juel(topic):
            seen.refuse(node, f"{element}: camunda:topic {topic!r} must be a fixed name, not an expression")
            return
        node.set(SERVICE, "external")
        node.tag = f"{{{BPMN_NS}}}serviceTask"      # a send or business rule task run by a worker is one too
    elif kind:
        seen.refuse(node, f"{element}: camunda:type=\"{kind}\" is not supported; Lotse runs external tasks "
                          "(camunda:type=\"external\" with camunda:topic)")
    elif expr:
        try:
            node.set(f"{{{CAMUNDA_NS}}}expression", expression(expr))
            node.set(SERVICE, "expression")
            node.tag = f"{{{BPMN_NS}}}serviceTask"
        except juel.JuelError as exc:
            seen.refuse(node, f"{element}: camunda:expression {expr!r}: {exc}")
    elif node.get(SERVICE) == "connector":
        return                           # a Lotse connector (see _camunda_element)
    elif local == "sendTask" and node.find(f"{{{BPMN_NS}}}messageEventDefinition") is None and node.get("messageRef"):
        return                           # a BPMN send task throwing its message: the engine sends it
    elif node.find(f".//{{{CAMUNDA_NS}}}connector") is not None:
        return                           # its camunda:connector decides (see _camunda_element)
    else:
        seen.refuse(node, f"{element} names no implementation Lotse can run: give it camunda:type=\"external\" and "
                          "a camunda:topic (a worker completes it), or use a script task")


def _camunda_element(seen, node, local):
    if local == "script":
        owner = node.getparent()
        where = f"{etree.QName(owner).localname} {owner.get('name') or ''} of {_owner(node)}".replace("  ", " ")
        if not _script_format(seen, node, node.get("scriptFormat"), where):
            return
        if _local(owner)[1] in ("inputParameter", "outputParameter", "value", "entry"):
            seen.refuse(node, f"{where}: scripts in input/output mappings are not supported; write the value as an "
                              "expression (${…})")
            return
    if local in ("inputParameter", "outputParameter", "value", "entry") and not len(node):
        _mapping_value(seen, node, f"camunda:{local} {node.get('name') or node.get('key') or ''}".strip())
    if local in ("in", "out") and node.get("sourceExpression"):
        try:
            node.set(PYTHON, expression(node.get("sourceExpression")))
        except juel.JuelError as exc:
            seen.refuse(node, f"camunda:{local} sourceExpression {node.get('sourceExpression')!r}: {exc}")
    if local in ("in", "out") and not (node.get("variables") == "all" or node.get("businessKey") is not None
                                       or (node.get("target") and (node.get("source") or node.get("sourceExpression")))):
        seen.refuse(node, f"camunda:{local} needs variables=\"all\", or source (or sourceExpression) and target")
    if local == "connector":
        connector_id = next((c.text.strip() for c in node if _local(c) == (CAMUNDA_NS, "connectorId") and c.text), "")
        task = node.getparent().getparent()
        if connector_id in CONNECTORS and _local(task) == (BPMN_NS, "serviceTask"):
            params = {p.get("name") for p in node.iter(f"{{{CAMUNDA_NS}}}inputParameter")}
            missing = [name for name in CONNECTORS[connector_id] if name not in params]
            if missing:
                seen.refuse(node, f"the connector {connector_id!r} needs the input parameters "
                                  f"{', '.join(CONNECTORS[connector_id])} (missing: {', '.join(missing)})")
            else:
                task.set(SERVICE, "connector")
                task.set(CONNECTOR, connector_id)
            return
        seen.refuse(node, f"the Camunda connector {connector_id!r} (camunda:connector) is not supported; use an "
                          "external task (camunda:type=\"external\" with camunda:topic) and a worker, or one of "
                          f"Lotse's connectors ({', '.join(CONNECTORS)})")
        return
    if local in LISTENER_EVENTS:
        _listener(seen, node, local)
