"""Process tests: run a scenario (start data, tasks to complete, moves of the clock, expectations)
through the real engine against a set of files, deployed or a draft, without touching real cases.

A scenario is a JSON file stored with the processes (`bpmn/scenarios/<name>.scenario.json`)::

    {"process": "worker_journey", "name": "IT specialist on a Blue Card",
     "start_at": "2026-03-02T08:00:00+00:00",          # optional; default: now
     "subject": "Ravi Kumar", "data": {...},            # the start data
     "steps": [
        {"complete": "task_intake", "data": {...}},     # the first open task of that element id
        {"advance": "P12D"},                            # move the clock (ISO 8601 duration), timers fire
        {"expect": {...}}],                             # checks at this point
     "expect": {...}}                                   # checks at the end

Expectations: `open` (exactly these open task element ids), `reached` / `not_reached` (element ids the
case passed or not), `status` (active, completed, cancelled), `data` ({key: value} of the case data),
`milestones` (exactly these, in order), `due` ({element id: "YYYY-MM-DD"}: the Berlin day an open task
or a waiting timer of that element is due). A step that fails in the diagram (an incident) always fails
the scenario, naming the element and the error. In step data, the text `=today` or `=today+N` / `=today-N`
stands for that day (ISO date) on the scenario's clock.

Each scenario runs on a scratch database of its own (in-memory SQLite, thrown away afterwards), on
a clock and a spec cache private to the running thread: the files are deployed with the same validation
as `lotse deploy` into a scratch database, once per start time of a run's scenarios (a deployment may
depend on the clock), and each scenario gets a copy of that database as the deployment left it. The
case is reloaded from its database before every step, and timers fire as the sweeper fires them. The
scenarios of one run share the specs restored from equal stored JSON, as a server's requests do. A
server's own requests and cases never see any of it.
"""
import json
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import Flask, current_app, has_app_context
from lxml import etree
from flask_babel import lazy_gettext as _l
from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import select
from sqlalchemy.pool import StaticPool

from engine import casedata, cases, clock, deploy, messages, state, wiring
from engine.db import db
from engine.errors import DeploymentRejected
from engine.models import Case, CaseMilestone, DeployedFile, HumanTask, Incident, Organisation, WaitingTimer
from engine.models.statuses import TaskStatus
from engine.parsing import UnsafeXML, parse_xml
from engine.settings import SETTINGS

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "bpmn" / "scenarios"
SUFFIX = ".scenario.json"
EXPECTATIONS = ("open", "reached", "not_reached", "status", "data", "milestones", "due")
_TODAY = re.compile(r"^=today(?:([+-])(\d+))?$")


class ScenarioError(ValueError):
    """A scenario file that cannot be run as written (names the file and the step)."""


@dataclass
class ScenarioResult:
    """What one scenario did: the path taken, the deadlines set, the end state, the failed expectations."""
    file: str
    name: str
    process: str
    path: list = field(default_factory=list)        # element ids the case passed, in order
    deadlines: list = field(default_factory=list)   # {"element_id", "kind" (task|timer), "due_at" (ISO)}
    status: str = ""                                # active | completed | cancelled ("" if it never started)
    open_tasks: list = field(default_factory=list)  # element ids open at the end
    failures: list = field(default_factory=list)    # one sentence each: where and what was expected

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict:
        """For JSON: the failures as text in the current language."""
        return {**asdict(self), "failures": [str(f) for f in self.failures], "passed": self.passed}


# --- reading scenario files --------------------------------------------------------------------------

def scenario_files(folder: Path = SCENARIO_DIR) -> dict[str, bytes]:
    """The scenario files stored with the bundled processes."""
    return {p.name: p.read_bytes() for p in sorted(Path(folder).glob(f"*{SUFFIX}"))}


