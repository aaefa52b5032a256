"""Run every conformance case and write the outcome table into docs/conformance.md.

    .venv/bin/python -m tests.conformance.report

Prints the count per outcome. The table sits between the markers in docs/conformance.md.
"""
import tempfile
from collections import Counter
from pathlib import Path

from tests.conformance.cases import CASES
from tests.conformance.runner import OUTCOMES, Lotse, prepare, run

DOC = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"
BEGIN, END = "<!-- outcomes: begin -->", "<!-- outcomes: end -->"


def main():
    rows, counts, results = [], Counter(), []
    with tempfile.TemporaryDirectory() as workdir:
        prepared = prepare(Path(workdir) / "prepared.db")
        lotse = Lotse(Path(workdir) / "case.db")
        for case in CASES:
            results.append((case, *run(case, lotse, prepared)))
    for case, outcome, detail in results:
        counts[outcome] += 1
        expected = "refused clearly" if case.refused else "runs to its expected end"
        why = "; ".join(line.strip() for line in detail.splitlines() if line.strip().startswith(
            tuple(f.split("/")[-1] for f in case.files)))[:400] if case.refused else detail.strip()[:200]
        rows.append(f"| {case.name} | {', '.join(f'`{f}`' for f in case.files)} | {outcome}"
                    f"{'' if outcome == expected else ' (expected: ' + expected + ')'} | {why.replace('|', '/')} |")
    summary = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts[o]) + f" (of {len(CASES)})"
    table = "\n".join([summary, "", "| case | files | outcome | what Lotse said / end state |", "|---|---|---|---|",
                       *rows])
    text = DOC.read_text()
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + table + "\n" + text[stop:])
    print(summary)


if __name__ == "__main__":
    main()
