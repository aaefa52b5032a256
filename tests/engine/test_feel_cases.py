"""The server's FEEL (engine.feel) on the shared cases; feelin runs them in tests/browser/test_feel_cases.py."""
import pytest

from engine.forms import compile_expression
from tests.feel_cases import CASES, case_id, same


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_server_evaluates_the_shared_case(case):
    expression = compile_expression(case["expression"])
    value = expression.evaluate(case["context"])
    assert same(value, case["value"]), value
    assert expression.test(case["context"]) is case["met"]


def test_the_cases_cover_both_readings():
    assert len(CASES) > 100
    assert {c["met"] for c in CASES} == {True, False}
    assert any(c["value"] is None and c["met"] for c in CASES)          # null is met, as in form-js
    assert any(c["expression"].startswith("=not(") and c["value"] is None and not c["met"] for c in CASES)
