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


def secure_transport(raw: str | None) -> bool | None:
    """LOTSE_SECURE_TRANSPORT: `1` or `0`; unset means "decide from how the app runs" (web.security)."""
    if raw in (None, ""):
        return None
    return raw.strip().lower() in ("1", "true", "yes", "on")


def from_environment(instance_path: str) -> dict:
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    session_max_age = int(os.environ.get("LOTSE_SESSION_MAX_AGE", "43200"))
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
        # HSTS and Secure cookies: on unless the app runs for development (web.security.init_app)
        "SECURE_TRANSPORT": secure_transport(os.environ.get("LOTSE_SECURE_TRANSPORT")),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Login sessions (engine/user_sessions.py): ended after this long without a request, and this long
        # after login whatever happens; a form's CSRF token is good for as long as a login can last.
        "SESSION_IDLE_TIMEOUT": int(os.environ.get("LOTSE_SESSION_IDLE_TIMEOUT", "7200")),
        "SESSION_MAX_AGE": session_max_age,
        "WTF_CSRF_TIME_LIMIT": session_max_age,
        "PERMANENT_SESSION_LIFETIME": session_max_age,      # how long Flask accepts the cookie's signature
        # Login throttling (engine/login_throttle.py): tries per account name and per client address
        # within the window; Redis counts them when REDIS_URL is set, the database otherwise.
        "LOGIN_TRIES_PER_ACCOUNT": int(os.environ.get("LOTSE_LOGIN_TRIES_PER_ACCOUNT", "10")),
        "LOGIN_TRIES_PER_ADDRESS": int(os.environ.get("LOTSE_LOGIN_TRIES_PER_ADDRESS", "50")),
        "LOGIN_THROTTLE_WINDOW": int(os.environ.get("LOTSE_LOGIN_THROTTLE_WINDOW", "900")),
        # Proxies in front of the app that set X-Forwarded-For/-Proto (the client address for throttling)
        "PROXY_COUNT": int(os.environ.get("LOTSE_PROXY_COUNT", "0")),
        # argon2id cost of password hashes (argon2-cffi's defaults); the tests set the cheapest
        "ARGON2_TIME_COST": int(os.environ.get("LOTSE_ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_COST": int(os.environ.get("LOTSE_ARGON2_MEMORY_COST", "65536")),
        "ARGON2_PARALLELISM": int(os.environ.get("LOTSE_ARGON2_PARALLELISM", "4")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("LOTSE_MAX_CONTENT_LENGTH", str(2 * 1024 * 1024))),
        "DRAFT_MAX_BYTES": int(os.environ.get("LOTSE_DRAFT_MAX_BYTES", str(64 * 1024))),
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
