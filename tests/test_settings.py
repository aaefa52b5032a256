"""engine.settings: the one table of settings, the README's table of environment variables, the accessor."""
import re
from pathlib import Path

import pytest

from engine import settings
from engine.settings import SETTINGS, setting

ROOT = Path(__file__).resolve().parent.parent


def readme_variables():
    """{variable: default column} of the README's table under '## Environment variables'."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| (.*?) \| .* \|$", section, re.M)
    return dict(rows)


def documented_default(s):
    if s.shown_default:
        return s.shown_default
    return "unset" if s.default is None else f"`{s.default}`"


def test_the_readme_documents_every_setting_with_its_default_and_nothing_else():
    documented = readme_variables()
    declared = {s.env: documented_default(s) for s in SETTINGS}
    assert sorted(set(declared) - set(documented)) == [], "settings missing from the README's table"
    assert sorted(set(documented) - set(declared)) == [], "README documents variables engine/settings.py lacks"
    wrong = {env: (documented[env], default) for env, default in declared.items() if documented[env] != default}
    assert wrong == {}, "README default differs from engine/settings.py (README, module)"


def test_no_other_module_reads_the_environment():
    offenders = [str(p.relative_to(ROOT)) for folder in ("engine", "web") for p in (ROOT / folder).rglob("*.py")
                 if p.name != "settings.py" and re.search(r"os\.environ|getenv\(", p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_app_holds_every_setting_parsed(app):
    for s in SETTINGS:
        if s.key not in ("DATABASE_URL", "SECRET_KEY"):   # derived: the database URI, the kept key
            assert s.key in app.config, s.env
    assert isinstance(app.config["SWEEP_LIMIT"], int) and isinstance(app.config["MAIL_RETRY_BASE"], float)


def test_the_configuration_derives_flask_values_from_the_settings(tmp_path, monkeypatch):
    from web.config import from_environment
    monkeypatch.setenv("LOTSE_SESSION_MAX_AGE", "600")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = from_environment(str(tmp_path))
    assert config["WTF_CSRF_TIME_LIMIT"] == config["PERMANENT_SESSION_LIFETIME"] == config["SESSION_MAX_AGE"] == 600
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/lotse.db" and "DATABASE_URL" not in config
    assert config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()


def test_setting_reads_the_app_then_the_environment_then_the_default(app, monkeypatch):
    monkeypatch.setenv("LOTSE_SWEEP_LIMIT", "7")
    assert setting("SWEEP_LIMIT") == 7                      # outside an app: the environment
    monkeypatch.delenv("LOTSE_SWEEP_LIMIT")
    assert setting("SWEEP_LIMIT") == 500                    # the default
    with app.app_context():
        app.config["SWEEP_LIMIT"] = 3
        try:
            assert setting("SWEEP_LIMIT") == 3              # the app's (tests override there)
        finally:
            app.config["SWEEP_LIMIT"] = 500
    assert setting("SWEEP_INTERVAL", app) == app.config["SWEEP_INTERVAL"]


def test_environment_values_are_parsed_and_empty_means_default():
    values = settings.from_environment({"LOTSE_SECURE_TRANSPORT": "1", "LOTSE_MAIL_TIMEOUT": "5", "LOTSE_RQ_QUEUE": ""})
    assert values["SECURE_TRANSPORT"] is True and values["MAIL_TIMEOUT"] == 5.0 and values["RQ_QUEUE"] == "lotse"
    assert values["REDIS_URL"] is None and settings.from_environment({})["SECURE_TRANSPORT"] is None
    assert settings.from_environment({"LOTSE_SECURE_TRANSPORT": "0"})["SECURE_TRANSPORT"] is False


def test_an_unknown_setting_is_a_clear_error():
    with pytest.raises(KeyError):
        setting("NO_SUCH_SETTING")
