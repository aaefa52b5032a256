from flask import Blueprint

bp = Blueprint("notifications", __name__, template_folder="templates", url_prefix="/notifications")



@bp.app_context_processor
def _unread_notifications():
    """`unread_notifications()` for the header link; a callable, so pages that don't show it pay nothing."""
    from flask_login import current_user
    from engine.notifications import unread_count

    def unread_notifications():
        return unread_count(current_user) if current_user.is_authenticated else 0
    return {"unread_notifications": unread_notifications}


from web.notifications import views  # noqa: E402,F401
