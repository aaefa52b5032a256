"""Shared pieces of the advisor workspace: who may use it, labels in plain words, value display."""
from __future__ import annotations

import json
from datetime import date, datetime
from functools import wraps

from flask import abort, request, url_for
from flask_babel import format_date, lazy_gettext as _l
from flask_login import current_user, login_required

from engine import access
from engine.db import db
from engine.forms import FormDefinition, FormDefinitionError
from engine.models import FormVersion
from web.advisor import bp

# Groups that use the workspace; others (e.g. process owners only) get a clear 403 page.
WORKSPACE_GROUPS = {"advisor", "supervisor", "employer", "admin"}

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


def may_use_workspace(user) -> bool:
    return user.organisation_id is not None and bool(user.group_names & WORKSPACE_GROUPS)


def is_staff(user) -> bool:
    """Welcome Center staff working cases (may start cases, write notes, retry failed steps)."""
    return access.is_center_staff(user) and user.in_group("advisor", "supervisor", "admin")


def workspace_required(view):
    """Login, then a 403 page for users whose role has no business in the workspace."""
    @login_required
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not may_use_workspace(current_user):
            abort(403)
        return view(*args, **kwargs)
    return wrapper


def staff_required(view):
    @login_required
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not is_staff(current_user):
            abort(403)
        return view(*args, **kwargs)
    return wrapper


def safe_next(target: str | None, default: str) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def current_path() -> str:
    return request.full_path.rstrip("?")


def load_form(form_version_id: int | None) -> FormDefinition | None:
    if form_version_id is None:
        return None
    row = db.session.get(FormVersion, form_version_id)
    if row is None:
        return None
    try:
        return FormDefinition.from_json(row.schema)
    except FormDefinitionError:
        return None


def field_labels(form_ids) -> dict[str, dict]:
    """key -> {"label", "options": {token: label}} from the given form versions (one query)."""
    ids = [i for i in form_ids if i is not None]
    if not ids:
        return {}
    out: dict[str, dict] = {}
    for row in db.session.query(FormVersion).filter(FormVersion.id.in_(ids)).order_by(FormVersion.id):
        try:
            definition = FormDefinition.from_json(row.schema)
        except FormDefinitionError:
            continue
        for key, comp in definition.fields.items():
            options = {}
            for opt in comp.options or []:
                options[json.dumps(opt.value, sort_keys=True, default=str)] = opt.label
            out.setdefault(key, {"label": comp.label or comp.key, "options": options, "type": comp.type})
    return out


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
            "is_staff": lambda: current_user.is_authenticated and is_staff(current_user),
            "may_use_workspace": lambda: current_user.is_authenticated and may_use_workspace(current_user)}


def task_url(task_id, **kw):
    return url_for("advisor.task", task_id=task_id, **kw)