def parse(name: str, content: bytes) -> dict:
    """A scenario file as a dict, or ScenarioError naming what is wrong and where."""
    try:
        scenario = json.loads(content)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ScenarioError(_l("%(file)s: kein gültiges JSON (%(error)s)", file=name, error=str(exc))) from None
    if not isinstance(scenario, dict) or not isinstance(scenario.get("process"), str):
        raise ScenarioError(_l("%(file)s: ein Szenario ist ein Objekt mit \"process\" (der Prozess-ID)", file=name))
    if not isinstance(scenario.get("data", {}), dict):
        raise ScenarioError(_l("%(where)s: \"data\" muss ein Objekt sein", where=name))
    steps = scenario.get("steps", [])
    if not isinstance(steps, list):
        raise ScenarioError(_l("%(file)s: \"steps\" muss eine Liste sein", file=name))
    for number, step in enumerate(steps, 1):
        where = _l("%(file)s, Schritt %(number)s", file=name, number=number)
        kinds = [k for k in ("complete", "advance", "expect") if isinstance(step, dict) and k in step]
        if len(kinds) != 1:
            raise ScenarioError(_l("%(where)s: ein Schritt hat genau eins von \"complete\", \"advance\" oder "
                                   "\"expect\"", where=where))
        if kinds == ["advance"]:
            _duration(step["advance"], where)
        if kinds == ["complete"] and not isinstance(step.get("data", {}), dict):
            raise ScenarioError(_l("%(where)s: \"data\" muss ein Objekt sein", where=where))
        if kinds == ["expect"]:
            _check_expectations(step["expect"], where)
    if "expect" in scenario:
        _check_expectations(scenario["expect"], f"{name}, expect")
    if "start_at" in scenario:
        _start_at(scenario, name)
    return scenario


def _check_expectations(expect, where):
    if not isinstance(expect, dict):
        raise ScenarioError(_l("%(where)s: Erwartungen sind ein Objekt", where=where))
    unknown = sorted(set(expect) - set(EXPECTATIONS))
    if unknown:
        raise ScenarioError(_l("%(where)s: unbekannte Erwartung %(unknown)s (bekannt: %(known)s)", where=where,
                               unknown=", ".join(unknown), known=", ".join(EXPECTATIONS)))


def _duration(text, where) -> str:
    try:
        TimerEventDefinition.parse_iso_duration(str(text))
    except Exception:
        raise ScenarioError(_l("%(where)s: \"advance\" braucht eine ISO-8601-Dauer wie P12D oder PT2H, nicht "
                               "„%(text)s“", where=where, text=text)) from None
    return str(text)


def _start_at(scenario, name, now: datetime | None = None) -> datetime:
    raw = scenario.get("start_at")
    if raw is None:
        return now or clock.now()
    try:
        at = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(_l("%(file)s: \"start_at\" muss ein ISO-Zeitpunkt sein, nicht „%(text)s“", file=name,
                               text=raw)) from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


# --- running ---------------------------------------------------------------------------------------

def run_scenarios(files: dict[str, bytes], process_key: str | None = None,
                  scenarios: dict[str, bytes] | None = None) -> list[ScenarioResult]:
    """Run scenarios against the file set `files` (name -> content: .bpmn, .dmn, .form): a whole set, as
    `deploy` takes it; for a draft of some files, `with_deployed(draft)` makes one.

    `scenarios` (name -> content) defaults to the `*.scenario.json` entries of `files`, else to the
    bundled ones (`bpmn/scenarios/`). `process_key` keeps only the scenarios of that process. A file
    set that does not deploy fails every scenario with the deployment's problems. Raises
    ScenarioError for a scenario file that cannot be read.
    """
    if scenarios is None:
        scenarios = {n: c for n, c in files.items() if n.endswith(SUFFIX)} or scenario_files()
    parsed = [(name, parse(name, content)) for name, content in sorted(scenarios.items())]
    if process_key is not None:
        parsed = [(name, s) for name, s in parsed if s["process"] == process_key]
    process_files = [(n, c) for n, c in sorted(files.items()) if not n.endswith(SUFFIX)]
    # A deployment may depend on the clock (timer start events): one per start time, as written (ISO).
    now, by_start = clock.now(), {}     # now: the start of every scenario without "start_at"
    for name, scenario in parsed:
        start_at = _start_at(scenario, name, now)
        by_start.setdefault(start_at.isoformat(), (start_at, []))[1].append((name, scenario))
    results = {}
    with state.spec_cache.private():    # the run's scenarios share the specs restored from equal JSON
        for start_at, group in by_start.values():
            with _scratch(start_at, process_files) as deployment:
                for name, scenario in group:
                    results[name] = run_scenario(deployment, name, scenario)
    return [results[name] for name, _ in parsed]


