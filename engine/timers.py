"""Timers over time: the sweeper that wakes due cases (filled in by the time issue)."""


def start_embedded_sweeper(app):
    """Start the in-process sweeper thread used when there is no REDIS_URL."""
    raise NotImplementedError
