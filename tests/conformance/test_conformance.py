"""Every gathered Camunda-dialect diagram runs to its expected end or is refused naming element and feature."""
import pytest

from tests.conformance.cases import CASES
from tests.conformance.runner import run


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case, tmp_path):
    outcome, detail = run(case, tmp_path)
    expected = "refused clearly" if case.refused else "runs to its expected end"
    assert outcome == expected, detail