def deployed_files() -> dict[str, bytes]:
    """The files of what is deployed now: each process's newest version and the newest of every
    other file by name (decision tables, forms), for running scenarios against the deployed state."""
    files = {}
    for row in db.session.scalars(select(DeployedFile).order_by(DeployedFile.id)):
        if row.kind != "bpmn":
            files[row.name] = row.content.encode()
    for definition in deploy.latest_definitions():
        files[definition.source_file.name] = definition.source_file.content.encode()
    return files


def with_deployed(draft: dict[str, bytes]) -> dict[str, bytes]:
    """The deployed files with a draft laid over them: a draft file replaces the deployed file of the same
    name and every deployed file that defines one of the same processes, decisions or forms (by id), so a
    draft of one file runs with what it calls and refers to as deployed."""
    files = deployed_files()
    for name, content in draft.items():
        ids = _defined_ids(name, content)
        for other in [n for n, c in files.items() if n == name or (ids and ids & _defined_ids(n, c))]:
            del files[other]
        files[name] = content
    return files


def _defined_ids(name: str, content: bytes) -> set[str]:
    """Ids a file defines for others to use: processes (.bpmn), decisions (.dmn), the form (.form)."""
    try:
        if name.endswith(".form"):
            return {json.loads(content).get("id")} - {None}
        if name.endswith((".bpmn", ".dmn")):
            doc = parse_xml(content, name)
            return {e.get("id") for e in doc.iter() if isinstance(e.tag, str)
                    and etree.QName(e).localname in ("process", "decision") and e.get("id")}
    except (ValueError, AttributeError, UnsafeXML, etree.XMLSyntaxError):
        pass            # a file that does not parse replaces only its namesake; the deployment names the problem
    return set()


def run_scenario(deployment: "_Deployment", name: str, scenario: dict) -> ScenarioResult:
    """One parsed scenario on its own copy of the scratch database `deployment` (see the module's docstring)."""
    result = ScenarioResult(file=name, name=scenario.get("name") or name, process=scenario["process"])
    if deployment.failures:
        result.failures += deployment.failures
        return result
    with deployment.copy():
        run = _Run(result)
        try:
            run.start(scenario)
            for number, step in enumerate(scenario.get("steps", []), 1):
                run.step(_l("Schritt %(number)s", number=number), step)
            if "expect" in scenario:
                run.expect(_l("Ende"), scenario["expect"])
        except _Stop:
            pass
        except Exception as exc:         # whatever the engine raised: a failure of this scenario, never a crash
            db.session.rollback()
            result.failures.append(f"{run.where}: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}")
        run.report()
    return result


class _Stop(Exception):
    """A step could not be taken: the rest of the scenario is meaningless."""


@dataclass
class _Deployment:
    """A scratch app on one in-memory database, and that database as the file set's deployment left it."""
    app: Flask
    start_at: datetime
    failures: list                      # why nothing was deployed (the deployment's problems), or []
    deployed: sqlite3.Connection        # a copy of the database right after the deployment

    @contextmanager
    def copy(self):
        """An app context on the deployed database as it was right after the deployment, on a clock
        standing at the start time, and no specs known by id: a scenario of its own."""
        with self.app.app_context(), clock.private(self.start_at):
            _copy(self.deployed, into=None)
            state.spec_cache.forget_ids()
            yield


def _copy(source: sqlite3.Connection | None, into: sqlite3.Connection | None):
    """One SQLite database copied over another (sqlite3's backup); None stands for the scratch app's own."""
    connection = db.engine.raw_connection()
    try:
        (source or connection.driver_connection).backup(into or connection.driver_connection)
    finally:
        connection.close()


