"""The inbox rows' display values, computed in one pass per page for the one macro that renders them
(`advisor/_task_row.html`, the page's rows and a row claimed in place).

Each `{{ }}` in a template is an `escape` call and each `t.x` an `Environment.getattr` call, and a page has
50 rows: so a row is a plain tuple (`RowView`) that the macro's loop unpacks into local names, every text,
date and URL made here once, and what repeats on a page (labels, titles, process names, the task links' prefix,
relative dates) made once per page. What is the same on every page (the action URLs' prefixes, and the priority
badges from their one renderer, the `priority_badge` macro) is made once per app and language; the due date's
badge comes from `web.dates.due_html`, once a row.
"""
from __future__ import annotations

from typing import NamedTuple

from flask import current_app, get_template_attribute, request, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from engine.i18n import N_
from engine.inbox import InboxRow
from web.advisor.filters import priority_view
from web.dates import dates, due_html
from web.templating import escape_text

# the order of RowPage.labels
_LABELS = (N_("Entwurf"), N_("von Ihnen übernommen"), N_("später"), N_("Übernehmen"), N_("Freigeben"),
           N_("Zuweisen an"), N_("Zuweisen"))
_ACTION_LABELS = {"claim": N_("„%(title)s“ für %(ref)s übernehmen"),
                  "unclaim": N_("„%(title)s“ für %(ref)s freigeben")}


class RowView(NamedTuple):
    """One row. The macro unpacks it by position: its `{% for %}` names these fields in this order."""
    id: str
    state: str                     # "overdue" | "today" | ""
    url: str
    title: str
    has_draft: bool
    case_url: str
    reference: str
    subject: str
    process: str
    due: Markup                    # the due date's badge
    follow_up_iso: str | None
    follow_up_later: bool
    follow_up: str
    priority: Markup               # the priority badge
    created_iso: str
    created: str
    created_relative: str
    assignee_id: int | None
    assignee_name: str | None
    action: str                    # "claim" | "unclaim" | ""
    action_url: str
    action_label: str
    assign_url: str
    assignable: list               # the people the task may be assigned to (supervisors' "all" tab)


class RowPage(NamedTuple):
    """What every row of a page shares (the macro unpacks it too)."""
    labels: tuple                  # draft, claimed, later, claim, unclaim, assign_to, assign (translated)
    hidden: Markup                 # the forms' hidden fields
    all_view: bool                 # with the assignee column


def _shared() -> dict:
    """What rows share across requests, per app: the action URLs' prefix and suffix (the same under one script
    root) and the priority badges (the same in one language)."""
    return current_app.extensions.setdefault("lotse_inbox_rows", {})


def _url_parts(endpoint: str, name: str) -> list[str]:
    """A URL of `endpoint` without query, split where its one value `name` goes."""
    shared, key = _shared(), ("url", request.script_root, endpoint)
    parts = shared.get(key)
    if parts is None:
        parts = shared[key] = url_for(endpoint, **{name: "__ID__"}).split("__ID__")
    return parts


def _priority_badge(priority, language: str, gettext) -> Markup:
    shared, key = _shared(), ("priority", language, priority)
    badge = shared.get(key)
    if badge is None:
        badge = shared[key] = get_template_attribute("_macros.html", "priority_badge")(priority_view(priority, gettext))
    return badge


def rows_macro():
    """The `task_rows` macro, from the module of `advisor/_task_row.html` that Jinja keeps. A page's `{% from … import %}`
    would make a new module on every render (the page's variables become the imported template's globals)."""
    return get_template_attribute("advisor/_task_row.html", "task_rows")


def task_rows(rows: list[InboxRow], here: str, user_id: int, all_view: bool = False,
              assignable: dict | None = None) -> tuple[list[RowView], RowPage]:
    """The rows of one page (or the one row claimed in place) and what they share. `here`: where their forms lead
    back to. URLs are a prefix and a suffix around the id, made once (url_for per row would be a few hundred calls)."""
    if not rows:                                 # the page shows its "no tasks" text instead
        return [], RowPage((), Markup(""), all_view)
    d = dates()
    gettext, relative, absolute, due_view, now = d.gettext, d.relative, d.absolute, d.due, d.now
    action_labels = {key: gettext(text) for key, text in _ACTION_LABELS.items()}
    task_url = url_for("advisor.task", task_id="__ID__", next=here).split("__ID__")
    case_url = _url_parts("advisor.case", "reference")
    action_urls = {name: _url_parts(f"advisor.{name}", "task_id") for name in ("claim", "unclaim", "assign")}
    assign_url = action_urls["assign"]
    assignable = assignable or {}
    translated: dict = {"": "", None: ""}        # titles and process names repeat
    priorities: dict = {}                        # priority -> its badge
    views = []
    for t in rows:
        task_id, reference, due_at, follow, created, assignee_id = (
            t.id, t.case_reference, t.due_at, t.follow_up_at, t.created_at, t.assignee_id)
        title = translated.get(t.title)
        if title is None:
            title = translated[t.title] = gettext(t.title)
        process = translated.get(t.process_name)
        if process is None:
            process = translated[t.process_name] = gettext(t.process_name)
        due = due_view(due_at)
        badge = priorities.get(t.priority)
        if badge is None:
            badge = priorities[t.priority] = _priority_badge(t.priority, d.language, gettext)
        action = "claim" if assignee_id is None else "unclaim" if assignee_id == user_id else ""
        if action:
            prefix, suffix = action_urls[action]
            action_url = prefix + task_id + suffix
            action_label = action_labels[action] % {"title": title, "ref": reference}
        else:
            action_url = action_label = ""
        views.append(RowView(
            task_id, due.state if due else "", task_url[0] + task_id + task_url[1], title, t.has_draft,
            case_url[0] + reference + case_url[1], reference, t.case_subject, process, due_html(due),
            None if follow is None else follow.isoformat(), follow is not None and follow > now, absolute(follow),
            badge, created.isoformat(), absolute(created), relative(created), assignee_id, t.assignee_name,
            action, action_url, action_label, assign_url[0] + task_id + assign_url[1],
            assignable.get(task_id, ())))
    hidden = Markup(f'<input type="hidden" name="csrf_token" value="{escape_text(generate_csrf())}">'
                    f'<input type="hidden" name="next" value="{escape_text(here)}">')
    return views, RowPage(tuple(gettext(text) for text in _LABELS), hidden, all_view)
