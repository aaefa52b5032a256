"""The case list ("Fälle"): the center's cases, searchable and in pages, for its staff.

Filters, sort and page live in the URL (`engine.case_list.CaseQuery`), as in the inbox, so a list (the
cases in error, the quiet ones) can be bookmarked; htmx only swaps the results in place.
"""
from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from engine import case_list
from web.advisor import bp
from web.dates import dates
from web.permissions import staff_required


@bp.route("/cases")
@staff_required
def cases():
    user = current_user._get_current_object()
    if not case_list.may_list_cases(user):
        abort(403)
    query = case_list.CaseQuery.from_args(request.args)
    page = case_list.case_page(user, query)
    if not page.rows and query.page > 1:
        return redirect(url_for("advisor.cases", **query.args(page=1)))
    return render_template("advisor/cases.html", page=page, query=query, d=dates())
