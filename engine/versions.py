"""Versions of one process: compare two of them, and roll back by deploying an older one again.

The comparison reads the deployed BPMN files (the process element of each version) and matches
flow elements by id, in the process and in its embedded subprocesses: an element is added, removed,
or changed when its attributes (name, camunda:dueDate, sourceRef, …) or what it holds (documentation,
conditions, timer and message definitions, extension properties) differ. Layout (DI) is not compared.
"""
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from lxml import etree
from sqlalchemy import func, select

from engine import audit
from engine.db import db
from engine.errors import InvalidData, NotFound
from engine.models import Deployment, ProcessDefinition
from engine.parsing import parse_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
_CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess"}
_FLOW_REFS = {"incoming", "outgoing"}       # the flows themselves are compared (sourceRef, targetRef)
_PREFIXES = {BPMN: "", CAMUNDA: "camunda:"}


@dataclass
class ElementDiff:
    element_id: str
    name: str
    kind: str                                   # the BPMN element: userTask, sequenceFlow, …
    details: list = field(default_factory=list)  # for a changed element: what changed, old → new


@dataclass
class Comparison:
    key: str
    old: ProcessDefinition
    new: ProcessDefinition
    added: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    changed: list = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.changed)


def definition(key: str, version: int) -> ProcessDefinition:
    found = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key,
                                                              ProcessDefinition.version == version))
    if found is None:
        raise NotFound(f"process {key} has no version {version}")
    return found


def versions(key: str) -> list[ProcessDefinition]:
    """Every version of a process, newest first; NotFound if none is deployed."""
    rows = db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                              .order_by(ProcessDefinition.version.desc())).all()
    if not rows:
        raise NotFound(f"no process {key!r} is deployed")
    return rows


def compare(key: str, old_version: int, new_version: int) -> Comparison:
    old, new = definition(key, old_version), definition(key, new_version)
    before, after = _elements(old), _elements(new)
    result = Comparison(key, old, new)
    for element_id, element in after.items():
        if element_id not in before:
            result.added.append(_diff(element_id, element))
    for element_id, element in before.items():
        if element_id not in after:
            result.removed.append(_diff(element_id, element))
        else:
            details = _differences(element, after[element_id])
            if details:
                result.changed.append(_diff(element_id, after[element_id], details))
    return result


def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _qualified(name: str) -> str:
    qname = etree.QName(name)
    return _PREFIXES.get(qname.namespace, f"{{{qname.namespace}}}" if qname.namespace else "") + qname.localname


def _elements(definition_row) -> dict:
    """element id -> element, for the flow elements of the version's process at every depth."""
    doc = parse_xml(definition_row.source_file.content.encode(), definition_row.source_file.name)
    process = next((p for p in doc.iter(f"{{{BPMN}}}process") if p.get("id") == definition_row.key), None)
    found = {}
    containers = [process] if process is not None else []
    while containers:
        container = containers.pop()
        for child in container:
            if not isinstance(child.tag, str) or etree.QName(child.tag).namespace != BPMN or not child.get("id"):
                continue
            if _local(child.tag) in ("laneSet", "documentation", "extensionElements"):
                continue
            found[child.get("id")] = child
            if _local(child.tag) in _CONTAINERS:
                containers.append(child)
    return found


def _diff(element_id, element, details=None) -> ElementDiff:
    return ElementDiff(element_id, element.get("name") or "", _local(element.tag), details or [])


def _short(text: str | None, limit=60) -> str:
    text = " ".join((text or "").split())
    return repr(text if len(text) <= limit else text[:limit - 1] + "…")


