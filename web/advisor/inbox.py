"""The inbox: my tasks, group tasks (and, for supervisors, all open tasks of the center).

Filters, sort and page live in the URL (`engine.inbox.InboxQuery`), so every view can be
bookmarked. Claim, release and assign are plain POST forms that work without JavaScript;
htmx only swaps the result list in place.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import access, cases, clock, inbox as queries, pages
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import HumanTask
from web.advisor import bp
from web.advisor.rows import rows_macro, task_rows
from web.permissions import workspace_required
from engine.models.statuses import TaskStatus


@bp.route("/")
@login_required
def inbox():
    if not access.may_use_workspace(current_user):
        # the start page of every role: a firm's people have the portal, process owners their processes;
        # anyone else without a workspace learns what exists for them (no 403 loop)
        if access.may_use_portal(current_user):
            return redirect(url_for("employer.home"))
        if access.may_manage_processes(current_user):
            return redirect(url_for("processes.index"))
        return redirect(url_for("advisor.welcome"))
    query = queries.InboxQuery.from_args(request.args)
    now = clock.now()
    user = current_user._get_current_object()        # one proxy lookup, not one per use
    page = queries.inbox_page(user, query, now)
    query = page.query                      # e.g. "all" falls back to "mine" for non-supervisors
    if not page.rows and query.page > 1:
        return redirect(url_for("advisor.inbox", **query.args(page=1)))
    can_see_all = access.can_see_all_tasks(user)
    team = pages.colleagues(user) if query.view == "all" and can_see_all else []
    # only the task's candidates are offered (and whoever holds it now)
    assignable = {t.id: people for t in page.rows
                  if (people := [u for u in team if u.id == t.assignee_id or access.can_be_assigned(u, t)])}
    here = url_for("advisor.inbox", **query.args())
    # A GET reads without a transaction (engine.db.read_without_transaction): no BEGIN, no COMMIT, and
    # psycopg keeps its prepared statements, and so PostgreSQL's plans, for the next request.
    rows, shared = task_rows(page.rows, here, user.id, all_view=query.view == "all", assignable=assignable)
    return render_template("advisor/inbox.html", page=page, query=query, now=now, here=here, rows=rows, shared=shared,
                           rows_html=rows_macro(), views=queries.tab_views(user), can_assign_all=can_see_all)


def _task_or_404(task_id) -> HumanTask:
    row = access.visible_task(current_user, task_id)
    if row is None:
        abort(404)
    return row


def conflict_message(row: HumanTask, fallback: str = "") -> str:
    """Why an action on a task did not happen, in the user's language."""
    row = pages.fresh_task(row)
    if row.state == TaskStatus.COMPLETED:
        who = row.completed_by.display_name if row.completed_by is not None else _("jemand anderes")
        from web.dates import local_datetime
        return _("„%(title)s“ wurde inzwischen von %(who)s erledigt (%(when)s). Ihre Eingaben wurden nicht gespeichert.",
                 title=_(row.title), who=who, when=local_datetime(row.completed_at))
    if row.state != TaskStatus.OPEN:
        return _("„%(title)s“ ist nicht mehr offen: der Fall ist weitergelaufen.", title=_(row.title))
    if row.assignee_id is not None and row.assignee_id != current_user.id:
        return _("„%(title)s“ ist %(who)s zugewiesen.", title=_(row.title), who=row.assignee.display_name)
    return fallback or _("Die Aufgabe wurde inzwischen geändert. Bitte laden Sie die Seite neu.")


def _act(task_id, action, in_place=False):
    """Do `action` on a task and go back to the page it came from. `in_place`: asked by htmx from an inbox
    row, a success answers with the row as it is now, which replaces the old one (it stays in its tab,
    marked, until the page is loaded again); a failure sends the browser to the page, with the message."""
    row = _task_or_404(task_id)
    back = access.safe_next(request.form.get("next"), url_for("advisor.inbox"))
    in_place = in_place and request.headers.get("HX-Request") == "true"
    try:
        action(row)
    except NotFound:
        abort(404)
    except Conflict as exc:
        flash(conflict_message(row, str(exc)), "error")
    except (Forbidden, InvalidData) as exc:
        flash(_forbidden_text(row, exc), "error")
    else:
        if in_place:
            changed = queries.inbox_row(current_user, row.id)
            if changed is not None:
                rows, shared = task_rows([changed], back, current_user.id)
                return render_template("advisor/_claimed_row.html", rows=rows, shared=shared, rows_html=rows_macro())
    if in_place:
        return "", 204, {"HX-Redirect": back}
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
        if request.headers.get("HX-Request") != "true":     # in place, the row says so
            flash(_("Sie haben „%(title)s“ übernommen.", title=_(row.title)), "success")
    return _act(task_id, do, in_place=True)


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
        assignee = pages.colleague(current_user, assignee_id)
        if assignee is None:
            raise InvalidData(_("Bitte wählen Sie eine Person aus Ihrem Welcome Center."))
        if not access.can_assign(current_user, row):
            raise Forbidden("")
        if not access.can_be_assigned(assignee, row):
            raise InvalidData(_("%(who)s kann „%(title)s“ nicht bearbeiten: zuweisen lässt sich eine Aufgabe nur "
                                "Personen aus ihren Kandidatengruppen.", who=assignee.display_name,
                                title=_(row.title)))
        cases.assign_task(row.id, assignee, actor=current_user)
        flash(_("„%(title)s“ ist jetzt %(who)s zugewiesen.", title=_(row.title), who=assignee.display_name), "success")
    return _act(task_id, do)


@bp.route("/welcome")
@login_required
def welcome():
    """The start page of a user without a workspace role: what exists for them."""
    if access.may_use_workspace(current_user):
        return redirect(url_for("advisor.inbox"))
    if access.may_use_portal(current_user):
        return redirect(url_for("employer.home"))
    return render_template("advisor/welcome.html")
