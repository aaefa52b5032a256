"""The architecture page's table of the engine's listeners is the list `engine.wiring.init_app` registers."""
import re
from pathlib import Path

from engine import wiring

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def documented_listeners() -> set[tuple[str, str, str]]:
    """(target, event, module.function) for each row of the table under "Wiring and background work"."""
    text = ARCHITECTURE.read_text()
    section = text.split("## Wiring and background work", 1)[1].split("\n## ", 1)[0]
    rows = set()
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        target, events, listener = (re.findall(r"`([^`]+)`", cell) for cell in cells[:3])
        rows |= {(target[0], event, listener[0]) for event in events}
    return rows


def registered_listeners() -> set[tuple[str, str, str]]:
    return {(target.__name__, name, f"{function.__module__.removeprefix('engine.')}.{function.__name__}")
            for target, name, function in wiring.LISTENERS}


def test_the_architecture_pages_table_lists_exactly_the_registered_listeners():
    documented, registered = documented_listeners(), registered_listeners()
    assert documented, "no table of listeners found in docs/architecture.md"
    assert documented - registered == set(), "documented but not registered"
    assert registered - documented == set(), "registered but not documented"
