"""The worker's personal links on the case page: issue (by mail and/or as a QR code to scan in the office),
renew, revoke. The token exists only in the response that issues it (the table keeps its hash), so the
QR code is shown once, on the page that follows the issue."""
from __future__ import annotations

import segno
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from engine import worker_links
from engine.errors import Forbidden, InvalidFields, NotFound
from engine.settings import setting
from web.advisor import bp
from web.permissions import staff_required


def _case(reference):
    try:
        return worker_links.managed_case(current_user, reference)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)


def _issued(case, link, token):
    """The link as text and as an inline SVG QR code (no script, no style attribute: the CSP holds)."""
    url = (setting("BASE_URL") or request.host_url).rstrip("/") + worker_links.link_path(token, link.language)
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(scale=5, border=4, dark="#0b0c0c", light="#ffffff", title=_("QR-Code des persönlichen Links"))
    return render_template("advisor/worker_link_issued.html", case=case, link=link, url=url, qr=Markup(svg))


@bp.route("/cases/<reference>/worker-links/new", methods=["GET", "POST"])
@staff_required
def worker_link_new(reference):
    case = _case(reference)
    if request.method == "GET":
        return render_template("advisor/worker_link_new.html", case=case, values={}, errors={})
    try:
        link, token = worker_links.issue_for(current_user, reference, request.form.to_dict())
    except InvalidFields as error:
        return render_template("advisor/worker_link_new.html", case=case, values=request.form,
                               errors={key: str(message) for key, message in error.errors.items()}), 422
    return _issued(case, link, token)


@bp.route("/cases/<reference>/worker-links/<int:link_id>/renew", methods=["POST"])
@staff_required
def worker_link_renew(reference, link_id):
    case = _case(reference)
    try:
        link, token = worker_links.renew_for(current_user, reference, link_id)
    except InvalidFields:
        abort(404)
    return _issued(case, link, token)


@bp.route("/cases/<reference>/worker-links/<int:link_id>/revoke", methods=["POST"])
@staff_required
def worker_link_revoke(reference, link_id):
    _case(reference)
    try:
        worker_links.revoke_for(current_user, reference, link_id)
    except InvalidFields:
        abort(404)
    flash(_("Der Link ist gesperrt. Wer ihn öffnet, sieht keine Daten mehr."), "success")
    return redirect(url_for("advisor.case", reference=reference) + "#worker-links")