@contextmanager
def _scratch(start_at: datetime, files: list[tuple[str, bytes]]):
    """A scratch app on a fresh in-memory database, `files` deployed there at `start_at` with the same
    validation as `lotse deploy`; thrown away afterwards."""
    app = Flask("lotse-scenario")
    inherited = current_app.config if has_app_context() else {}
    app.config.update({s.key: inherited.get(s.key, s.read()) for s in SETTINGS})
    app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", REDIS_URL=None, MAIL_URL=None, TESTING=True,
                      SQLALCHEMY_ENGINE_OPTIONS={"poolclass": StaticPool,
                                                 "connect_args": {"check_same_thread": False}})
    db.init_app(app)
    wiring.init_app(app)
    deployed = sqlite3.connect(":memory:", check_same_thread=False)
    try:
        with app.app_context(), clock.private(start_at):
            db.create_all()
            center = Organisation(kind="center", name="Scenario", code="SC")
            db.session.add(center)
            db.session.flush()
            db.session.add(Organisation(kind="employer", name="Scenario GmbH", center_id=center.id))
            db.session.commit()
            failures = []
            try:
                deploy.deploy(files)
                db.session.commit()
            except DeploymentRejected as exc:
                db.session.rollback()
                failures = [_l("Die Dateien lassen sich nicht bereitstellen: %(problem)s", problem=str(problem))
                            for problem in exc.problems]
            except Exception as exc:    # whatever the engine raised: a failure of every scenario, never a crash
                db.session.rollback()
                failures = [f"{_l('Start')}: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"]
            db.session.remove()
            _copy(None, into=deployed)
        yield _Deployment(app, start_at, failures, deployed)
    finally:
        deployed.close()
        with app.app_context():
            db.engine.dispose()


