"""Shared fixtures: an app per database backend, a clean database per test, a movable clock.

Engine tests run on SQLite always and on PostgreSQL too when DATABASE_URL is set (CI sets
it). In CI a missing service is an error, never a skip. `make test` runs the suite on every core
(pytest-xdist): each worker has its own SQLite files, PostgreSQL database, Chromium and live server.
"""
import functools
import gc
import os
import re
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Integer, inspect, select, text, tuple_
from sqlalchemy.schema import sort_tables_and_constraints

from engine import clock, state
from engine.db import db, drop_everything

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The tests' databases and temporary folders need no durability: where the system has a tmpfs at /dev/shm
# they live there (an explicit TMPDIR wins), so that a SQLite commit does not wait for the disk's fsync.
if "TMPDIR" not in os.environ and os.access("/dev/shm", os.W_OK):
    tempfile.tempdir = "/dev/shm"
# The suite allocates many short-lived objects (specs, workflows, ORM rows): at Python's default thresholds the
# collector runs some 1,500 times per worker, walking the long-lived objects (modules, the app, cached specs)
# each time a younger generation overflows. Collected less often, the same cycles are freed later.
gc.set_threshold(50_000, 20, 100)
# pytest-xdist's worker id (`make test` runs the suite on every core): gw0, gw1, ...; unset in a serial run
WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def worker_database_url(url: str | None, worker: str | None = WORKER) -> str | None:
    """DATABASE_URL for this pytest process: each xdist worker empties and fills a PostgreSQL database of
    its own, `<name>_<worker>` on the same server (created by `pytest_configure` if missing)."""
    if not url or not worker:
        return url
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


PG_URL = worker_database_url(os.environ.get("DATABASE_URL"))
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

if os.environ.get("CI") and not (PG_URL and os.environ.get("REDIS_URL")):
    raise pytest.UsageError("CI must run with DATABASE_URL and REDIS_URL set (see .ci/run)")

# The tests' users get argon2id hashes at the lowest cost (the ARGON2_* settings; argon2's minimum
# memory is 8 KiB per lane): the production cost would spend much of the suite's time hashing.
CHEAP_PASSWORD_HASHES = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}
# Tests move the clock by days while a client stays logged in; tests/security/ sets the timeouts it tests.
LONG_SESSIONS = {"SESSION_IDLE_TIMEOUT": 400 * 86400, "SESSION_MAX_AGE": 400 * 86400}

# what `make setup` builds and the pages (and so the tests) need: the npm bundles and the catalogs
BUILT = {"web/static/dist": ("htmx.min.js", "viewer.js", "viewer.css", "form-conditionals.js", "modeler.js",
                             "form-editor.js", "dmn-editor.js", "chart.js", "api-docs.js", "api-docs.css")}
BUILD_SOURCES = ("assets", "package.json", "package-lock.json", ".bpmnlintrc")   # as the Makefile


