"""The information library (engine/info_library.py): process owners keep the pages of offices and portals
per topic and language that workers see next to their steps (under /library)."""
from flask import Blueprint

bp = Blueprint("library", __name__, url_prefix="/library", template_folder="templates")

from web.library import views  # noqa: E402,F401  (registers its routes on bp)
