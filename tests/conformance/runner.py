"""Run a conformance case through `lotse` commands against a fresh SQLite database; classify the outcome."""
import json
import shutil
import traceback
from pathlib import Path

from click.testing import CliRunner
from flask.cli import ScriptInfo

from datetime import timedelta

from engine import clock, state
from engine.db import db
from tests.conftest import CHEAP_PASSWORD_HASHES
from web.cli import cli

DIAGRAMS = Path(__file__).resolve().parent / "diagrams"
OUTCOMES = ("runs to its expected end", "refused clearly", "refused unclearly", "wrong result", "traceback")


class Lotse:
    """`lotse` commands in this process (click's runner) over one database file, each with what a fresh process
    reads again (the specs, the rows); the app is built from the environment on the first command and serves
    every database laid at that path afterwards (`start_from`): it holds nothing of a case but its connections."""

    def __init__(self, database: Path):
        self.database = database
        self.env = {"DATABASE_URL": f"sqlite:///{database}", "LOTSE_SECRET_KEY": "conformance", "REDIS_URL": None,
                    "MAIL_URL": None, **{f"LOTSE_{key}": str(value) for key, value in CHEAP_PASSWORD_HASHES.items()}}
        self.runner = CliRunner()
        self.app = None
        self.script = ScriptInfo(create_app=self._create_app)

    def _create_app(self):
        self.app = cli.create_app()
        return self.app

    def start_from(self, database: Path):
        """The database becomes a copy of `database`; the app closes its connections to the one before."""
        if self.app is not None:
            with self.app.app_context():
                db.engine.dispose()
        shutil.copyfile(database, self.database)

    def __call__(self, *args, later_by=0):
        """Run `lotse ARGS`; `later_by` seconds: as a process whose clock is that far ahead (LOTSE_CLOCK_OFFSET_SECONDS)."""
        state.spec_cache.clear()         # each command is a fresh process's view of the database
        clock.reset()
        clock.advance(timedelta(seconds=later_by))
        try:
            outcome = self.runner.invoke(cli, [str(arg) for arg in args], env=self.env, obj=self.script,
                                         prog_name="lotse")
        finally:
            clock.reset()
        if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
            text = "".join(traceback.format_exception(outcome.exception))
            raise Traceback(f"lotse {' '.join(map(str, args))}\n{text}")
        return outcome.exit_code, outcome.stdout, outcome.stderr


class Traceback(Exception):
    pass


class Wrong(Exception):
    pass


def prepare(database: Path) -> Path:
    """The database every case starts from: `lotse db upgrade` and `lotse demo` (the centers and people the
    cases act as). Made once and copied for each case, as it costs more than most cases."""
    lotse = Lotse(database)
    for args in (("db", "upgrade"), ("demo",)):
        code, _out, err = lotse(*args)
        if code != 0:
            raise RuntimeError(f"lotse {' '.join(args)}: {err}")
    return database


def run(case, lotse: Lotse, prepared: Path) -> tuple[str, str]:
    """(outcome, detail) of one case, on a fresh copy of the `prepared` database."""
    lotse.start_from(prepared)
    try:
        code, out, err = lotse("deploy", *[DIAGRAMS / name for name in case.files])
        if "Traceback" in out + err:
            return "traceback", err
        if case.refused:
            if code == 0:
                return "wrong result", f"deployed, but should be refused: {out}{err}"
            missing = [text for text in case.refused if text not in err]
            return ("refused clearly", err) if not missing else ("refused unclearly", f"missing {missing}: {err}")
        if code != 0:
            return "refused unclearly", err
        case_id = None
        for step in case.steps:
            case_id = _step(lotse, step, case_id)
        code, out, err = lotse("case", case_id)
        lines = out.splitlines()
        status = lines[0].split("\t")[2]
        problems = [line for line in lines if line.startswith("incident")]
        data = json.loads(lines[-1])
        wrong = [f"{k}: {data.get(k)!r} != {v!r}" for k, v in case.data.items() if data.get(k) != v]
        if case.incident:                  # expected to stop at an incident that names the element and the cause
            if not any(case.incident in line for line in problems) or wrong:
                return "wrong result", f"status {status}, {problems}, {wrong}"
            return "runs to its expected end", f"incident: {problems[0].split(chr(9), 1)[1]}"
        if status != case.status or problems or wrong:
            return "wrong result", f"status {status}, {problems}, {wrong}"
        return "runs to its expected end", status
    except Traceback as exc:
        return "traceback", str(exc)
    except Wrong as exc:
        return "wrong result", str(exc)


def _check(result, what):
    code, out, err = result
    if code != 0:
        raise Wrong(f"{what}: {err.strip()}")
    return out


def _step(lotse, step, case_id):
    kind = step[0]
    if kind == "start":
        out = _check(lotse("start", step[1], "--as", "leitung", "--data", json.dumps(step[2])), f"start {step[1]}")
        return int(out.split("(case ")[1].split(")")[0])
    if kind == "correlate":
        _, message, keys, data = step
        args = ["correlate", message, "--center", "AC", "--data", json.dumps(data)]
        for key, value in keys.items():
            args += ["--key", f"{key}={value}"]
        out = _check(lotse(*args), f"correlate {message}")
        return int(out.split("(case ")[1].split(")")[0])
    if kind == "sweep":                 # the sweeper runs `seconds` later: timer starts and due timers fire
        _, seconds = step
        _check(lotse("sweep", later_by=seconds), "sweep")
        out = _check(lotse("cases"), "cases")
        return case_id or int(out.splitlines()[0].split("\t")[0])
    if kind == "complete":
        _, title, data = step
        rows = [line.split("\t") for line in _check(lotse("tasks"), "tasks").splitlines()]
        task = next((row for row in rows if row[2] == title), None)
        if task is None:
            raise Wrong(f"no open task {title!r} (open: {[row[2] for row in rows]})")
        _check(lotse("complete", task[0], "--as", "leitung", "--data", json.dumps(data)), f"complete {title}")
        return case_id
    if kind in ("external", "error"):
        _, topic, payload = step
        lines = _check(lotse("external", "fetch", "--topic", topic, "--worker", "conformance"), "fetch").splitlines()
        if not lines:
            raise Wrong(f"no external task of topic {topic!r} to fetch")
        task_id = lines[0].split("\t")[0]
        if kind == "external":
            _check(lotse("external", "complete", task_id, "--worker", "conformance", "--data", json.dumps(payload)),
                   f"complete {topic}")
        else:
            _check(lotse("external", "error", task_id, "--worker", "conformance", "--code", payload), f"error {topic}")
        return case_id
    raise ValueError(kind)
