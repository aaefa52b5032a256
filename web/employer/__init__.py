"""The employer portal: a firm's journeys at a glance, its tasks, documents and messages (own firm only)."""
from flask import Blueprint

bp = Blueprint("employer", __name__, url_prefix="/portal", template_folder="templates")

from web.employer import views  # noqa: E402,F401
