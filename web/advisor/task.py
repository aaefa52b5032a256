"""The task page: instructions, the task's form (or 'mark as done'), save draft, complete.

The form (`web.task_form`, shared with the employer portal) is the form-js version the process pinned at
deploy time, rendered by `web.forms_html` and validated by `engine.forms`. Invalid input re-renders with
the user's values and a message at each field (HTTP 422); a task completed meanwhile by
someone else re-renders with a clear message and the typed values kept (HTTP 409).
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from engine import access, cases, clock, inbox as queries, pages
from engine.errors import Conflict, Forbidden, InvalidData, InvalidFields, NotFound
from engine.forms import submission_values
from web.advisor import bp
from web.advisor.helpers import display_value
from web.advisor.inbox import conflict_message
from web.permissions import workspace_required
from web.task_form import task_form


def _page(row, case, *, values=None, errors=None, submitted=None, message=None, status=200, comment=""):
    form = task_form(current_user, row, case, values=values, errors=errors, submitted=submitted)
    # A task without a form (a Camunda formKey Lotse cannot show) is worked from its documentation and the data.
    data_rows = [{"label": key, "value": display_value(value)} for key, value in sorted(form.data.items())] \
        if not form.has_form and access.case_view(current_user).case_data else []
    team = [u for u in pages.colleagues(current_user) if u.id == row.assignee_id or access.can_be_assigned(u, row)] \
        if access.can_assign(current_user, row) else []        # only the task's candidates are offered
    back = access.safe_next(request.values.get("next"), url_for("advisor.inbox"))
    return render_template("advisor/task.html", task=row, case=case, form_html=form.form_html, has_form=form.has_form,
                           documentation=form.documentation, can_work=form.can_work,
                           can_claim=access.can_claim(current_user, row),
                           can_assign=access.can_assign(current_user, row), team=team, message=message,
                           now=clock.now(), back=back, comment=comment, has_errors=bool(errors),
                           data_rows=data_rows), status


def _visible(task_id):
    found = pages.visible_task_and_case(current_user, task_id)
    if found is None:
        abort(404)
    return found


@bp.route("/tasks/<task_id>", methods=["GET"])
@workspace_required
def task(task_id):
    row, case = _visible(task_id)
    return _page(row, case)


@bp.route("/tasks/<task_id>", methods=["POST"])
@workspace_required
def task_submit(task_id):
    row, case = _visible(task_id)
    action = request.form.get("_action", "complete")
    back = access.safe_next(request.form.get("next"), url_for("advisor.inbox"))
    has_form = row.form_version_id is not None     # the form itself is read where it is needed
    comment = (request.form.get("_comment") or "").strip()

    if not row.is_open or not access.can_work(current_user, row):
        return _page(row, case, values=request.form if has_form else None, submitted=True,
                     message=conflict_message(row), status=409, comment=comment)

    if action == "draft":
        definition = pages.load_form(row.form_version_id)
        if definition is None:
            return redirect(url_for("advisor.task", task_id=row.id, next=back))
        try:
            cases.save_draft(row.id, submission_values(definition, request.form), current_user)
        except (Conflict, Forbidden) as exc:       # refused before anything was changed
            return _page(row, case, values=request.form, submitted=True, message=conflict_message(row, str(exc)),
                         status=409)
        flash(_("Entwurf gespeichert. Sie können später weitermachen."), "success")
        return redirect(url_for("advisor.task", task_id=row.id, next=back))

    title, case_ref = row.title, row.case_reference
    try:    # validated against the task's form under the case's lock, the case loaded once
        completed = cases.completing_task(row.id, request.form, actor=current_user, validate=True)
    except NotFound:
        abort(404)
    except InvalidFields as exc:
        return _page(pages.fresh_task(row), case, values=request.form, errors=exc.errors, submitted=True, status=422,
                     comment=comment)
    except (Conflict, Forbidden) as exc:
        return _page(row, case, values=request.form if has_form else None, submitted=True,
                     message=conflict_message(row, str(exc)), status=409, comment=comment)
    except InvalidData as exc:
        return _page(row, case, values=request.form if has_form else None, submitted=True,
                     message=str(exc), status=422, comment=comment)
    if comment:
        cases.add_comment(row.case_id, comment, current_user)
    following = queries.next_of(current_user, completed.open_after)     # the rows the completion left open
    flash(_completed_message(title, case_ref, following, back), "success")
    return redirect(back)


def _completed_message(title, case_ref, following, back) -> Markup:
    """"Done", the case as a link and, as Camunda's Tasklist offers, the case's next task for this person."""
    case_link = Markup('<a href="%s">%s</a>') % (url_for("advisor.case", reference=case_ref), case_ref)
    # the translated text is ours; Markup's % escapes the title and keeps the link
    message = Markup(_("„%(title)s“ ist erledigt (Fall %(ref)s).")) % {"title": _(title), "ref": case_link}
    if following is not None:
        message += Markup(' <a class="flash__next" href="%s">%s</a>') % (
            url_for("advisor.task", task_id=following.id, next=back),
            _("Weiter mit „%(title)s“ →", title=_(following.title)))
    return message