def _differences(old, new) -> list[str]:
    details = []
    if old.tag != new.tag:
        details.append(f"type: {_local(old.tag)} → {_local(new.tag)}")
    for name in sorted(set(old.attrib) | set(new.attrib)):
        if name != "id" and old.get(name) != new.get(name):
            details.append(f"{_qualified(name)}: {_short(old.get(name))} → {_short(new.get(name))}")
    old_parts, new_parts = _parts(old), _parts(new)
    for part in sorted(set(old_parts) | set(new_parts)):
        if old_parts.get(part) != new_parts.get(part):
            details.append(f"{part}: {_short(old_parts.get(part))} → {_short(new_parts.get(part))}")
    return details


def _parts(element) -> dict:
    """What an element holds besides its attributes and nested flow elements, as comparable text:
    documentation, conditions, event definitions, loop characteristics, and each extension
    (camunda:properties one by one, as `property NAME`)."""
    parts = {}
    for child in element:
        local = _local(child.tag)
        if not local or local in _FLOW_REFS or (child.get("id") and local not in _DEFINITION_LIKE
                                                and etree.QName(child.tag).namespace == BPMN):
            continue
        if local == "extensionElements":
            for extension in child:
                if _local(extension.tag) == "properties":
                    for prop in extension:
                        parts[f"property {prop.get('name')}"] = prop.get("value") or ""
                elif isinstance(extension.tag, str):
                    parts[_qualified(extension.tag)] = _text(extension)
        else:
            key = local
            while key in parts:
                key += "+"
            parts[key] = _text(child)
    return parts


# Children with their own id that belong to the element (not flow elements of their own).
_DEFINITION_LIKE = {"timerEventDefinition", "messageEventDefinition", "signalEventDefinition",
                    "errorEventDefinition", "escalationEventDefinition", "conditionalEventDefinition",
                    "terminateEventDefinition", "linkEventDefinition", "compensateEventDefinition",
                    "multiInstanceLoopCharacteristics", "standardLoopCharacteristics", "ioSpecification"}


def _text(element) -> str:
    """An element's content as text: its attributes (but ids) and its text, recursively."""
    attributes = " ".join(f"{_qualified(k)}={v}" for k, v in sorted(element.attrib.items()) if k != "id")
    inner = " ".join(_text(child) for child in element if isinstance(child.tag, str))
    return " ".join(part for part in (attributes, (element.text or "").strip(), inner) if part)


def rollback(key: str, version: int, actor=None) -> ProcessDefinition:
    """Deploy version `version` of `key` again, as the newest version: the same diagram, parsed specs
    and form versions. Running cases stay on theirs (migrate them if they should move)."""
    old = definition(key, version)
    newest = db.session.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key))
    if old.version == newest:
        raise InvalidData(_l("v%(version)s ist schon die neueste Version von %(key)s.", version=version, key=key),
                          field="version")
    deployment = Deployment(created_by_id=getattr(actor, "id", None), checksum=old.checksum)
    db.session.add(deployment)
    db.session.flush()
    row = ProcessDefinition(
        key=key, version=newest + 1, name=old.name, checksum=old.checksum, deployment_id=deployment.id,
        source_file_id=old.source_file_id, spec_json=old.spec_json, forms=dict(old.forms or {}),
        message_starts=list(old.message_starts or []), startable=old.startable, documentation=old.documentation,
        start_form=old.start_form)
    db.session.add(row)
    audit.record(actor, row, "process_rolled_back", {"version": {"old": newest, "new": newest + 1},
                                                     "same_as": {"old": None, "new": version}})
    db.session.commit()
    return row


def compare_page(key, old_version=None, new_version=None) -> dict:
    """What the compare page reads: the versions of `key` (NotFound if none) and the comparison of two of
    them (by default the newest and the one before)."""
    rows = versions(key)
    new_version = new_version if new_version is not None else rows[0].version
    old_version = old_version if old_version is not None else (rows[1].version if len(rows) > 1 else new_version)
    return {"key": key, "name": rows[0].name, "versions": rows, "newest": rows[0].version,
            "comparison": compare(key, old_version, new_version)}


def diagram(key, version) -> str:
    """The BPMN file of a version, as deployed (for the diagram viewer)."""
    return definition(key, version).source_file.content
