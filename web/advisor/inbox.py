"""The inbox: my tasks, group tasks (and, for supervisors, all open tasks of the center).

Filters, sort and page live in the URL (`engine.inbox.InboxQuery`), so every view can be
bookmarked. Claim, release and assign are plain POST forms that work without JavaScript;
htmx only swaps the result list in place.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from engine import access, cases, clock, inbox as queries, pages
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import HumanTask
from web.advisor import bp
from web.advisor.display import dates
from web.advisor.filters import priority_class
from web.permissions import workspace_required


def N_(text: str) -> str:
    """Marks a message for extraction (pybabel -k N_); translated later with the request's catalog."""
    return text


# The table rows of the inbox are HTML built here rather than in Jinja: 50 rows of ~60 template fragments
# each were the largest part of the page's time. Everything that comes from the data is escaped.
_LABELS = {"overdue": N_("überfällig"), "today": N_("heute"), "later": N_("später"), "draft": N_("Entwurf"),
           "claim": N_("Übernehmen"), "unclaim": N_("Freigeben"), "prio": N_("Priorität"),
           "high": N_("hoch"), "normal": N_("normal"), "low": N_("niedrig"),
           "claim_label": N_("„%(title)s“ für %(ref)s übernehmen"),
           "unclaim_label": N_("„%(title)s“ für %(ref)s freigeben"),
           "assign_to": N_("Zuweisen an"), "assign": N_("Zuweisen")}
_NONE = '<span class="muted">—</span>'


def render_rows(rows, now, here: str, user_id: int, team=(), assign: bool = False, all_view: bool = False) -> Markup:
    """The `<tr>`s of one inbox page: what the filters `tr`, `due_state`, `relative_to`, `dt`, `iso` and
    `priority_class` give, formatted with the request's `Dates` in one pass. `all_view` adds the assignee
    column, `assign` the supervisors' "assign to" form (with `team` as choices)."""
    if not rows:
        return Markup("")
    d = dates()
    gettext, relative, absolute, due_state = d.gettext, d.relative, d.absolute, d.due_state
    label = {key: gettext(text) for key, text in _LABELS.items()}
    translated: dict[str, str] = {}          # titles and process names repeat: translate and escape once

    def tr(text):
        if not text:
            return ""
        if text not in translated:
            translated[text] = escape(gettext(text))
        return translated[text]
    # URLs are built once with a placeholder and filled in per row (url_for costs ~10 µs a call).
    task_url, case_url, claim_url, unclaim_url, assign_url = (
        str(escape(url_for(endpoint, **kw))) for endpoint, kw in (
            ("advisor.task", {"task_id": "__ID__", "next": here}), ("advisor.case", {"reference": "__REF__"}),
            ("advisor.claim", {"task_id": "__ID__"}), ("advisor.unclaim", {"task_id": "__ID__"}),
            ("advisor.assign", {"task_id": "__ID__"})))
    csrf = (f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">'
            f'<input type="hidden" name="next" value="{escape(here)}">')
    people = [(u, escape(u.display_name)) for u in team] if assign else []
    out = []
    for t in rows:
        task_id, reference, title = escape(t.id), escape(t.case_reference), tr(t.title)
        subject = escape(t.case_subject)
        due, follow, created = t.due_at, t.follow_up_at, t.created_at
        state = due_state(due)                       # "overdue" | "today" | ""
        row_class = f' class="row--{state}"' if state else ""
        draft = f' <span class="badge badge--draft">{label["draft"]}</span>' if t.has_draft else ""
        due_cell = _NONE
        if due is not None:
            badge = f'<strong class="badge badge--{state}">{label[state]}</strong> ' if state else ""
            due_cell = (f'<span class="due{" due--" + state if state else ""}">{badge}'
                        f'<time datetime="{due.isoformat()}">{relative(due)}</time> '
                        f'<span class="due__abs">{absolute(due)}</span></span>')
        follow_cell = _NONE
        if follow is not None:
            later = f'<span class="badge badge--later">{label["later"]}</span> ' if follow > now else ""
            follow_cell = f'{later}<time datetime="{follow.isoformat()}">{absolute(follow)}</time>'
        priority = priority_class(t.priority)
        assignee = f"<td>{escape(t.assignee_name) if t.assignee_name else '—'}</td>" if all_view else ""
        action = ""
        if t.assignee_id is None or t.assignee_id == user_id:
            which = "claim" if t.assignee_id is None else "unclaim"
            href = (claim_url if which == "claim" else unclaim_url).replace("__ID__", task_id)
            button = "small" if which == "claim" else "small secondary"
            aria = label[which + "_label"] % {"title": title, "ref": reference}
            action = (f'\n        <form method="post" action="{href}" class="inline-form">{csrf}<button type="submit" '
                      f'class="{button}" aria-label="{aria}">{label[which]}</button></form>')
        assign_form = ""
        # only the task's candidates are offered (and whoever holds it now)
        choices = [(u.id, name) for u, name in people if u.id == t.assignee_id or access.can_be_assigned(u, t)]
        if choices:
            options = "".join(f'<option value="{uid}" {"selected" if uid == t.assignee_id else ""}>{name}</option>'
                              for uid, name in choices)
            assign_form = f"""
        <form method="post" action="{assign_url.replace("__ID__", task_id)}" class="inline-form assign-form">
          {csrf}
          <label for="assign-{task_id}" class="visually-hidden">{label["assign_to"]} ({title}, {reference})</label>
          <select id="assign-{task_id}" name="assignee">
            {options}
          </select>
          <button type="submit" class="small">{label["assign"]}</button>
        </form>
        """
        out.append(f"""
    <tr data-task-id="{task_id}"{row_class}>
      <td class="task-title"><a href="{task_url.replace("__ID__", task_id)}">{title}</a>{draft}</td>
      <td><a href="{case_url.replace("__REF__", reference)}">{reference}</a><br><span class="subject">{subject}</span></td>
      <td>{tr(t.process_name)}</td>
      <td>{due_cell}</td>
      <td>{follow_cell}</td>
      <td><span class="prio prio--{priority}" title="{label["prio"]} {int(t.priority)}">{label[priority]}</span></td>
      <td><time datetime="{created.isoformat()}" title="{absolute(created)}">{relative(created)}</time></td>
      {assignee}
      <td class="actions">{action}
        {assign_form}
      </td>
    </tr>
  """)
    return Markup("".join(out))


@bp.route("/")
@login_required
def inbox():
    if not access.may_use_workspace(current_user):
        # the start page of every role: process owners land on their processes, anyone else without a
        # workspace learns what exists for them (no 403 loop)
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
    here = url_for("advisor.inbox", **query.args())
    rows = render_rows(page.rows, now, here, user.id, team=team, assign=can_see_all and query.view == "all",
                       all_view=query.view == "all")
    # A GET reads without a transaction (engine.db.read_without_transaction): no BEGIN, no COMMIT, and
    # psycopg keeps its prepared statements, and so PostgreSQL's plans, for the next request.
    return render_template("advisor/inbox.html", page=page, query=query, now=now, team=team, here=here,
                           rows=rows, views=queries.tab_views(user), can_assign_all=can_see_all)


def _task_or_404(task_id) -> HumanTask:
    row = access.visible_task(current_user, task_id)
    if row is None:
        abort(404)
    return row


def conflict_message(row: HumanTask, fallback: str = "") -> str:
    """Why an action on a task did not happen, in the user's language."""
    row = pages.fresh_task(row)
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
    back = access.safe_next(request.form.get("next"), url_for("advisor.inbox"))
    try:
        action(row)
    except NotFound:
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
    return render_template("advisor/welcome.html")
