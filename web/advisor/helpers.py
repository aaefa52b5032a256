"""Shared pieces of the advisor workspace: labels in plain words, value display.

Who may use which page is decided in `engine.access` (the decorators are in `web.permissions`)."""
from __future__ import annotations

import json
from datetime import date, datetime

from flask import url_for
from flask_babel import format_currency, format_decimal, lazy_gettext as _l

from engine import group_names
from engine.forms import parse_number
from engine.models.statuses import CaseStatus
from web.advisor import bp
from web.dates import dates

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
    "document_uploaded": _l("Unterlage hochgeladen"),
    "message_posted": _l("Nachricht geschrieben"),
    "worker_link_issued": _l("Persönlicher Link für die Fachkraft erstellt"),
    "worker_link_revoked": _l("Persönlicher Link gesperrt"),
    "worker_link_opened": _l("Persönlicher Link geöffnet"),
    "worker_code_sent": _l("Code für den persönlichen Link verschickt"),
    "worker_told_of_message": _l("Fachkraft per E-Mail auf die Antwort hingewiesen"),
    "case_migrated": _l("Auf eine andere Prozessversion umgestellt"),
    "responsible_changed": _l("Verantwortung übergeben"),
    "external_task_completed": _l("Externer Schritt erledigt"),
    "external_task_failed": _l("Externer Schritt fehlgeschlagen"),
    "external_task_error": _l("Externer Schritt meldet einen BPMN-Fehler"),
    "external_task_retries": _l("Externer Schritt wieder freigegeben"),
}

STATUS_LABELS = {
    CaseStatus.ACTIVE: _l("Laufend"),
    CaseStatus.COMPLETED: _l("Abgeschlossen"),
    CaseStatus.CANCELLED: _l("Abgebrochen"),
}



def translate_label(text: str) -> str:
    from flask_babel import gettext
    return gettext(text) if text else ""


CURRENCY_ADORNERS = {"€": "EUR", "EUR": "EUR"}     # a number field marked with one of these is an amount


def display_value(value, info: dict | None = None) -> str:
    """A case data value as the form that collected it shows it, in the UI's language: option labels,
    amounts (52.000,00 €), numbers with the field's decimals, dates (06.12.2026), yes/no, lists."""
    from flask_babel import gettext
    if value is None or value == "":
        return "—"
    info = info or {}
    if info.get("options"):
        token = json.dumps(value, sort_keys=True, default=str)
        if token in info["options"]:
            return translate_label(info["options"][token])
        if isinstance(value, list):
            return ", ".join(display_value(v, info) for v in value) or "—"
    if isinstance(value, bool):
        return gettext("Ja") if value else gettext("Nein")
    if info.get("type") == "number" and isinstance(value, (int, float, str)):
        return _number(value, info)
    if isinstance(value, datetime):
        from web.dates import local_datetime
        return local_datetime(value)
    if isinstance(value, date):
        return dates().day(value)
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        return _iso_date(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(display_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, (int, float)):
        return format_decimal(value)
    return str(value)


def _number(value, info: dict) -> str:
    try:
        number = parse_number(value)
    except ValueError:
        return str(value)
    digits = info.get("digits")
    currency = CURRENCY_ADORNERS.get((info.get("suffix") or info.get("prefix") or "").strip())
    if currency:
        return format_currency(number, currency, format_type="standard")
    pattern = "#,##0" + ("." + "0" * digits if digits else "") if digits is not None else None
    text = format_decimal(number, format=pattern) if pattern else format_decimal(number)
    return " ".join(part for part in (info.get("prefix"), text, info.get("suffix")) if part)


def _iso_date(value: str) -> str:
    """'2026-12-06' as 06.12.2026 (German) or 6 Dec 2026; with a time, the time after it."""
    try:
        if len(value) == 10:
            return dates().day(date.fromisoformat(value))
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return f"{dates().day(moment.date())}, {moment.hour:02d}:{moment.minute:02d}"


def labelled(data: dict, labels: dict, collected: set) -> list[dict]:
    """The case data people read: what people handed in (`collected`) in the words of the form that asks
    for it, in the forms' order. Everything else (keys no form labels, a script's placeholders, a table's
    proposal nobody has confirmed yet) is only in the technical view."""
    return [{"key": key, "label": translate_label(info["label"]), "value": display_value(data[key], info)}
            for key, info in labels.items() if key in data and key in collected and _from_the_form(data[key], info)]


def _from_the_form(value, info: dict) -> bool:
    """Whether a value is one its form could have collected: not a placeholder a script set before anyone
    answered ('', an option the form does not offer, such as 'not_required')."""
    if value is None or value == "" or value == []:
        return False
    if info.get("options"):
        values = value if isinstance(value, list) else [value]
        return all(json.dumps(item, sort_keys=True, default=str) in info["options"] for item in values)
    return True


@bp.app_context_processor
def workspace_globals():
    from flask_babel import get_locale
    from engine.inbox import capped
    return {"get_locale": get_locale,
            "actor_label": lambda a: ACTOR_LABELS.get(a or "", a or ""),
            "event_label": lambda k: EVENT_LABELS.get(k, k),
            "status_label": lambda s: STATUS_LABELS.get(s, s),
            "group_label": lambda g: group_names.GROUP_LABELS.get(g, g),
            "capped": capped}


def task_url(task_id, **kw):
    return url_for("advisor.task", task_id=task_id, **kw)
