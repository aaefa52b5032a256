"""What one case's workflow shows right now: its current data and the diagram's markers.

These load the case's workflow, so pages of one case use them; lists never do (they read
the derived tables). A state that cannot be loaded yields empty results rather than
hiding the rest of the page.
"""
from xml.etree.ElementTree import ParseError

from defusedxml import ElementTree as SafeET
from SpiffWorkflow import TaskState

from engine import casedata, state

BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
NO_MARKERS = {"completed": [], "active": [], "waiting": [], "error": []}


def diagram_and_data(case, xml: str) -> tuple[dict, dict, bool]:
    """(markers for the bpmn-js viewer, the case's current data, whether its workflow could be read)."""
    try:
        workflow = state.load(case)
        return diagram_markers(workflow, xml), case_data(workflow), True
    except Exception:                      # a broken state must not hide the rest of the case
        return dict(NO_MARKERS), {}, False


def task_data(case, task_id) -> dict:
    """The data an open task sees."""
    try:
        task = state.find_task(state.load(case), task_id)
    except Exception:                      # a case that cannot be loaded still shows its task page
        return {}
    return casedata.seen_by(task) if task is not None else {}


def _sequence_flows(xml: str) -> list[tuple[str, str, str]]:
    try:
        root = SafeET.fromstring(xml.encode("utf-8"))
    except (ParseError, ValueError):
        return []
    return [(el.get("id"), el.get("sourceRef"), el.get("targetRef")) for el in root.iter(f"{BPMN_NS}sequenceFlow")]


def element_names(xml: str) -> dict[str, str]:
    """{element id: name} of every named element of the diagram (tasks, events, gateways, flows, lanes…)."""
    try:
        root = SafeET.fromstring(xml.encode("utf-8"))
    except (ParseError, ValueError):
        return {}
    return {el.get("id"): el.get("name").strip() for el in root.iter()
            if el.get("id") and el.get("name") and el.get("name").strip() and el.tag.startswith(BPMN_NS)}


def diagram_markers(workflow, xml: str) -> dict:
    """Element ids per marker for the bpmn-js viewer, from this case's workflow."""
    completed, active, waiting, error = set(), set(), set(), set()
    for task in workflow.get_tasks():
        spec = task.task_spec
        bpmn_id = getattr(spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        if task.state == TaskState.COMPLETED:
            completed.add(bpmn_id)
        elif task.state in (TaskState.READY, TaskState.STARTED):
            active.add(bpmn_id)
        elif task.state == TaskState.WAITING:
            if getattr(spec, "event_definition", None) is not None or getattr(spec, "manual", False):
                waiting.add(bpmn_id)
            else:
                active.add(bpmn_id)
        elif task.state == TaskState.ERROR:
            error.add(bpmn_id)
    reached = completed | active | waiting | error
    flows = {fid for fid, src, dst in _sequence_flows(xml) if fid and src in completed and dst in reached}
    return {"completed": sorted(completed | flows), "active": sorted(active - error),
            "waiting": sorted(waiting - active - error), "error": sorted(error)}


def case_data(workflow) -> dict:
    """The case's current data, with that of called processes still running."""
    return casedata.current(workflow)
