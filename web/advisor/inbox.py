"""The inbox: my tasks, group tasks (and, for supervisors, all open tasks of the center).

Filters, sort and page live in the URL (`engine.inbox.InboxQuery`), so every view can be
bookmarked. Claim, release and assign are plain POST forms that work without JavaScript;
htmx only swaps the result list in place.
"""
from typing import NamedTuple

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from engine import access, cases, clock, inbox as queries
from engine.db import db
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import HumanTask, User
from web.advisor import bp
from web.advisor.display import dates
from web.advisor.filters import priority_class
from web.advisor.helpers import safe_next, workspace_required


def colleagues(user) -> list[User]:
    """Active users of the supervisor's center (one query), for 'assign to'."""
    return db.session.scalars(select(User).where(User.organisation_id == user.organisation_id,
                                                 User.active.is_(True)).order_by(User.display_name)).all()


class RowView(NamedTuple):
    """One inbox row, formatted and HTML-escaped: the template places the values without escaping them
    again (`{% autoescape false %}` around the rows: autoescaping 50 rows of ~25 values each costs about
    as much as formatting them). Text from the data (titles, references, subjects, names) is escaped
    here; the rest are dates, ISO timestamps and fixed tokens made here."""
    id: Markup
    title: Markup              # translated
    has_draft: bool
    task_href: Markup
    case_href: Markup
    case_reference: Markup
    case_subject: Markup
    process: Markup            # translated
    due_state: str             # "overdue" | "today" | ""
    due_iso: str
    due_relative: str
    due_absolute: str
    follow_up_later: bool      # the follow-up date lies in the future
    follow_up_iso: str
    follow_up_absolute: str
    priority: int
    priority_class: str        # "high" | "normal" | "low"
    created_iso: str
    created_relative: str
    created_absolute: str
    assignee_id: int | None
    assignee_name: Markup
    action: str                # "claim" | "unclaim" | ""
    action_href: Markup
    assign_href: Markup        # supervisors' "assign to" form


def row_views(rows, now, here: str, user_id: int) -> list[RowView]:
    """Format the page's rows in one pass with the request's `Dates`: what the filters `tr`, `due_state`,
    `relative_to`, `dt`, `iso` and `priority_class` would give, without a filter call per value."""
    d = dates()
    relative, absolute, due_state = d.relative, d.absolute, d.due_state
    translated: dict[str, Markup] = {}         # titles and process names repeat: translate and escape once

    def tr(text):
        if not text:
            return nothing
        if text not in translated:
            translated[text] = escape(d.gettext(text))
        return translated[text]
    # URLs are built once with a placeholder and filled in per row (url_for costs ~10 µs a call).
    task_url, case_url, claim_url, unclaim_url, assign_url = (
        str(escape(url_for(endpoint, **kw))) for endpoint, kw in (
            ("advisor.task", {"task_id": "__ID__", "next": here}), ("advisor.case", {"reference": "__REF__"}),
            ("advisor.claim", {"task_id": "__ID__"}), ("advisor.unclaim", {"task_id": "__ID__"}),
            ("advisor.assign", {"task_id": "__ID__"})))
    nothing = Markup("")
    out = []
    for t in rows:
        due, follow, created = t.due_at, t.follow_up_at, t.created_at
        task_id, reference = escape(t.id), escape(t.case_reference)
        if t.assignee_id is None:
            action, action_href = "claim", Markup(claim_url.replace("__ID__", task_id))
        elif t.assignee_id == user_id:
            action, action_href = "unclaim", Markup(unclaim_url.replace("__ID__", task_id))
        else:
            action, action_href = "", nothing
        out.append(RowView(
            task_id, tr(t.title), t.has_draft, Markup(task_url.replace("__ID__", task_id)),
            Markup(case_url.replace("__REF__", reference)), reference, escape(t.case_subject), tr(t.process_name),
            due_state(due), due.isoformat() if due else "", relative(due), absolute(due),
            follow is not None and follow > now, follow.isoformat() if follow else "", absolute(follow),
            int(t.priority), priority_class(t.priority),
            created.isoformat() if created else "", relative(created), absolute(created),
            t.assignee_id, escape(t.assignee_name) if t.assignee_name else nothing,
            action, action_href, Markup(assign_url.replace("__ID__", task_id))))
    return out


