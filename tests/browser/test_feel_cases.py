"""The browser's FEEL: the built form-conditionals bundle (feelin, as form-js uses it) in Chromium.

The same cases run against the server's evaluator in tests/engine/test_feel_cases.py; here they run
against `window.lotseFeel` of web/static/dist/form-conditionals.js, the script the task page loads.
A live-toggling test checks that the page hides what the server hides.
"""
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from engine.forms import FormDefinition, submission_state
from tests.feel_cases import CASES, case_id, same
from web.forms_html import SCRIPT_PATH, render_form

BUNDLE = Path(__file__).resolve().parents[2] / "web" / "static" / SCRIPT_PATH


@pytest.fixture(scope="module")
def feel_page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<!doctype html><html><body></body></html>")
    page.add_script_tag(path=str(BUNDLE))
    yield page
    context.close()


def test_feelin_agrees_with_every_shared_case(feel_page):
    results = feel_page.evaluate(
        "cases => cases.map(c => [window.lotseFeel.evaluate(c.expression, c.context),"
        " window.lotseFeel.conditionMet(c.expression, c.context)])", CASES)
    wrong = []
    for case, (value, met) in zip(CASES, results):
        expected, expected_met = case.get("feelin_value", case["value"]), case.get("feelin_met", case["met"])
        if not same(value, expected) or met is not expected_met:
            wrong.append(f"{case_id(case)}: feelin {value!r}/{met}, expected {expected!r}/{expected_met}")
    assert not wrong, "\n".join(wrong)


FORM = FormDefinition.from_json({"id": "Live", "components": [
    {"type": "checkbox", "key": "family", "label": "Mit Familie"},
    {"type": "group", "id": "G", "label": "Familie", "conditional": {"hide": "=not(family)"}, "components": [
        {"type": "number", "key": "children", "label": "Kinder"},
        {"type": "textfield", "key": "school", "label": "Schule", "validate": {"required": True},
         "conditional": {"hide": "=children = 0 or children = null"}},
    ]},
    {"type": "radio", "key": "size", "label": "Größe", "values": [{"label": "klein", "value": 1},
                                                                 {"label": "groß", "value": 2}]},
    {"type": "textfield", "key": "big", "label": "Warum groß?", "conditional": {"hide": "=size != 2"}},
    {"type": "number", "key": "amount", "label": "Betrag"},
    {"type": "textfield", "key": "reason", "label": "Begründung", "conditional": {"hide": "=amount < 1000"}},
    {"type": "textfield", "key": "ctx", "label": "Fall", "conditional": {"hide": '=country = "DE"'}},
]})
CONTEXT = {"country": "IN"}


def _live_visible(page):
    return sorted(k for k in FORM.fields if page.locator(f"[data-form-key='{k}']").is_visible())


def _server_visible(submitted):
    state = submission_state(FORM, MultiDict(submitted), CONTEXT)
    return sorted(k for k, comp in FORM.fields.items() if not state.is_hidden(comp))


def test_live_conditions_hide_what_the_server_hides(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_content(f"<!doctype html><html><body><form>{render_form(FORM, {}, context=CONTEXT)}</form></body></html>")
    page.add_script_tag(path=str(BUNDLE))
    steps = [
        (lambda: None, []),
        (lambda: page.get_by_label("Mit Familie").check(), [("family", "true")]),
        (lambda: page.get_by_label("Kinder").fill("2"), [("family", "true"), ("children", "2")]),
        (lambda: page.get_by_label("groß", exact=True).check(), [("family", "true"), ("children", "2"), ("size", "2")]),
        (lambda: page.get_by_label("Betrag").fill("1500,50"),
         [("family", "true"), ("children", "2"), ("size", "2"), ("amount", "1500,50")]),
        (lambda: page.get_by_label("Mit Familie").uncheck(), [("children", "2"), ("size", "2"), ("amount", "1500,50")]),
    ]
    for act, submitted in steps:
        act()
        assert _live_visible(page) == _server_visible(submitted), submitted
    # a condition on case data (country) stays as the server rendered it
    assert page.locator("[data-form-key='ctx']").is_visible()
    context.close()
