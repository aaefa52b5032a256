"""Configuration from the environment. With nothing set: SQLite in `instance/`, inline jobs, mail to the outbox."""
import os
import secrets
from pathlib import Path


def database_url(raw: str | None, instance_path: str) -> str:
    if not raw:
        return f"sqlite:///{Path(instance_path) / 'lotse.db'}"
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://"):]
    return raw


def secret_key(instance_path: str) -> str:
    """LOTSE_SECRET_KEY, or a random key kept in the instance folder so sessions survive restarts."""
    if os.environ.get("LOTSE_SECRET_KEY"):
        return os.environ["LOTSE_SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: str) -> dict:
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return {
        "SECRET_KEY": secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL"), instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "MAIL_URL": os.environ.get("MAIL_URL") or None,
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Lotse <lotse@localhost>"),
        "BABEL_DEFAULT_LOCALE": "de",
        "LANGUAGES": ["de", "en"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("LOTSE_SECURE_COOKIES", "") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "JOB_TIMEOUT": int(os.environ.get("LOTSE_JOB_TIMEOUT", "120")),
        "SWEEP_INTERVAL": float(os.environ.get("LOTSE_SWEEP_INTERVAL", "30")),
        # Time layer (engine/timers.py, engine/notifications.py, engine/mail.py)
        "RQ_QUEUE": os.environ.get("LOTSE_RQ_QUEUE", "lotse"),
        "SWEEP_LIMIT": int(os.environ.get("LOTSE_SWEEP_LIMIT", "500")),
        "REMINDER_BEFORE": os.environ.get("LOTSE_REMINDER_BEFORE", "P1D"),
        "ESCALATION_AFTER": os.environ.get("LOTSE_ESCALATION_AFTER", "P2D"),
        "BASE_URL": os.environ.get("LOTSE_BASE_URL", "http://localhost:5000"),
        "MAIL_RETRY_BASE": float(os.environ.get("LOTSE_MAIL_RETRY_BASE", "60")),
        "MAIL_RETRY_MAX": float(os.environ.get("LOTSE_MAIL_RETRY_MAX", "3600")),
        "MAIL_TIMEOUT": float(os.environ.get("LOTSE_MAIL_TIMEOUT", "30")),
    }
