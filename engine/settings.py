"""Every setting Lotse reads from the environment, with its default: the one table (SETTINGS).

- `web.config.from_environment` loads every setting into the Flask app's config when the app is
  created (tests and `create_app(overrides)` change them there);
- the engine reads a setting only through `setting(key)`: the app's value, or, outside an app
  (the clock at import), the environment's value or the default.

The table lives in the engine, which never imports `web/`. The README's table of environment
variables is checked against it (tests/test_settings.py): add a setting here and there.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from flask import current_app, has_app_context

__all__ = ["Setting", "SETTINGS", "setting", "environment_value", "from_environment"]


@dataclass(frozen=True)
class Setting:
    env: str                              # the environment variable
    default: str | None                   # used when the variable is unset or empty; None: unset
    parse: Callable[[str], Any] = str     # applied to the variable's text and to the default
    key: str = ""                         # the app.config key; default: `env` without LOTSE_
    shown_default: str = ""               # the README's default column when the default is computed

    def __post_init__(self):
        if not self.key:
            object.__setattr__(self, "key", self.env.removeprefix("LOTSE_"))

    def read(self, environ: Mapping[str, str] = os.environ) -> Any:
        raw = environ.get(self.env) or self.default
        return None if raw is None else self.parse(raw)


def _yes(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


SETTINGS: tuple[Setting, ...] = (
    # where things are
    Setting("DATABASE_URL", None, shown_default="`sqlite:///…/instance/lotse.db`"),
    Setting("REDIS_URL", None),
    Setting("MAIL_URL", None),
    Setting("MAIL_FROM", "Lotse <lotse@localhost>"),
    # unset (None): `lotse serve` on a loopback address uses its own address (web/cli.py), else DEFAULT_BASE_URL
    Setting("LOTSE_BASE_URL", None, shown_default="unset: on this machine, the address a request reached (a mail "
                                                  "queued by a job: `lotse serve`'s own), else `http://localhost:5000`"),
    # logins and requests (web/security.py, engine/users.py, engine/user_sessions.py, engine/login_throttle.py)
    Setting("LOTSE_SECRET_KEY", None, key="SECRET_KEY", shown_default="random key, kept in `instance/secret_key`"),
    # HSTS and Secure cookies; unset (None): on unless the app runs for development (web.security.init_app)
    Setting("LOTSE_SECURE_TRANSPORT", None, _yes, shown_default="unset: on, except for development"),
    Setting("LOTSE_PROXY_COUNT", "0", int),
    Setting("LOTSE_SESSION_IDLE_TIMEOUT", "7200", int),
    Setting("LOTSE_SESSION_MAX_AGE", "43200", int),
    Setting("LOTSE_LOGIN_TRIES_PER_ACCOUNT", "10", int),
    Setting("LOTSE_LOGIN_TRIES_PER_ADDRESS", "50", int),
    Setting("LOTSE_LOGIN_THROTTLE_WINDOW", "900", int),
    Setting("LOTSE_ARGON2_TIME_COST", "3", int),        # argon2-cffi's defaults; the tests set the cheapest
    Setting("LOTSE_ARGON2_MEMORY_COST", "65536", int),
    Setting("LOTSE_ARGON2_PARALLELISM", "4", int),
    Setting("LOTSE_MAX_CONTENT_LENGTH", str(2 * 1024 * 1024), int),
    Setting("LOTSE_DRAFT_MAX_BYTES", str(64 * 1024), int),
    # the JSON API (engine/api_tokens.py, web/api/)
    Setting("LOTSE_API_REQUESTS_PER_MINUTE", "1200", int),
    # workers' personal links (engine/worker_links.py)
    Setting("LOTSE_WORKER_LINK_DAYS", "90", int),
    Setting("LOTSE_WORKER_CODE_MINUTES", "15", int),
    # documents of cases (engine/documents.py, engine/storage.py); unset: instance/documents (web/config.py)
    Setting("LOTSE_DOCUMENTS_DIR", None, shown_default="`instance/documents`"),
    Setting("LOTSE_DOCUMENT_MAX_BYTES", str(10 * 1024 * 1024), int),
    # process files (engine/deploy.py, engine/processes.py): an upload or draft, and the elements of one diagram
    Setting("LOTSE_PROCESS_FILE_MAX_BYTES", str(1024 * 1024), int),
    Setting("LOTSE_DIAGRAM_MAX_ELEMENTS", "5000", int),
    # jobs and the time layer (engine/jobs.py, engine/timers.py, engine/notifications.py, engine/mail.py)
    Setting("LOTSE_SWEEP_INTERVAL", "30", float),
    Setting("LOTSE_SWEEP_LIMIT", "500", int),
    Setting("LOTSE_JOB_TIMEOUT", "120", int),
    Setting("LOTSE_RQ_QUEUE", "lotse"),
    Setting("LOTSE_REMINDER_BEFORE", "P1D"),
    Setting("LOTSE_ESCALATION_AFTER", "P2D"),
    Setting("LOTSE_MAIL_RETRY_BASE", "60", float),
    Setting("LOTSE_MAIL_RETRY_MAX", "3600", float),
    Setting("LOTSE_MAIL_TIMEOUT", "30", float),
    Setting("LOTSE_CLOCK_OFFSET_SECONDS", "0", float),
    # the supervisors' stuck-case list (engine/oversight.py); a process's property idle_days overrides the first
    Setting("LOTSE_IDLE_DAYS", "14", int),
    Setting("LOTSE_UNCLAIMED_DAYS", "3", int),
    Setting("LOTSE_DIGEST_HOUR", "7", int),     # Berlin hour of the daily digest (engine/notifications.py)
    # limits of diagram scripts and expressions (engine/sandbox.py)
    Setting("LOTSE_SCRIPT_CPU_SECONDS", "2", float),
    Setting("LOTSE_SCRIPT_MEMORY_MB", "256", int),
    Setting("LOTSE_CASE_DATA_KB", "1024", int),
)
_BY_KEY = {s.key: s for s in SETTINGS}


def from_environment(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """{config key: value} of every setting."""
    return {s.key: s.read(environ) for s in SETTINGS}


def setting(key: str, app=None) -> Any:
    """The setting `key` (its app.config key) of `app`, or of the active app, or else of the environment."""
    if app is None and has_app_context():
        app = current_app
    if app is not None and key in app.config:
        return app.config[key]
    return environment_value(key)


def environment_value(key: str) -> Any:
    """The setting `key` as the environment gives it (its default when unset), whatever an app made of it."""
    return _BY_KEY[key].read()
