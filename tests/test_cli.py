"""The `lotse` command line against a fresh SQLite database.

The commands run in this process through click's runner, with the app built from the
environment as the `lotse` script builds it (an interpreter per command would cost the suite a
second or two each), once per test: what a new process would read again (the cases, the restored
specs) is read again for each command. `lotse serve` runs as a real process, through the installed script.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from engine import state
from tests.conftest import CHEAP_PASSWORD_HASHES, FIXTURES, ROOT
from web.cli import cli

LOTSE = str(Path(sys.executable).parent / "lotse")


class Result(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli_env(tmp_path):
    return _environment(f"sqlite:///{tmp_path}/cli.db")


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """A SQLite file that `lotse db upgrade` brought to the newest schema, once per session: each test
    gets a copy of it (migrating costs a second or so)."""
    path = tmp_path_factory.mktemp("cli-schema") / "cli.db"
    env = {**_environment(f"sqlite:///{path}")}
    outcome = CliRunner().invoke(cli, ["db", "upgrade"], env=env, prog_name="lotse")
    assert outcome.exit_code == 0, outcome.output
    return path


def _environment(database_url):
    cheap_hashes = {f"LOTSE_{key}": str(value) for key, value in CHEAP_PASSWORD_HASHES.items()}
    return {"DATABASE_URL": database_url, "LOTSE_SECRET_KEY": "cli-test", "REDIS_URL": None, **cheap_hashes}


@pytest.fixture
def lotse(cli_env, migrated_database):
    """The CLI on a fresh database of its own (a copy of the migrated one)."""
    shutil.copyfile(migrated_database, cli_env["DATABASE_URL"].removeprefix("sqlite:///"))
    runner = CliRunner()
    script = ScriptInfo(create_app=cli.create_app)     # the app, built on the first command, serves the test's others

    def run(*args, ok=True):
        state.spec_cache.clear()        # cached by definition id, which the test databases reuse
        try:
            outcome = runner.invoke(cli, list(args), env=cli_env, obj=script, prog_name="lotse")
        finally:
            state.spec_cache.clear()
        if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
            raise outcome.exception
        result = Result(outcome.exit_code, outcome.stdout, outcome.stderr)
        if ok:
            assert result.returncode == 0, result.stderr
        return result
    return run


def test_deploy_start_claim_complete(lotse):
    out = lotse("deploy", str(FIXTURES / "bpmn" / "onboarding.bpmn"), str(FIXTURES / "forms")).stdout
    assert "deployed onboarding v1" in out and "deployed form intake_form v1" in out
    assert "unchanged onboarding v1" in lotse("deploy", str(FIXTURES / "bpmn" / "onboarding.bpmn"),
                                              str(FIXTURES / "forms")).stdout
    assert lotse("definitions").stdout.startswith("onboarding\tv1")
    lotse("demo")
    started = lotse("start", "onboarding", "--as", "berater", "--subject", "Ana Lima",
                    "--data", json.dumps({"channel": "phone"})).stdout
    assert started.startswith("started WC-AC-")
    [line] = lotse("tasks", "--user", "berater").stdout.splitlines()
    task_id, reference, title = line.split("\t")[:3]
    assert title == "Erstgespräch führen" and reference.startswith("WC-AC-")
    assert lotse("tasks", "--user", "dueren").stdout == ""           # another center sees nothing
    assert "claimed" in lotse("claim", task_id, "--as", "berater").stdout
    done = lotse("complete", task_id, "--as", "berater",
                 "--data", json.dumps({"name": "Ana", "salary": 1000, "start_date": "2027-01-01"})).stdout
    assert "is completed" in done
    assert "\tcompleted\t" in lotse("cases").stdout


def test_one_file_deploys_alone_against_the_deployed_versions(lotse, tmp_path):
    """`lotse deploy <one file>`: a changed decision table alone gives new versions of it and of the processes
    that evaluate it; the note is kept, and the deploy is in the audit log."""
    lotse("deploy", str(ROOT / "bpmn"), str(ROOT / "forms"))
    lotse("demo")
    changed = tmp_path / "worker_path.dmn"
    changed.write_text((ROOT / "bpmn" / "worker_path.dmn").read_text(encoding="utf-8")
                       .replace("? &gt;= 50700", "? &gt;= 52000"), encoding="utf-8")
    out = lotse("deploy", str(changed), "--as", "prozess", "--note", "Blaue Karte 2026").stdout
    assert "deployed decision worker_path v2" in out
    assert "deployed worker_journey v2" in out and "deployed worker_journey_by_hire v2" in out
    assert "worker_recognition" not in out
    again = lotse("deploy", str(ROOT / "bpmn" / "worker_visa.bpmn")).stdout
    assert "unchanged worker_visa v1" in again and "deployed" not in again


def test_errors_exit_non_zero_with_one_line(lotse):
    bad = lotse("deploy", str(FIXTURES / "bpmn" / "hostile_import.bpmn"), ok=False)
    assert bad.returncode != 0
    assert "hostile_import.bpmn [run]" in bad.stderr and "nothing was stored" in bad.stderr
    lotse("demo")
    missing = lotse("start", "no_such_process", "--as", "berater", ok=False)
    assert missing.returncode != 0 and missing.stderr.strip() == "error: no process 'no_such_process' is deployed"
    bad_json = lotse("start", "x", "--data", "{not json", ok=False)
    assert bad_json.returncode != 0 and "--data is not valid JSON" in bad_json.stderr
    unknown_user = lotse("claim", "123", "--as", "nobody", ok=False)
    assert unknown_user.stderr.strip() == "error: no user 'nobody'"


def test_serve_answers_http_and_sweeps_in_process(lotse, cli_env):
    """The last step of `make run`: the server really listens, with the embedded sweeper."""
    lotse("demo")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **{k: v for k, v in cli_env.items() if v is not None}}
    env.pop("REDIS_URL", None)
    server = subprocess.Popen([LOTSE, "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    page = response.read().decode()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "lotse serve did not answer within 30 s"
                time.sleep(0.2)
        assert response.status == 200 and "<form" in page
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert "jobs: in-process (no REDIS_URL)" in output


def test_recount_finds_the_counts_the_engine_kept(lotse, cli_env):
    import sqlite3
    lotse("deploy", str(ROOT / "bpmn"), str(ROOT / "forms"))
    lotse("demo")                           # the demo cases, started through the engine
    database = cli_env["DATABASE_URL"].removeprefix("sqlite:///")

    def kept():
        with sqlite3.connect(database) as conn:
            return sorted(conn.execute("SELECT center_id, candidates, group_name, tasks FROM group_task_count "
                                       "WHERE tasks != 0").fetchall())
    before = kept()
    out = lotse("recount").stdout
    assert out.startswith("counted ") and int(out.split()[1]) > 0
    assert kept() == before


def test_mail_links_follow_the_local_servers_port_when_no_base_url_is_set():
    from web.cli import local_base_url
    assert local_base_url("127.0.0.1", 5077) == "http://127.0.0.1:5077"
    assert local_base_url("::1", 8000) == "http://[::1]:8000"


def _rows(cli_env, sql):
    import sqlite3
    with sqlite3.connect(cli_env["DATABASE_URL"].removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def test_the_demo_tells_a_story(lotse, cli_env):
    """Cases at several steps, one overdue, one in error, an employer's task open, a case at the Düren center."""
    lotse("deploy", str(ROOT / "bpmn"), str(ROOT / "forms"))
    out = lotse("demo").stdout
    assert "(Amir Haddad, worker_arrival): in error" in out and "WC-DN-" in out
    steps = {element for (element,) in _rows(cli_env, "SELECT DISTINCT element_id FROM human_task WHERE state = 'open'")}
    assert {"task_intake", "task_path_confirm", "task_recognition_prepare", "task_first_consultation",
            "task_nominate"} <= steps
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    overdue = _rows(cli_env, f"SELECT case_subject, title FROM human_task WHERE state = 'open' AND due_at < '{now}'")
    assert overdue == [("Olena Kovalenko", "Erstgespräch mit der Fachkraft führen")]
    assert _rows(cli_env, 'SELECT subject FROM "case" WHERE has_incident') == [("Amir Haddad",)]
    employer_tasks = _rows(cli_env, "SELECT case_subject FROM human_task WHERE state = 'open' "
                                    "AND candidate_groups LIKE '%employer%'")
    assert ("Elektro Jansen GmbH",) in employer_tasks
    assert _rows(cli_env, 'SELECT c.subject FROM "case" c JOIN organisation o ON o.id = c.center_id '
                          "WHERE o.code = 'DN'") == [("Lena Petrova",)]
    assert "7 cases already present" in lotse("demo").stdout          # idempotent


def test_demo_reset_starts_over_without_reinstalling_and_spares_a_real_database(lotse, cli_env):
    lotse("deploy", str(ROOT / "bpmn"), str(ROOT / "forms"))
    lotse("demo")
    lotse("start", "worker_journey", "--as", "berater", "--subject", "Extra")
    out = lotse("demo", "--reset").stdout
    assert "demo database emptied" in out and "deployed worker_journey v1" in out and "Amir Haddad" in out
    assert len(_rows(cli_env, 'SELECT id FROM "case"')) == 7                   # the extra case is gone
    lotse("add-user", "outsider", "--name", "Out Sider", "--center", "AC", "--no-invite")
    refused = lotse("demo", "--reset", ok=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "people the demo did not create (outsider)" in refused.stderr and "--force" in refused.stderr
    assert len(_rows(cli_env, 'SELECT id FROM "case"')) == 7                   # nothing was touched
    assert "demo database emptied" in lotse("demo", "--reset", "--force").stdout
    assert _rows(cli_env, "SELECT username FROM user WHERE username = 'outsider'") == []