class _Run:
    def __init__(self, result: ScenarioResult):
        self.result, self.case_id, self.where = result, None, _l("Start")
        self.deadlines = {}

    def reload(self):
        """Forget loaded rows and which specs a definition id names: each step reads the case and its
        version's stored specs from the database anew (specs restored from equal JSON are reused, as a
        long-running server reuses them)."""
        db.session.expire_all()
        state.spec_cache.forget_ids()

    def case(self) -> Case:
        return db.session.get(Case, self.case_id)

    def start(self, scenario):
        center, firm = (db.session.scalar(select(Organisation).where(Organisation.kind == kind))
                        for kind in ("center", "employer"))
        case = cases.start_case(scenario["process"], center=center, employer=firm, subject=scenario.get("subject", ""),
                                data=self.values(scenario.get("data", {})))
        self.case_id = case.id
        messages.deliver_pending()
        self.note_deadlines()

    def step(self, where, step):
        self.where = where
        self.reload()
        if "complete" in step:
            element = step["complete"]
            index = int(step.get("index", 0))
            found = [t for t in self.open_rows() if t.element_id == element]
            if len(found) <= index:
                self.result.failures.append(_l("%(where)s: „%(element)s“ ist nicht offen (offen: %(open)s)",
                                               where=where, element=element, open=", ".join(self.open_ids()) or "–"))
                raise _Stop()
            cases.complete_task(found[index].id, self.values(step.get("data", {})))
            messages.deliver_pending()
        elif "advance" in step:
            delta = _timedelta(step["advance"], clock.now())
            clock.advance(delta)
            self.sweep()
        else:
            self.expect(where, step["expect"])
        self.note_deadlines()

    def sweep(self):
        """What the timer sweeper does: wake every active case whose timer is due, deliver messages."""
        for _ in range(100):
            if not cases.wake_due(clock.now(), limit=50):
                break
            messages.deliver_pending()

    def values(self, data: dict) -> dict:
        today = clock.local_date(clock.now())

        def value(v):
            match = _TODAY.match(v) if isinstance(v, str) else None
            if match is None:
                return v
            days = int(match.group(2) or 0) * (-1 if match.group(1) == "-" else 1)
            return (today + timedelta(days=days)).isoformat()
        return {k: value(v) for k, v in data.items()}

    def open_rows(self):
        return db.session.scalars(select(HumanTask).where(HumanTask.case_id == self.case_id, HumanTask.state == TaskStatus.OPEN)
                                  .order_by(HumanTask.created_at, HumanTask.id)).all()

    def open_ids(self):
        return sorted(t.element_id for t in self.open_rows())

    def path(self) -> list[str]:
        workflow = state.load(self.case())      # get_tasks() walks the called processes too
        done = [t for t in workflow.get_tasks() if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id]
        return [t.task_spec.bpmn_id for t in sorted(done, key=lambda t: t.last_state_change)]

    def note_deadlines(self):
        rows = [("task", t.element_id, t.due_at) for t in db.session.scalars(
            select(HumanTask).where(HumanTask.case_id == self.case_id, HumanTask.due_at.is_not(None)))]
        rows += [("timer", t.element_id, t.due_at) for t in db.session.scalars(
            select(WaitingTimer).where(WaitingTimer.case_id == self.case_id))]
        for kind, element, due in rows:
            self.deadlines.setdefault((kind, element, due), None)

    def expect(self, where, expect):
        self.reload()
        fail = self.result.failures.append
        case = self.case()
        if "open" in expect and sorted(expect["open"]) != self.open_ids():
            fail(_l("%(where)s: offen sein sollten %(expected)s, offen sind %(found)s", where=where,
                    expected=sorted(expect["open"]), found=self.open_ids()))
        path = self.path()
        for element in expect.get("reached", []):
            if element not in path:
                fail(_l("%(where)s: „%(element)s“ sollte erreicht sein, ist es aber nicht", where=where, element=element))
        for element in expect.get("not_reached", []):
            if element in path:
                fail(_l("%(where)s: „%(element)s“ sollte nicht erreicht sein, ist es aber", where=where, element=element))
        if "status" in expect and case.status != expect["status"]:
            fail(_l("%(where)s: Status sollte %(expected)s sein, ist %(found)s", where=where, expected=expect["status"],
                    found=case.status))
        if "data" in expect:
            data = casedata.current(state.load(case))
            for key, wanted in self.values(expect["data"]).items():
                if key not in data:
                    fail(_l("%(where)s: %(key)s sollte %(expected)s sein, ist aber nicht gesetzt", where=where, key=key,
                            expected=repr(wanted)))
                elif data[key] != wanted:
                    fail(_l("%(where)s: %(key)s sollte %(expected)s sein, ist %(found)s", where=where, key=key,
                            expected=repr(wanted), found=repr(data[key])))
        if "milestones" in expect:
            found = [m.key for m in db.session.scalars(select(CaseMilestone).where(
                CaseMilestone.case_id == self.case_id).order_by(CaseMilestone.id))]
            if found != expect["milestones"]:
                fail(_l("%(where)s: Meilensteine sollten %(expected)s sein, sind %(found)s", where=where,
                        expected=expect["milestones"], found=found))
        for element, day in (expect.get("due") or {}).items():
            dues = [clock.local_date(t.due_at).isoformat() for t in self.open_rows()
                    if t.element_id == element and t.due_at]
            dues += [clock.local_date(t.due_at).isoformat() for t in db.session.scalars(
                select(WaitingTimer).where(WaitingTimer.case_id == self.case_id, WaitingTimer.element_id == element))]
            if day not in dues:
                fail(_l("%(where)s: „%(element)s“ sollte am %(expected)s fällig sein, fällig: %(found)s", where=where,
                        element=element, expected=day, found=", ".join(dues) or "–"))

    def report(self):
        if self.case_id is None:
            return
        self.reload()
        self.result.status = self.case().status
        for incident in db.session.scalars(select(Incident).where(Incident.case_id == self.case_id)
                                           .order_by(Incident.id)):
            where = f"„{incident.element_name}“ ({incident.element_id})" if incident.element_name else incident.element_id
            error = f"{incident.error_type}: {incident.message}"     # outside _l(): a plain format string
            self.result.failures.append(_l("Der Fall ist an %(element)s gescheitert: %(error)s", element=where or "?",
                                           error=error))
        self.result.open_tasks = self.open_ids()
        self.result.path = self.path()
        self.result.deadlines = [{"element_id": element, "kind": kind, "due_at": due.isoformat()}
                                 for kind, element, due in sorted(self.deadlines, key=lambda k: (k[2], k[1]))]


def _timedelta(text: str, start: datetime) -> timedelta:
    duration = TimerEventDefinition.parse_iso_duration(text)
    return TimerEventDefinition.get_timedelta_from_start(duration, start)
