"""Jinja filters shared by every blueprint's templates."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import format_datetime, format_timedelta

from engine import clock

BERLIN = ZoneInfo("Europe/Berlin")


def local_datetime(value: datetime | None, fmt="short"):
    if value is None:
        return ""
    return format_datetime(value.astimezone(BERLIN).replace(tzinfo=None), fmt)


def relative(value: datetime | None):
    if value is None:
        return ""
    return format_timedelta(value - clock.now(), add_direction=True, threshold=1.1)


def register(app):
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["relative"] = relative
    app.jinja_env.globals["now"] = clock.now
