"""Security tests: the web fixtures, the browser's (for the CSP and diagram tests), more roles than `people`,
and small diagrams written inline."""
from xml.sax.saxutils import escape

import pytest

from engine import deploy, users
from engine.db import db
from tests.browser.conftest import browser, live_server, new_page, shot  # noqa: F401  (shared fixtures)
from tests.web.conftest import client_for, ws  # noqa: F401  (shared fixtures)

BPMN_NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="http://lotse.test/bpmn"')


def script_process(key, script, wait=None):
    """start → [timer `wait`, an ISO duration] → script task `run` → user task `check` → end."""
    timer = (f'<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>"{wait}"'
             f'</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
             f'<bpmn:sequenceFlow id="f0" sourceRef="wait" targetRef="run"/>') if wait else ""
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions {BPMN_NS} id="defs_{key}">'
           f'<bpmn:process id="{key}" isExecutable="true"><bpmn:startEvent id="start"/>'
           f'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{"wait" if wait else "run"}"/>{timer}'
           f'<bpmn:scriptTask id="run" name="Skript" scriptFormat="python"><bpmn:script>{escape(script)}</bpmn:script>'
           f'</bpmn:scriptTask><bpmn:sequenceFlow id="f2" sourceRef="run" targetRef="check"/>'
           f'<bpmn:userTask id="check" name="Ergebnis prüfen" camunda:candidateGroups="advisor"/>'
           f'<bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end"/><bpmn:endEvent id="end"/>'
           f'</bpmn:process></bpmn:definitions>')
    return f"{key}.bpmn", xml.encode()


@pytest.fixture
def deploy_files(ctx):
    def _deploy(*files):
        result = deploy.deploy(list(files))
        db.session.commit()
        return result
    return _deploy


@pytest.fixture
def staff(people):
    """`people` plus a process owner and an admin in Aachen, and a supervisor-admin in Köln."""
    more = {
        "paul": users.ensure_user("paul", "Paul Prozess", organisation=people["center"], groups=["process_owner"],
                                  password="pw-paul"),
        "ada": users.ensure_user("ada", "Ada Admin", organisation=people["center"], groups=["admin"],
                                 password="pw-ada"),
        "kim": users.ensure_user("kim", "Kim Köln", organisation=people["other_center"],
                                 groups=["admin", "supervisor"], password="pw-kim"),
    }
    db.session.commit()
    return {**people, **more}