def setup_problems(root: Path = ROOT) -> list[str]:
    """What is missing or older than its sources among the build outputs (empty: ready to test)."""
    problems = []
    for folder, names in BUILT.items():
        outputs = [root / folder / name for name in names]
        problems += [f"{p.relative_to(root)} is missing" for p in outputs if not p.exists()]
        sources = [f for s in BUILD_SOURCES for f in ([root / s] if (root / s).is_file() else (root / s).glob("*"))]
        built = [p.stat().st_mtime for p in outputs if p.exists()]
        if built and sources and max(f.stat().st_mtime for f in sources) > min(built):
            problems.append(f"{folder} is older than {', '.join(BUILD_SOURCES)}")
    for po in sorted((root / "web" / "translations").glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists():
            problems.append(f"{mo.relative_to(root)} is missing")
        elif mo.stat().st_mtime < po.stat().st_mtime:
            problems.append(f"{mo.relative_to(root)} is older than its .po")
    return problems


def pytest_configure(config):
    problems = setup_problems()
    if problems:
        raise pytest.UsageError("the built assets or catalogs are not ready: " + "; ".join(problems)
                                + ".\nRun `make setup` (npm ci, npm run build, pybabel compile), then pytest again."
                                " `make test` does both.")
    if PG_URL and WORKER:
        create_database_if_missing(os.environ["DATABASE_URL"], PG_URL)


def create_database_if_missing(server_url: str, url: str):
    """Creates the database of `url` through a connection to `server_url` (a database that exists)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from web.config import database_url
    name = make_url(url).database
    admin = create_engine(database_url(server_url, ""), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def make_app(backend, tmpdir, **overrides):
    from web import create_app
    url = f"sqlite:///{tmpdir}/lotse-test.db" if backend == "sqlite" else PG_URL
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "REDIS_URL": None,
              "MAIL_URL": None, "DOCUMENTS_DIR": f"{tmpdir}/documents", **CHEAP_PASSWORD_HASHES, **LONG_SESSIONS}
    if backend == "postgresql":
        from web.config import database_url
        config["SQLALCHEMY_DATABASE_URI"] = database_url(url, tmpdir)
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session", params=BACKENDS)
def app(request):
    tmpdir = tempfile.mkdtemp(prefix="lotse-test-")
    app = make_app(request.param, tmpdir)
    app.backend = request.param
    with app.app_context():
        drop_everything()
        db.create_all()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(tmpdir, ignore_errors=True)


@functools.cache
def sorted_tables() -> list:
    """The tables, parents first: the schema does not change within a run, and SQLAlchemy sorts them anew at each
    `metadata.sorted_tables`, which the fixtures read several times per test."""
    return db.metadata.sorted_tables


@functools.cache
def cyclic_constraints() -> list:
    """The foreign keys that close a cycle (organisation.kuemmerer_id -> user -> organisation)."""
    return [constraint for table, cyclic in sort_tables_and_constraints(sorted_tables()) if table is None
            for constraint in cyclic]


def tables_with_rows() -> set:
    """The tables that hold a row, found with one query (a test writes to a few of the 37)."""
    tables = sorted_tables()
    return {tables[i] for i in db.session.scalars(text(" UNION ALL ".join(
        f'SELECT {i} FROM (SELECT 1 FROM "{t.name}" LIMIT 1) AS t{i}' for i, t in enumerate(tables))))}


def empty_tables(app):
    """Deletes every row, children first, and restarts the ids. On PostgreSQL, DELETE and setval take
    milliseconds where a TRUNCATE of every table takes a second or more (new files for each table).
    Only the tables that hold rows are emptied (most tests write to a few): one query finds them."""
    tables = sorted_tables()
    filled = tables_with_rows()
    # The foreign keys that close a cycle are set to NULL first: no order of the DELETEs could keep them.
    for constraint in cyclic_constraints():
        if constraint.parent in filled:
            db.session.execute(constraint.parent.update().values({c.name: None for c in constraint.columns}))
    for table in reversed(tables):
        if table in filled:
            db.session.execute(table.delete())
    if app.backend == "postgresql":
        sequences = db.session.scalars(text(
            "SELECT pg_get_serial_sequence(format('%I', table_name), column_name) FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
            " AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')")).all()
        db.session.execute(text("SELECT " + ", ".join(f"setval('{s}', 1, false)" for s in sequences)))
    db.session.commit()


_replays = {}     # (setup's name, database, rows before[, day]) -> (clock, [(table, rows)] written, result's ids, spec cache)


def replayed(what, setup, clock_relative=False):
    """setup() on the test's database; or, where it ran before in this worker on the same rows, the rows it wrote
    then, inserted again. For setups that cost much, only add rows (none changed or deleted) and add the same
    rows each time but for their times. A replay moves each time by how far the clock moved since the recording,
    in a text or JSON value too (an event's due date, as ISO text). That is exact where the times are all the
    clock's now (checked), or, with `clock_relative`, the clock's now plus fixed durations (a due date 'P3D' from
    now; never an end of day or a given date: the caller vouches for it). Such a setup is recorded per day (UTC
    and Berlin): what it derives from the day (a case reference's year) stays. Times of the wall clock in
    SpiffWorkflow's state (`last_state_change`, which orders a case's tasks) stay as recorded, earlier than any
    the test makes. The specs and forms the setup left in the spec cache are loaded into it again.
    `what` names the setup and its arguments; setup returns a dict of rows (ORM objects) or None, and so does
    `replayed`.
    """
    filled = tables_with_rows()
    before = {table: {tuple(row) for row in db.session.execute(select(*table.primary_key.columns))}
              if table in filled else set() for table in sorted_tables()}
    now = clock.now()
    day = (now.date(), clock.local_date(now)) if clock_relative else None
    key = (what, db.engine.url.render_as_string(), tuple((t.name, frozenset(ids)) for t, ids in before.items()), day)
    if key in _replays:
        recorded, written, ids, cached = _replays[key]
        move = _mover(now - recorded, written)
        for table, rows in written:
            db.session.execute(table.insert(), [{k: move(v) for k, v in row.items()} for row in rows])
            if db.engine.dialect.name == "postgresql":      # the ids were given: move the sequences past them
                for column in table.primary_key.columns:
                    if isinstance(column.type, Integer):
                        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', "
                                                f"'{column.name}'), (SELECT max({column.name}) FROM \"{table.name}\"))"))
        db.session.commit()
        specs, forms = cached
        for definition_id in specs:
            state.spec_cache.get(definition_id)
        for form_version_id in forms:
            state.spec_cache.form(form_version_id)
        return None if ids is None else _loaded(ids)
    specs_before, forms_before = set(state.spec_cache.items), set(state.spec_cache.forms)
    result = setup()
    db.session.flush()
    written = []
    filled = tables_with_rows()
    for table in (t for t in sorted_tables() if t in filled):
        key_columns = list(table.primary_key.columns)
        rows = [dict(row._mapping) for row in db.session.execute(select(table).order_by(*key_columns))
                if tuple(row._mapping[c] for c in key_columns) not in before[table]]
        if rows:
            written.append((table, rows))
    if clock_relative or all(v in (now, now.replace(tzinfo=None)) for _, rows in written for row in rows
                             for v in row.values() if isinstance(v, (date, datetime))):
        ids = None if result is None else {name: (type(row), inspect(row).identity) for name, row in result.items()}
        cached = ([i for i in state.spec_cache.items if i not in specs_before],
                  [i for i in state.spec_cache.forms if i not in forms_before])
        _replays[key] = (now, written, ids, cached)
    db.session.commit()
    return result


def _mover(delta, written):
    """value -> the value with each recorded time moved by `delta`: a datetime, or its ISO text inside a string
    (one pass, so that a moved time is never moved again), in JSON values too."""
    times = {v for _, rows in written for row in rows for v in row.values() if isinstance(v, datetime)}
    texts = {t.isoformat(): (t + delta).isoformat() for t in times} if delta else {}
    found = re.compile("|".join(re.escape(t) for t in sorted(texts, key=len, reverse=True)))
    days = {t[:10] for t in texts}      # a plain search first: most texts (a diagram, specs) hold none

    def move(value):
        if isinstance(value, datetime):
            return value + delta
        if isinstance(value, str):
            return found.sub(lambda m: texts[m.group()], value) if any(d in value for d in days) else value
        if isinstance(value, dict):
            return {k: move(v) for k, v in value.items()}
        if isinstance(value, list):
            return [move(v) for v in value]
        return value
    return move


def _loaded(ids: dict) -> dict:
    """name -> the row of class and identity `ids[name]`, loaded with one query per class (not one per row)."""
    by_class = {}
    for cls, ident in ids.values():
        by_class.setdefault(cls, []).append(ident)
    loaded = [db.session.scalars(select(cls).where(tuple_(*inspect(cls).primary_key).in_(idents))).all()
              for cls, idents in by_class.items()]
    found = {name: db.session.get(cls, ident) for name, (cls, ident) in ids.items()}   # from the identity map
    del loaded
    return found


def deploy_bundle(user=None, note=None):
    """Deploys the bundled processes (bpmn/ and forms/) on the test's database: one of the dearest setups of
    the suite, replayed where it can be."""
    from engine import deploy

    def setup():
        deploy.deploy_paths([ROOT / "bpmn", ROOT / "forms"], user=user, note=note)
    replayed(("bundle", getattr(user, "id", None), note), setup)


@pytest.fixture
def ctx(app):
    """An app context on a clean database, with the clock frozen."""
    with app.app_context():
        empty_tables(app)
        state.spec_cache.forget_ids()       # the ids will name other versions; specs restored before stay by their JSON
        clock.freeze()
        try:
            yield app
        finally:
            db.session.rollback()
            db.session.remove()
            clock.reset()


@pytest.fixture
def people(ctx):
    """A center with an advisor, a second advisor, a supervisor; an employer with a contact; another center."""
    return replayed("people", _people)


def _people():
    from engine import users
    center = users.get_organisation("center", "Welcome Center Aachen", code="AC")
    other_center = users.get_organisation("center", "Welcome Center Köln", code="K")
    firm = users.get_organisation("employer", "Elektro Jansen GmbH", center=center)
    other_firm = users.get_organisation("employer", "Bäckerei Schmitz", center=center)
    return {
        "center": center, "other_center": other_center, "firm": firm, "other_firm": other_firm,
        "anna": users.ensure_user("anna", "Anna Berger", organisation=center, groups=["advisor"], password="pw-anna"),
        "ben": users.ensure_user("ben", "Ben Okafor", organisation=center, groups=["advisor"], password="pw-ben"),
        "sara": users.ensure_user("sara", "Sara Klein", organisation=center, groups=["advisor", "supervisor"],
                                  password="pw-sara"),
        "kai": users.ensure_user("kai", "Kai Köln", organisation=other_center, groups=["advisor"], password="pw-kai"),
        "jansen": users.ensure_user("jansen", "Petra Jansen", organisation=firm, groups=["employer"],
                                    password="pw-jansen"),
        "schmitz": users.ensure_user("schmitz", "Jo Schmitz", organisation=other_firm, groups=["employer"],
                                     password="pw-schmitz"),
    }


def fixture_files(*names):
    """(name, bytes) pairs from tests/fixtures/bpmn and tests/fixtures/forms."""
    files = []
    for name in names:
        for folder in ("bpmn", "forms"):
            path = FIXTURES / folder / name
            if path.exists():
                files.append((name, path.read_bytes()))
                break
        else:
            raise FileNotFoundError(name)
    return files


@pytest.fixture
def deploy_fixture(ctx):
    from engine import deploy

    def _deploy(*names, user=None):
        result = deploy.deploy(fixture_files(*names), user=user)
        db.session.commit()
        return result
    return _deploy
