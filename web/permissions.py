"""The view decorators: log in, then ask `engine.access` whether the user's role may use the page.

Objects are checked by the views themselves (an object the user may not see is a 404); these only
decide whether a page exists for the user's role at all.
"""
from functools import wraps

from flask import abort, g, render_template, session
from flask_login import current_user, login_required

from engine import access, worker_links


def requires(allowed, refusal: int = 403):
    """Login, then `refusal` (403: a clear page; 404: the page does not exist for them) unless
    `allowed(user)`."""
    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not allowed(current_user):
                abort(refusal)
            return view(*args, **kwargs)
        return wrapper
    return decorate


workspace_required = requires(access.may_use_workspace)
staff_required = requires(access.is_staff)
outbox_required = requires(access.may_see_outbox, refusal=404)
diagram_required = requires(lambda user: access.case_view(user).diagram, refusal=404)
process_owner_required = requires(access.may_manage_processes)
portal_required = requires(access.may_use_portal)
case_list_required = requires(access.may_list_cases)
oversight_required = requires(access.may_oversee)
admin_required = requires(access.may_administer)
audit_required = requires(access.may_read_audit)
library_required = requires(access.may_keep_info_library)


def worker_required(view):
    """A worker's page: the browser session must hold a live personal link (engine.worker_links.session_link);
    otherwise a page that says the link no longer opens anything (401), in the worker's language."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        link = worker_links.session_link(session.get("worker_link"), session.get("worker_key"))
        if link is None:
            return render_template("worker/closed.html", status="session"), 401
        g.worker = access.WorkerActor(link)
        return view(*args, **kwargs)
    return wrapper
