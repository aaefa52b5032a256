"""Every scenario stored with the bundled journeys (bpmn/scenarios/) passes against bpmn/ and forms/."""
import pytest

from engine import deploy, scenarios
from tests.conftest import ROOT

FILES = scenarios.scenario_files()


def test_the_journeys_come_with_scenarios():
    processes = {scenarios.parse(name, content)["process"] for name, content in FILES.items()}
    assert {"worker_journey", "employer_journey"} <= processes


@pytest.mark.parametrize("name", sorted(FILES))
def test_scenario(ctx, name):
    files = dict(deploy.collect_files([ROOT / "bpmn", ROOT / "forms"]))
    [result] = scenarios.run_scenarios(files, scenarios={name: FILES[name]})
    assert result.failures == []
    assert result.path and result.status in ("active", "completed")
