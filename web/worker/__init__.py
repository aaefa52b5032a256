"""The worker's own pages, opened by their personal link, without an account (all under /w)."""
from flask import Blueprint

bp = Blueprint("worker", __name__, url_prefix="/w", template_folder="templates")

from web.worker import language, views  # noqa: E402,F401
