"""The case list ("Fälle"): the center's cases, searchable and in pages, for its staff.

Filters, sort and page live in the URL (`engine.case_list.CaseQuery`), as in the inbox, so a list (the
cases in error, the quiet ones) can be bookmarked; htmx only swaps the results in place.
"""
from flask import redirect, render_template, request, url_for
from flask_login import current_user

from engine import case_list
from web.advisor import bp
from web.dates import dates
from web.permissions import case_list_required


@bp.route("/cases")
@case_list_required
def cases():
    user = current_user._get_current_object()
    query = case_list.CaseQuery.from_args(request.args)
    page = case_list.case_page(user, query)
    if not page.rows and query.page > 1:
        return redirect(url_for("advisor.cases", **query.args(page=1)))
    return render_template("advisor/cases.html", page=page, query=query, d=dates())
