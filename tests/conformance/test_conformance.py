"""Every gathered Camunda-dialect diagram runs to its expected end or is refused naming element and feature."""
import pytest

from tests.conformance.cases import CASES
from tests.conformance.runner import prepare, run


@pytest.fixture(scope="session")
def prepared(tmp_path_factory):
    return prepare(tmp_path_factory.mktemp("conformance") / "prepared.db")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case, tmp_path, prepared):
    outcome, detail = run(case, tmp_path, prepared)
    expected = "refused clearly" if case.refused else "runs to its expected end"
    assert outcome == expected, detail
