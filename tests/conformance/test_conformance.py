"""Every gathered Camunda-dialect diagram runs to its expected end or is refused naming element and feature."""
import pytest

from tests.conformance.cases import CASES
from tests.conformance.runner import Lotse, prepare, run


@pytest.fixture(scope="session")
def prepared(tmp_path_factory):
    return prepare(tmp_path_factory.mktemp("conformance") / "prepared.db")


@pytest.fixture(scope="session")
def lotse(tmp_path_factory):
    """The cases' `lotse`: one app (built on the first command) over one file, which each case lays anew."""
    return Lotse(tmp_path_factory.mktemp("conformance") / "case.db")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case, lotse, prepared):
    outcome, detail = run(case, lotse, prepared)
    expected = "refused clearly" if case.refused else "runs to its expected end"
    assert outcome == expected, detail
