"""In-app notifications and the mail outbox (embedded default)."""
from web.notifications import bp  # noqa: F401
