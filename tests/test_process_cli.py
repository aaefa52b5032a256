"""`lotse scenarios`, `lotse migrate` and `lotse rollback` against a fresh SQLite database."""
import json

from tests.conftest import ROOT
from tests.engine.test_migration import approval
from tests.test_cli import cli_env, lotse, migrated_database  # noqa: F401 (fixtures)


def write(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    return str(tmp_path / name)


def test_scenarios_run_against_the_deployed_versions_or_a_draft_folder(lotse, tmp_path):
    lotse("deploy", str(ROOT / "bpmn"), str(ROOT / "forms"))
    out = lotse("scenarios", "worker_journey").stdout
    assert out.count("passed\tworker_journey") == 2, out
    # a draft in which the path confirmation gets 5 days: the scenario that checks its deadline fails
    draft = tmp_path / "draft"
    draft.mkdir()
    for folder in ("bpmn", "forms"):
        for path in (ROOT / folder).glob("*.*"):
            content = path.read_bytes()
            if path.name == "worker_journey.bpmn":
                content = content.replace(b'camunda:dueDate="P3D" camunda:formRef="worker_path_confirm"',
                                          b'camunda:dueDate="P5D" camunda:formRef="worker_path_confirm"')
            (draft / path.name).write_bytes(content)
    failed = lotse("scenarios", "worker_journey", "--files", str(draft), ok=False)
    assert failed.returncode == 1
    assert "FAILED\tworker_journey\tworker_blue_card.scenario.json" in failed.stdout
    assert "Step 3: “task_path_confirm” should be due on 2026-03-05, due: 2026-03-07" in failed.stdout
    assert "2 of 2 scenario(s) failed" in failed.stderr
    one = tmp_path / "one"
    one.mkdir()
    (one / "journey draft.bpmn").write_bytes((draft / "worker_journey.bpmn").read_bytes())
    overlaid = lotse("scenarios", "worker_journey", "--draft", str(one / "journey draft.bpmn"), ok=False)
    assert overlaid.returncode == 1 and overlaid.stdout.count("due: 2026-03-07") == 2
    bad = tmp_path / "bad"
    bad.mkdir()
    write(bad, "x.scenario.json", json.dumps({"process": "worker_journey", "steps": [{"advance": "soon"}]}).encode())
    refused = lotse("scenarios", "--scenarios", str(bad), ok=False)
    assert refused.returncode == 1 and "x.scenario.json, step 1: \"advance\" needs an ISO 8601 duration" \
        in refused.stderr and "Traceback" not in refused.stderr


def test_migrate_dry_run_then_migrate_one_case_then_roll_back(lotse, tmp_path):
    lotse("deploy", write(tmp_path, "approval.bpmn", approval()[1]))
    lotse("demo")      # people and centers (its cases are of other processes)
    lotse("start", "approval", "--as", "berater")
    lotse("start", "approval", "--as", "berater")
    lotse("deploy", write(tmp_path, "approval.bpmn", approval(review_id="check", archive=True)[1]))

    dry = lotse("migrate", "--from", "approval:1", "--to", "2", "--dry-run", ok=False)
    assert dry.returncode == 1 and dry.stdout.count("refused\t") == 2
    assert "which v2 does not have (map it to an element of v2: review=new_id)" in dry.stdout
    assert "2 of 2 case(s) would be refused" in dry.stderr
    ok = lotse("migrate", "--from", "approval:1", "--to", "2", "--map", "review=check", "--dry-run")
    assert ok.stdout.count("would move\t") == 2
    reference = ok.stdout.split("\t")[1]
    moved = lotse("migrate", "--from", "approval:1", "--to", "2", "--map", "review=check", "--case", reference,
                  "--as", "prozess")
    assert moved.stdout.startswith(f"moved\t{reference}")
    assert lotse("migrate", "--from", "approval:1", "--to", "2", "--map", "review=check", "--dry-run") \
        .stdout.count("would move\t") == 1
    for args, message in ((("--from", "approval", "--to", "2"), "--from needs KEY:VERSION"),
                          (("--from", "approval:1", "--to", "9"), "process approval has no version 9"),
                          (("--from", "approval:1", "--to", "2", "--map", "review"), "old_id=new_id")):
        failed = lotse("migrate", *args, ok=False)
        assert failed.returncode == 1 and message in failed.stderr and "Traceback" not in failed.stderr

    assert lotse("rollback", "approval", "--to", "1").stdout == "deployed approval v3 (the same as v1)\n"
    refused = lotse("rollback", "approval", "--to", "3", ok=False)
    assert refused.returncode == 1 and "v3 is already the newest version" in refused.stderr
