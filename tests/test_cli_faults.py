"""Issue 13, item 4, through the real `lotse` command: every step a new process, as a user drives it."""
import json
import sqlite3

from tests.conftest import FIXTURES
from tests.test_cli import cli_env, lotse, migrated_database  # noqa: F401  (fixtures)


def open_tasks(env, title):
    """Ids of open tasks with this title, read from the database (quicker than a `lotse tasks` per step)."""
    with sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///")) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM human_task WHERE state = 'open' AND title = ? "
                                               "ORDER BY created_at, id", (title,))]


def test_each_step_in_a_new_process_gives_what_one_process_gives(lotse, cli_env):
    lotse("deploy", *(str(FIXTURES / "bpmn" / name) for name in ("mi_documents.bpmn", "signal_event_subprocess.bpmn")))
    lotse("demo")
    lotse("start", "mi_documents", "--as", "berater")
    [prepare] = open_tasks(cli_env, "Unterlagen erfassen")
    lotse("complete", prepare, "--as", "berater", "--data", json.dumps(
        {"documents": ["passport", "cv", "diploma"], "amounts": [1, 2, 3], "people": ["Ana", "Bo"]}))
    for task_id in open_tasks(cli_env, "Unterlage prüfen"):
        lotse("complete", task_id, "--as", "berater")
    for amount in (2, 4, 6):
        [task_id] = open_tasks(cli_env, "Betrag korrigieren")
        lotse("complete", task_id, "--as", "berater", "--data", json.dumps({"amount": amount}))
    for task_id in open_tasks(cli_env, "Bewertung je Person"):
        lotse("complete", task_id, "--as", "berater", "--data", json.dumps({"rating": "good"}))

    lotse("start", "signal_event_subprocess", "--as", "berater")
    for title in ("Rückzug erfassen", "Akte schließen", "Beraten"):
        [task_id] = open_tasks(cli_env, title)
        lotse("complete", task_id, "--as", "berater")

    database = cli_env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        rows = conn.execute('SELECT status, has_incident, state FROM "case" ORDER BY id').fetchall()
    assert [(status, bool(incident)) for status, incident, _ in rows] == [("completed", False)] * 2
    data = json.loads(rows[0][2])["data"]
    assert data["documents"] == ["passport", "cv", "diploma"] and data["amounts"] == [2, 4, 6]
    assert data["ratings"] == ["good", "good"]


def test_failures_are_incidents_or_refusals_never_tracebacks(lotse, cli_env):
    lotse("deploy", str(FIXTURES / "bpmn" / "msg_worker.bpmn"), str(FIXTURES / "bpmn" / "onboarding.bpmn"),
          str(FIXTURES / "forms"))
    lotse("demo")
    refused = lotse("start", "msg_worker", "--as", "berater", ok=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == ("error: process 'msg_worker' starts only when the message 'hire_confirmed' "
                                      "arrives; it cannot be started by hand")
    lotse("start", "onboarding", "--as", "berater")
    [intake] = open_tasks(cli_env, "Erstgespräch führen")
    done = lotse("complete", intake, "--as", "berater", "--data", json.dumps({"name": "Ana", "salary": 90000}))
    assert "Traceback" not in done.stderr and "is active" in done.stdout
    [line] = lotse("cases").stdout.splitlines()
    assert "\tactive INCIDENT\t" in line
