"""Cost of running diagram code under the sandbox's limits, per call, in CPU time.

    .venv/bin/python bench/sandbox.py

A task completion runs a few scripts and expressions. This times `execute` (a two-line script)
and `evaluate` (a gateway condition) on ~3 KB of case data, against the same compiled code run
with plain exec/eval in the same scope (no deep copy, no limits, no storability check), so the
difference is what the sandbox adds. CPU time (`time.process_time`), median of 7 rounds, so a
busy machine distorts it less than wall time.
"""
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import sandbox  # noqa: E402

CONTEXT = {f"step_{i}": i * 2 for i in range(20)}
CONTEXT.update(counter=5, worker_name="Ravi Kumar", country="IN", notes="x" * 2000,
               hire={"id": 1, "positions": [{"no": i} for i in range(10)]})
SCRIPT = "counter = counter + 1\nstep_1 = counter * 2"
EXPRESSION = "counter > 3 and country == 'IN'"


def per_call(fn, n=2000) -> float:
    rounds = []
    for _ in range(7):
        started = time.process_time()
        for _ in range(n):
            fn()
        rounds.append((time.process_time() - started) / n * 1e6)
    return statistics.median(rounds)


def main():
    env = sandbox.script_engine.environment
    scope = env._globals(dict(CONTEXT), None)
    script, expression = sandbox.compile_code(SCRIPT, "exec"), sandbox.compile_code(EXPRESSION, "eval")
    rows = [("script  (execute)", lambda: env.execute(SCRIPT, dict(CONTEXT)), lambda: exec(script, dict(scope))),
            ("condition (evaluate)", lambda: env.evaluate(EXPRESSION, CONTEXT), lambda: eval(expression, dict(scope))),
            ("  of which the run under limits", lambda: sandbox._run(script, dict(scope)), None),
            ("  of which the data check", lambda: sandbox._check_storable(CONTEXT), None),
            ("  of which the deep copy", lambda: sandbox.copy.deepcopy(CONTEXT), None)]
    for label, sandboxed, plain in rows:
        line = f"{label:34} {per_call(sandboxed):7.1f} µs"
        if plain is not None:
            line += f"   plain {per_call(plain):5.1f} µs"
        print(line)


if __name__ == "__main__":
    main()
