"""The advisor workspace: inbox, task page, case view, deadlines (one blueprint, one module per idea)."""
from flask import Blueprint

bp = Blueprint("advisor", __name__, template_folder="templates")

from web.advisor import filters, helpers, inbox, task, case, case_list, deadlines, worker_links  # noqa: E402,F401
