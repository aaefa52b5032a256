"""The inbox rows' display values, computed in one pass per page for the one macro that renders them
(`advisor/_task_row.html`, the page's rows and a row claimed in place).

Jinja routes every call in a template (a macro, `_()`, a filter with context, a method) through
`Context.call`, and a row that made its own values needed a couple of dozen. Here each row's texts, dates
and URLs are plain attributes, so the macro only interpolates them (escaped by autoescape, as before). The
priority badge comes from its one renderer (the `priority_badge` macro) too, but once per priority on the
page rather than once per row: a page shows a handful of priorities.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple

from flask import get_template_attribute, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from engine.i18n import N_
from engine.inbox import InboxRow
from web.advisor.filters import priority_view
from web.dates import DueView, dates

_LABELS = {"draft": N_("Entwurf"), "claimed": N_("von Ihnen übernommen"), "claim": N_("Übernehmen"),
           "unclaim": N_("Freigeben"), "assign_to": N_("Zuweisen an"), "assign": N_("Zuweisen"),
           "later": N_("später")}
_ACTION_LABELS = {"claim": N_("„%(title)s“ für %(ref)s übernehmen"),
                  "unclaim": N_("„%(title)s“ für %(ref)s freigeben")}


class RowView(NamedTuple):
    id: str
    title: str
    url: str
    case_url: str
    reference: str
    subject: str
    process: str
    state: str                     # "overdue" | "today" | ""
    due: DueView | None
    follow_up_iso: str | None
    follow_up: str
    follow_up_later: bool
    priority: Markup               # the priority badge
    created_iso: str
    created: str
    created_relative: str
    has_draft: bool
    assignee_id: int | None
    assignee_name: str | None
    action: str                    # "claim" | "unclaim" | ""
    action_url: str
    action_label: str
    assign_url: str
    assignable: list               # the people the task may be assigned to (supervisors' "all" tab)


class RowPage(NamedTuple):
    """What every row of a page shares: the labels, its forms' hidden fields and whether it has an assignee column."""
    labels: SimpleNamespace        # attributes, not a dict: Jinja tries getattr before []
    hidden: Markup
    all_view: bool


def task_rows(rows: list[InboxRow], here: str, user_id: int, all_view: bool = False,
              assignable: dict | None = None) -> tuple[list[RowView], RowPage]:
    """The rows of one page (or the one row claimed in place) and what they share. `here`: where their forms lead
    back to. URLs are built once with placeholders (url_for per row would be a few hundred calls)."""
    d = dates()
    gettext, relative, absolute = d.gettext, d.relative, d.absolute
    labels = {key: gettext(text) for key, text in _LABELS.items()}
    action_labels = {key: gettext(text) for key, text in _ACTION_LABELS.items()}
    task_url = url_for("advisor.task", task_id="__ID__", next=here)
    case_url = url_for("advisor.case", reference="__REF__")
    action_urls = {name: url_for(f"advisor.{name}", task_id="__ID__") for name in ("claim", "unclaim", "assign")}
    translated: dict = {}                    # titles and process names repeat
    priorities: dict = {}                    # priority -> its badge
    priority_badge = get_template_attribute("_macros.html", "priority_badge")

    def tr(text):
        if not text:
            return ""
        if text not in translated:
            translated[text] = gettext(text)
        return translated[text]
    views = []
    for t in rows:
        title = tr(t.title)
        due = d.due(t.due_at)
        follow, created = t.follow_up_at, t.created_at
        action = "claim" if t.assignee_id is None else "unclaim" if t.assignee_id == user_id else ""
        if t.priority not in priorities:
            priorities[t.priority] = priority_badge(priority_view(t.priority, gettext))
        views.append(RowView(
            id=t.id, title=title, url=task_url.replace("__ID__", t.id),
            case_url=case_url.replace("__REF__", t.case_reference), reference=t.case_reference,
            subject=t.case_subject, process=tr(t.process_name), state=due.state if due else "", due=due,
            follow_up_iso=follow.isoformat() if follow is not None else None, follow_up=absolute(follow),
            follow_up_later=follow is not None and follow > d.now, priority=priorities[t.priority],
            created_iso=created.isoformat(), created=absolute(created), created_relative=relative(created),
            has_draft=t.has_draft, assignee_id=t.assignee_id, assignee_name=t.assignee_name, action=action,
            action_url=action_urls[action].replace("__ID__", t.id) if action else "",
            action_label=action_labels[action] % {"title": title, "ref": t.case_reference} if action else "",
            assign_url=action_urls["assign"].replace("__ID__", t.id),
            assignable=(assignable or {}).get(t.id, [])))
    hidden = Markup('<input type="hidden" name="csrf_token" value="{}">'
                    '<input type="hidden" name="next" value="{}">').format(generate_csrf(), here)
    return views, RowPage(labels=SimpleNamespace(**labels), hidden=hidden, all_view=all_view)
