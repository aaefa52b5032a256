"""The view decorators: log in, then ask `engine.access` whether the user's role may use the page.

Objects are checked by the views themselves (an object the user may not see is a 404); these only
decide whether a page exists for the user's role at all.
"""
from functools import wraps
from typing import NamedTuple

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


class HeaderLinks(NamedTuple):
    """Which of the role's pages the user has: the header's links (base.html), and the pages' own links to them."""
    workspace: bool
    staff: bool
    oversee: bool
    owner: bool
    administer: bool
    read_audit: bool
    info_library: bool
    portal: bool


NO_HEADER_LINKS = HeaderLinks(*(False,) * len(HeaderLinks._fields))


def header_links(user) -> HeaderLinks:
    """The header's links for `user`, asked of `engine.access` in one call per page (not one template
    helper call, each through the `current_user` proxy, per link)."""
    if not user.is_authenticated:
        return NO_HEADER_LINKS
    return HeaderLinks(workspace=access.may_use_workspace(user), staff=access.is_staff(user),
                       oversee=access.may_oversee(user), owner=access.may_manage_processes(user),
                       administer=access.may_administer(user), read_audit=access.may_read_audit(user),
                       info_library=access.may_keep_info_library(user), portal=access.may_use_portal(user))


def current_header_links() -> HeaderLinks:
    """`header_links` of the request's user, worked out once per request (the header and a page's body both
    ask), again if the request's user changed."""
    user = current_user._get_current_object()
    known = g.get("lotse_header_links")
    if known is None or known[0] is not user:
        known = g.lotse_header_links = (user, header_links(user))
    return known[1]


def init_app(app) -> None:
    app.jinja_env.globals["header_links"] = current_header_links
