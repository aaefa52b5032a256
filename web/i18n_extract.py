"""Babel extractors for process content: labels of form-js forms and names of BPMN elements.

Form labels go through the catalogs at render time (`web.forms_html`), and so do the names of
user tasks and events the workspace shows; these extractors put them into `messages.pot` so
translators see them beside the UI strings. Registered in `babel.cfg` under [extractors].
"""
import json

from defusedxml import ElementTree

_FORM_TEXTS = ("label", "description", "text", "dateLabel", "timeLabel")


def extract_form(fileobj, keywords, comment_tags, options):
    try:
        schema = json.loads(fileobj.read().decode("utf-8"))
    except ValueError:
        return

    def walk(components):
        for comp in components or []:
            if not isinstance(comp, dict):
                continue
            for prop in _FORM_TEXTS:
                text = comp.get(prop)
                if isinstance(text, str) and text.strip() and not text.startswith("="):
                    if prop == "text" and "{{" in text:
                        continue
                    yield 0, None, text, [f"form {schema.get('id', '')}: {comp.get('key') or comp.get('id', '')}"]
            for option in comp.get("values") or []:
                if isinstance(option, dict) and isinstance(option.get("label"), str):
                    yield 0, None, option["label"], [f"form {schema.get('id', '')}: option"]
            yield from walk(comp.get("components"))

    yield from walk(schema.get("components"))


# Every element the case diagram shows with a name (the viewer shows them in the UI's language).
_BPMN_NAMED = ("userTask", "manualTask", "task", "scriptTask", "businessRuleTask", "serviceTask", "sendTask",
               "receiveTask", "callActivity", "subProcess", "startEvent", "endEvent", "intermediateCatchEvent",
               "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway",
               "inclusiveGateway", "eventBasedGateway", "sequenceFlow", "lane", "participant", "textAnnotation",
               "process")


def extract_bpmn(fileobj, keywords, comment_tags, options):
    try:
        root = ElementTree.fromstring(fileobj.read())
    except Exception:
        return
    for el in root.iter():
        local = el.tag.rsplit("}", 1)[-1]
        name = el.get("name")
        if local in _BPMN_NAMED and name and name.strip():
            yield 0, None, name.strip(), [f"bpmn {local} {el.get('id', '')}"]
        if local == "property" and el.get("name") == "milestone_label" and el.get("value"):
            yield 0, None, el.get("value"), [f"bpmn milestone {el.get('value')}"]
        for child in el:       # instructions shown on the task page (looked up stripped, see web.advisor.task)
            if child.tag.rsplit("}", 1)[-1] == "documentation" and child.text and child.text.strip():
                yield 0, None, child.text.strip(), [f"bpmn documentation {el.get('id', '')}"]