@bp.route("/")
@workspace_required
def inbox():
    query = queries.InboxQuery.from_args(request.args)
    now = clock.now()
    user = current_user._get_current_object()        # one proxy lookup, not one per use
    page = queries.inbox_page(user, query, now)
    query = page.query                      # e.g. "all" falls back to "mine" for non-supervisors
    if not page.rows and query.page > 1:
        return redirect(url_for("advisor.inbox", **query.args(page=1)))
    can_see_all = queries.can_see_all(user)
    team = colleagues(user) if query.view == "all" and can_see_all else []
    here = url_for("advisor.inbox", **query.args())
    html = render_template("advisor/inbox.html", page=page, query=query, now=now, team=team, here=here,
                           rows=row_views(page.rows, now, here, user.id),
                           views=queries.tab_views(user), can_assign_all=can_see_all)
    # End the read-only transaction with COMMIT rather than the ROLLBACK of the session's teardown:
    # psycopg forgets its prepared statements on every ROLLBACK, so the inbox's statements would be
    # parsed and planned anew on each request (~1 ms); kept, PostgreSQL reuses their plans.
    db.session.commit()
    return html


def _task_or_404(task_id) -> HumanTask:
    row = access.visible_task(current_user, task_id)
    if row is None:
        from flask import abort
        abort(404)
    return row


def conflict_message(row: HumanTask, fallback: str = "") -> str:
    """Why an action on a task did not happen, in the user's language."""
    db.session.refresh(row)
    if row.state == "completed":
        who = row.completed_by.display_name if row.completed_by is not None else _("jemand anderes")
        from web.advisor.filters import dt as local_datetime
        return _("„%(title)s“ wurde inzwischen von %(who)s erledigt (%(when)s). Ihre Eingaben wurden nicht gespeichert.",
                 title=_(row.title), who=who, when=local_datetime(row.completed_at))
    if row.state != "open":
        return _("„%(title)s“ ist nicht mehr offen: der Fall ist weitergelaufen.", title=_(row.title))
    if row.assignee_id is not None and row.assignee_id != current_user.id:
        return _("„%(title)s“ ist %(who)s zugewiesen.", title=_(row.title), who=row.assignee.display_name)
    return fallback or _("Die Aufgabe wurde inzwischen geändert. Bitte laden Sie die Seite neu.")


def _act(task_id, action):
    row = _task_or_404(task_id)
    back = safe_next(request.form.get("next"), url_for("advisor.inbox"))
    try:
        action(row)
    except NotFound:
        from flask import abort
        abort(404)
    except Conflict as exc:
        flash(conflict_message(row, str(exc)), "error")
    except (Forbidden, InvalidData) as exc:
        flash(_forbidden_text(row, exc), "error")
    return redirect(back)


def _forbidden_text(row, exc):
    if isinstance(exc, Forbidden):
        return _("Sie dürfen „%(title)s“ nicht bearbeiten.", title=_(row.title))
    return str(exc)


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@workspace_required
def claim(task_id):
    def do(row):
        cases.claim_task(row.id, current_user)
        flash(_("Sie haben „%(title)s“ übernommen.", title=_(row.title)), "success")
    return _act(task_id, do)


@bp.route("/tasks/<task_id>/unclaim", methods=["POST"])
@workspace_required
def unclaim(task_id):
    def do(row):
        cases.unclaim_task(row.id, current_user)
        flash(_("„%(title)s“ ist wieder für die Gruppe frei.", title=_(row.title)), "success")
    return _act(task_id, do)


@bp.route("/tasks/<task_id>/assign", methods=["POST"])
@workspace_required
def assign(task_id):
    def do(row):
        try:
            assignee_id = int(request.form.get("assignee", ""))
        except ValueError:
            raise InvalidData(_("Bitte wählen Sie eine Person aus."))
        assignee = db.session.get(User, assignee_id)
        if assignee is None or assignee.organisation_id != current_user.organisation_id:
            raise InvalidData(_("Bitte wählen Sie eine Person aus Ihrem Welcome Center."))
        if not access.can_assign(current_user, row):
            raise Forbidden("")
        cases.assign_task(row.id, assignee, actor=current_user)
        flash(_("„%(title)s“ ist jetzt %(who)s zugewiesen.", title=_(row.title), who=assignee.display_name), "success")
    return _act(task_id, do)
