"""Supervisors: the stuck cases of their center with bulk actions, a case's failed steps (correct the data
and retry, or cancel), the workload and the funder's report (all under /supervisor, own center only)."""
from flask import Blueprint

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor", template_folder="templates")

from web.supervisor import views  # noqa: E402,F401
