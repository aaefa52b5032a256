"""Administration: the center's record, its firms, its people and the audit log (admins of a center),
plus the password links of invitations and "forgot password" (anyone)."""
from flask import Blueprint

bp = Blueprint("admin", __name__, template_folder="templates")

from web.admin import views, password_links  # noqa: E402,F401
