"""Setting a password through a link (invitation or reset) and asking for a reset link. Public pages:
the link is the credential. The answer to "forgot password" is the same whether or not the name exists."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import admin, invitations, login_throttle
from engine.errors import InvalidFields
from engine.login_throttle import Throttled
from web.auth.views import _throttled_page as throttled_page
from web.admin import bp


@bp.route("/password/set/<token>", methods=["GET", "POST"])
def set_password(token):
    try:
        link = invitations.valid(token)
    except InvalidFields as exc:
        return render_template("admin/link_refused.html", message=exc.errors["token"]), 410
    errors = {}
    if request.method == "POST":
        try:
            admin.save(invitations.redeem, token, request.form.get("password", ""),
                       request.form.get("password_repeat", ""))
        except InvalidFields as exc:
            if "token" in exc.errors:
                return render_template("admin/link_refused.html", message=exc.errors["token"]), 410
            errors = exc.errors
        else:
            flash(_("Ihr Passwort ist gespeichert. Bitte melden Sie sich an."), "success")
            return redirect(url_for("auth.login"))
    return render_template("admin/set_password.html", user=link.user, purpose=link.purpose,
                           errors=errors), 422 if errors else 200


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    if request.method == "POST":
        login = request.form.get("login", "")
        try:        # counted like a login try: no flood of reset mails to one person or from one address
            login_throttle.begin(login, request.remote_addr or "")
        except Throttled as error:
            return throttled_page("admin/forgot_password.html", error)
        admin.save(invitations.request_reset, login)
        flash(_("Wenn es zu dieser Angabe einen Zugang mit E-Mail-Adresse gibt, ist ein Link für ein neues "
                "Passwort unterwegs."), "success")
        return redirect(url_for("auth.login"))
    return render_template("admin/forgot_password.html")
