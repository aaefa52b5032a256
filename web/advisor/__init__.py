from flask import Blueprint

bp = Blueprint("advisor", __name__, template_folder="templates")

from web.advisor import views  # noqa: E402,F401
