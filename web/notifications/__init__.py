from flask import Blueprint

bp = Blueprint("notifications", __name__, template_folder="templates", url_prefix="/notifications")


@bp.app_context_processor
def _unread_notifications():
    """`unread_notifications()` for the header link: the count read with the session's user, or counted now
    for a user loaded another way."""
    from flask_login import current_user
    from engine.notifications import unread_count

    def unread_notifications():
        if not current_user.is_authenticated:
            return 0
        loaded = current_user.unread_notifications        # read with the session's user (load_user)
        return loaded if loaded is not None else unread_count(current_user)
    return {"unread_notifications": unread_notifications}


from web.notifications import views  # noqa: E402,F401
