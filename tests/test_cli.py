"""The `lotse` command line against a fresh SQLite database.

The commands run in this process through click's runner, with the app built from the
environment as the `lotse` script builds it (an interpreter per command would cost the suite a
second or two each); `lotse serve` runs as a real process, through the installed script.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner

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
    cheap_hashes = {f"LOTSE_{key}": str(value) for key, value in CHEAP_PASSWORD_HASHES.items()}
    return {"DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "LOTSE_SECRET_KEY": "cli-test", "REDIS_URL": None,
            **cheap_hashes}


@pytest.fixture
def lotse(cli_env):
    runner = CliRunner()

    def run(*args, ok=True):
        state.spec_cache.clear()        # cached by definition id, which the test databases reuse
        try:
            outcome = runner.invoke(cli, list(args), env=cli_env, prog_name="lotse")
        finally:
            state.spec_cache.clear()
        if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
            raise outcome.exception
        result = Result(outcome.exit_code, outcome.stdout, outcome.stderr)
        if ok:
            assert result.returncode == 0, result.stderr
        return result
    run("db", "upgrade")
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
