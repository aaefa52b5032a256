"""Shared pieces of the advisor workspace: labels in plain words, value display.

Who may use which page is decided in `engine.access` (the decorators are in `web.permissions`)."""
from __future__ import annotations

import json
from datetime import date, datetime

from flask import url_for
from flask_babel import format_date, lazy_gettext as _l
from flask_login import current_user

from engine import access
from web.advisor import bp

ACTOR_LABELS = {
    "center": _l("Welcome Center"),
    "employer": _l("Arbeitgeber"),
    "worker": _l("Fachkraft"),
    "authority": _l("Behörde"),
}

EVENT_LABELS = {
    "case_started": _l("Fall gestartet"),
    "case_completed": _l("Fall abgeschlossen"),
    "case_cancelled": _l("Fall abgebrochen"),
    "task_created": _l("Aufgabe erstellt"),
    "task_claimed": _l("Aufgabe übernommen"),
    "task_unclaimed": _l("Aufgabe freigegeben"),
    "task_assigned": _l("Aufgabe zugewiesen"),
    "task_completed": _l("Aufgabe erledigt"),
    "task_cancelled": _l("Aufgabe entfallen"),
    "task_retried": _l("Schritt erneut ausgeführt"),
    "timer_fired": _l("Frist abgelaufen"),
    "message_event": _l("Nachricht"),
    "message_received": _l("Nachricht empfangen"),
    "milestone": _l("Meilenstein erreicht"),
    "incident": _l("Fehler im Ablauf"),
    "script_output": _l("Ausgabe eines Skripts"),
    "reminder_sent": _l("Erinnerung an die Frist verschickt"),
    "overdue_notice": _l("Frist überschritten: Hinweis verschickt"),
    "escalated": _l("An die Leitung eskaliert"),
    "case_migrated": _l("Auf eine andere Prozessversion umgestellt"),
}

STATUS_LABELS = {
    "active": _l("Laufend"),
    "completed": _l("Abgeschlossen"),
    "cancelled": _l("Abgebrochen"),
}

GROUP_LABELS = {
    "advisor": _l("Beratung"),
    "supervisor": _l("Leitung"),
    "employer": _l("Arbeitgeber"),
    "worker": _l("Fachkraft"),
    "process_owner": _l("Prozessverantwortliche"),
    "admin": _l("Administration"),
}


def translate_label(text: str) -> str:
    from flask_babel import gettext
    return gettext(text) if text else ""


def humanize_key(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def display_value(value, info: dict | None = None) -> str:
    """A case data value in plain words (option labels, dates, yes/no, lists)."""
    from flask_babel import gettext
    if value is None or value == "":
        return "—"
    if info and info.get("options"):
        token = json.dumps(value, sort_keys=True, default=str)
        if token in info["options"]:
            return translate_label(info["options"][token])
        if isinstance(value, list):
            return ", ".join(display_value(v, info) for v in value) or "—"
    if isinstance(value, bool):
        return gettext("Ja") if value else gettext("Nein")
    if isinstance(value, datetime):
        from web.advisor.filters import dt as local_datetime
        return local_datetime(value)
    if isinstance(value, date):
        return format_date(value, "medium")
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            return format_date(date.fromisoformat(value), "medium")
        except ValueError:
            return value
    if isinstance(value, (list, tuple)):
        return ", ".join(display_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def labelled(data: dict, labels: dict) -> list[dict]:
    """Case data as rows: known form fields first (labelled), the rest after, by key."""
    known, other = [], []
    for key in sorted(data):
        info = labels.get(key)
        row = {"key": key, "label": translate_label(info["label"]) if info else humanize_key(key),
               "value": display_value(data[key], info), "known": info is not None}
        (known if info else other).append(row)
    return known + other


@bp.app_context_processor
def workspace_globals():
    from flask_babel import get_locale
    from engine.inbox import capped
    return {"get_locale": get_locale,
            "actor_label": lambda a: ACTOR_LABELS.get(a or "", a or ""),
            "event_label": lambda k: EVENT_LABELS.get(k, k),
            "status_label": lambda s: STATUS_LABELS.get(s, s),
            "group_label": lambda g: GROUP_LABELS.get(g, g),
            "capped": capped,
            "is_staff": lambda: current_user.is_authenticated and access.is_staff(current_user),
            "may_use_workspace": lambda: current_user.is_authenticated and access.may_use_workspace(current_user)}


def task_url(task_id, **kw):
    return url_for("advisor.task", task_id=task_id, **kw)
