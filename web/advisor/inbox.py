"""The inbox: my tasks, group tasks (and, for supervisors, all open tasks of the center).

Filters, sort and page live in the URL (`engine.inbox.InboxQuery`), so every view can be
bookmarked. Claim, release and assign are plain POST forms that work without JavaScript;
htmx only swaps the result list in place.
"""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from engine import access, cases, clock, inbox as queries
from engine.db import db
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import HumanTask, User
from web.advisor import bp
from web.advisor.helpers import safe_next, workspace_required


def colleagues(user) -> list[User]:
    """Active users of the supervisor's center (one query), for 'assign to'."""
    return db.session.scalars(select(User).where(User.organisation_id == user.organisation_id,
                                                 User.active.is_(True)).order_by(User.display_name)).all()


@bp.route("/")
@workspace_required
def inbox():
    query = queries.InboxQuery.from_args(request.args)
    now = clock.now()
    page = queries.inbox_page(current_user, query, now)
    query = page.query                      # e.g. "all" falls back to "mine" for non-supervisors
    if not page.rows and query.page > 1:
        return redirect(url_for("advisor.inbox", **query.args(page=1)))
    team = colleagues(current_user) if query.view == "all" and queries.can_see_all(current_user) else []
    return render_template("advisor/inbox.html", page=page, query=query, now=now, team=team,
                           views=queries.tab_views(current_user),
                           can_assign_all=queries.can_see_all(current_user))


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
