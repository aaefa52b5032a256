"""The Flask app's configuration: every setting of `engine.settings` (the one table of environment
variables and defaults) plus what Flask and its extensions need. With nothing set: SQLite in
`instance/`, inline jobs, mail to the outbox."""
import secrets
from pathlib import Path

from engine import settings


def database_url(raw: str | None, instance_path: str) -> str:
    if not raw:
        return f"sqlite:///{Path(instance_path) / 'lotse.db'}"
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://"):]
    return raw


def secret_key(configured: str | None, instance_path: str) -> str:
    """LOTSE_SECRET_KEY, or a random key kept in the instance folder so sessions survive restarts."""
    if configured:
        return configured
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: str) -> dict:
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    config = settings.from_environment()
    config.update({
        "SECRET_KEY": secret_key(config["SECRET_KEY"], instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(config.pop("DATABASE_URL"), instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # outside the web root (static/ is the only folder served as files)
        "DOCUMENTS_DIR": config["DOCUMENTS_DIR"] or str(Path(instance_path) / "documents"),
        "BABEL_DEFAULT_LOCALE": "de",
        "LANGUAGES": ["de", "en"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # a form's CSRF token, and the cookie's signature, are good for as long as a login can last
        "WTF_CSRF_TIME_LIMIT": config["SESSION_MAX_AGE"],
        "PERMANENT_SESSION_LIFETIME": config["SESSION_MAX_AGE"],
    })
    return config
