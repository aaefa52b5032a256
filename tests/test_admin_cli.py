"""Scripted setup with `lotse` (click's runner, as tests/test_cli.py): the first admin on an empty
database, centers, firms and users, the all-or-nothing CSV import and the deploy warning."""
from click.testing import CliRunner

from tests.test_cli import Result, cli_env, lotse, migrated_database  # noqa: F401  (a fresh SQLite database per test)
from web.cli import cli

PASSWORD = "Rheinufer-bei-Nacht\nRheinufer-bei-Nacht\n"


def _run_with_input(lotse_env, *args, text):
    """A command that asks for a password twice, answered by `text`."""
    outcome = CliRunner().invoke(cli, list(args), env=lotse_env, input=text, prog_name="lotse")
    if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
        raise outcome.exception
    return Result(outcome.exit_code, outcome.stdout, outcome.stderr)


def test_first_admin_then_centers_firms_users(lotse, cli_env):
    result = _run_with_input(cli_env, "first-admin", "ada", "--name", "Ada Admin", "--center-name",
                             "Welcome Center Region Aachen", "--center-code", "AC", text="password123456\n" * 2)
    assert result.returncode == 1 and "commonly used passwords" in result.stderr
    result = _run_with_input(cli_env, "first-admin", "ada", "--name", "Ada Admin", "--center-name",
                             "Welcome Center Region Aachen", "--center-code", "AC", text=PASSWORD)
    assert result.returncode == 0, result.stderr
    again = _run_with_input(cli_env, "first-admin", "bob", "--name", "Bob", "--center-name", "X",
                            "--center-code", "X", text=PASSWORD)
    assert again.returncode == 1 and "has users already" in again.stderr

    lotse("add-center", "--name", "Welcome Center Kreis Düren", "--code", "DN", "--areas", "Kreis Düren")
    bad = lotse("add-center", "--name", "WC Hamburg", "--code", "HH", "--areas", "Hamburg", ok=False)
    assert bad.returncode == 1 and "areas: Not a Kreis or kreisfreie Stadt in NRW: Hamburg" in bad.stderr
    assert "DN\tWelcome Center Kreis Düren\tKreis Düren" in lotse("centers").stdout

    out = lotse("add-firm", "--center", "AC", "--name", "Elektro Jansen GmbH", "--kreis", "StädteRegion Aachen",
                "--employees", "60").stdout
    firm_id = out.split()[2]
    assert "Elektro Jansen GmbH\tStädteRegion Aachen\tmedium\tAC" in lotse("firms").stdout
    lotse("add-user", "jansen", "--name", "Petra Jansen", "--center", "AC", "--firm", firm_id,
          "--groups", "employer", "--email", "jansen@example.org")
    duplicate = lotse("add-user", "jansen2", "--name", "P", "--center", "AC", "--email", "JANSEN@example.org",
                      ok=False)
    assert duplicate.returncode == 1 and "email: Another person already has the e-mail address" in duplicate.stderr
    users = lotse("users", "--center", "AC").stdout
    assert "jansen\tPetra Jansen\tjansen@example.org\temployer\tactive\tElektro Jansen GmbH" in users
    assert "Traceback" not in duplicate.stderr + bad.stderr


def test_csv_import_of_500_firms_with_one_bad_line_imports_nothing(lotse, cli_env, tmp_path):
    _run_with_input(cli_env, "first-admin", "ada", "--name", "Ada Admin", "--center-name", "WC Aachen",
                    "--center-code", "AC", text=PASSWORD)
    rows = ["name;legal_form;kreis;employees"] + [f"Firma {n};GmbH;Kreis Heinsberg;{n}" for n in range(2, 502)]
    rows[250] = "Firma 250;GmbH;Kreis Atlantis;250"           # line 251 of the file
    path = tmp_path / "firms.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    for args in ((), ("--dry-run",)):
        result = lotse("import-firms", str(path), "--center", "AC", *args, ok=False)
        assert result.returncode == 1
        assert f"{path}: line 251: kreis: “Kreis Atlantis” is not a Kreis" in result.stderr
        assert "1 bad line(s); nothing was imported" in result.stderr
    assert lotse("firms").stdout == ""

    rows[250] = "Firma 250;GmbH;Kreis Heinsberg;250"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert "all 500 lines are good" in lotse("import-firms", str(path), "--center", "AC", "--dry-run").stdout
    assert lotse("firms").stdout == ""
    assert "imported 500 firms for AC" in lotse("import-firms", str(path), "--center", "AC").stdout
    assert len(lotse("firms").stdout.splitlines()) == 500

    wrong = tmp_path / "users.csv"
    wrong.write_text("username,name\nx,y\n", encoding="utf-8")
    result = lotse("import-users", str(wrong), "--center", "AC", ok=False)
    assert "line 1: name: unknown column" in result.stderr and "line 1: display_name: column is missing" in result.stderr


def test_deploy_warns_of_a_candidate_group_without_active_member(lotse, cli_env, tmp_path):
    from tests.conftest import FIXTURES
    _run_with_input(cli_env, "first-admin", "ada", "--name", "Ada Admin", "--center-name", "WC Aachen",
                    "--center-code", "AC", text=PASSWORD)
    lotse("add-user", "anna", "--name", "Anna", "--center", "AC", "--groups", "advisor")
    diagram = (FIXTURES / "bpmn" / "onboarding.bpmn").read_text(encoding="utf-8")
    (tmp_path / "onboarding.bpmn").write_text(diagram.replace('"supervisor"', '"recognition_team"'),
                                              encoding="utf-8")
    result = lotse("deploy", str(tmp_path / "onboarding.bpmn"), str(FIXTURES / "forms"), "--as", "ada")
    assert "deployed onboarding v1" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert "'recognition_team', which has no active member at AC" in warnings[0]
    assert not any("'advisor'" in line for line in warnings)      # anna is an advisor
