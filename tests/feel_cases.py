"""The shared FEEL cases (tests/fixtures/feel_cases.json), read by the server's and the browser's test."""
import json
from pathlib import Path

CASES_FILE = Path(__file__).resolve().parent / "fixtures" / "feel_cases.json"
CASES = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]


def case_id(case):
    return f"{case['expression']} with {json.dumps(case['context'], ensure_ascii=False)}"


def same(a, b) -> bool:
    """FEEL-typed equality of two JSON values: true is not 1, 2 is 2.0."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b
