"""A deployed diagram is data: it never runs as a page on the app's origin (issue 14, item 1)."""
import pytest
from playwright.sync_api import expect

from engine import deploy
from engine.db import db
from engine.errors import DeploymentRejected
from engine.models import ProcessDefinition
from tests.conftest import FIXTURES

XHTML_SCRIPT = '<html:script xmlns:html="http://www.w3.org/1999/xhtml">alert(document.domain)</html:script>'
HOSTILE = {
    "xhtml script": (XHTML_SCRIPT, "XHTML element <script>"),
    "xhtml img onerror": ('<h:img xmlns:h="http://www.w3.org/1999/xhtml" src="x" onerror="alert(1)"/>',
                          "XHTML element <img>"),
    "svg script": ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG element <script>"),
    "foreign event handler": ('<x:note xmlns:x="urn:x" onclick="alert(1)"/>', "event-handler attribute onclick"),
    "javascript url": ('<x:link xmlns:x="urn:x" href=" JavaScript:alert(1)"/>', "attribute href holds a 'JavaScript:' URL"),
}


def _permit_with(fragment):
    """ws_permit.bpmn with `fragment` inside the extensionElements of its user task check_docs."""
    xml = (FIXTURES / "bpmn" / "ws_permit.bpmn").read_text()
    at = xml.index("<bpmn:extensionElements>", xml.index('<bpmn:userTask id="check_docs"')) + len("<bpmn:extensionElements>")
    return xml[:at] + fragment + xml[at:]


@pytest.mark.parametrize("case", list(HOSTILE))
def test_deploy_refuses_active_content_naming_the_element(ctx, case):
    fragment, what = HOSTILE[case]
    files = [("ws_permit.bpmn", _permit_with(fragment).encode())]
    with pytest.raises(DeploymentRejected) as info:
        deploy.deploy(files)
    problems = info.value.problems
    assert all(p.element_id == "check_docs" and p.line and "not allowed" in p.message for p in problems)
    assert any(what in p.message for p in problems), [str(p) for p in problems]
    assert db.session.query(ProcessDefinition).count() == 0


def test_deploy_refuses_a_stylesheet_processing_instruction(ctx):
    xml = (FIXTURES / "bpmn" / "ws_permit.bpmn").read_text()
    xml = xml.replace("?>", '?>\n<?xml-stylesheet type="text/xsl" href="data:,x"?>', 1)
    with pytest.raises(DeploymentRejected) as info:
        deploy.deploy([("ws_permit.bpmn", xml.encode())])
    assert "processing instruction <?xml-stylesheet" in str(info.value)


def _plant(case, fragment):
    """Put hostile XML into a case's stored diagram, as a diagram deployed before the check would be."""
    definition = db.session.get(ProcessDefinition, case.definition_id)
    definition.source_file.content = _permit_with(fragment)
    db.session.commit()


def test_the_diagram_is_served_as_inert_text(ws, client_for):
    ravi = ws["cases"][0]
    _plant(ravi, XHTML_SCRIPT)
    response = client_for("anna").get(f"/cases/{ravi.reference}/diagram.bpmn")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert b"alert(document.domain)" in response.data         # the text itself is unchanged for the viewer


def test_a_script_in_a_stored_diagram_never_runs_in_chromium(ws, new_page):
    ravi = ws["cases"][0]
    _plant(ravi, XHTML_SCRIPT)
    page = new_page("anna", at=None)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"/cases/{ravi.reference}/diagram.bpmn")
    expect(page.locator("body")).to_contain_text("alert(document.domain)")     # shown as text, not run
    assert dialogs == []
    page.goto(f"/cases/{ravi.reference}")
    expect(page.locator(".bpmn-viewer [data-element-id='check_docs']").first).to_be_visible()   # viewer still works
    assert dialogs == []
