"""In-app notifications (every logged-in user) and the mail outbox (admins and supervisors).

Notifications are the user's own: another user's id gives 404. The outbox lists the mails
Lotse wrote — in the embedded default (no MAIL_URL) that is where they stay — with their
delivery status: admins and supervisors read those to people of their own center and of the
employers it serves (`engine.access.outbox_filter`), never another center's.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import access, notifications, pages
from engine.errors import InvalidFields
from web.notifications import bp
from web.permissions import outbox_required


@bp.route("/")
@login_required
def index():
    show = request.args.get("show", "all")
    found = pages.notification_list(current_user, unread_only=show == "unread")
    return render_template("notifications/index.html", notes=found.notes, groups=found.groups,
                           unread=found.unread, show=show, may_see_outbox=access.may_see_outbox(current_user))


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id):
    if not notifications.mark_read(current_user, notification_id):
        abort(404)
    return redirect(url_for("notifications.index", show=request.form.get("show", "all")))


@bp.route("/read-all", methods=["POST"])
@login_required
def mark_all_read():
    kind = request.form.get("kind") or None
    notifications.mark_all_read(current_user, kind if kind in notifications.NOTICE_KINDS else None)
    flash(_("Alle Benachrichtigungen sind als gelesen markiert."), "success")
    return redirect(url_for("notifications.index", show=request.form.get("show") or None))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    errors, status = {}, 200
    if request.method == "POST":
        try:
            notifications.save_settings(current_user, request.form)
        except InvalidFields as exc:
            errors, status = exc.errors, 422
        else:
            flash(_("Ihre Einstellungen sind gespeichert."), "success")
            return redirect(url_for("notifications.settings"))
    chosen = dict(request.form) if errors else notifications.settings_of(current_user)
    return render_template("notifications/settings.html", chosen=chosen, errors=errors,
                           kinds=notifications.NOTICE_KINDS, deliveries=notifications.DELIVERIES), status


@bp.route("/outbox")
@outbox_required
def outbox():
    status = request.args.get("status", "")
    status = status if status in pages.MAIL_STATUSES else ""
    found = pages.outbox_page(current_user, status, request.args.get("page", 1, type=int))
    return render_template("notifications/outbox.html", mails=found.mails, page=found.page,
                           has_next=found.has_next, status=status)


@bp.route("/outbox/<int:mail_id>")
@outbox_required
def outbox_mail(mail_id):
    mail = access.visible_mail(current_user, mail_id)
    if mail is None:
        abort(404)
    return render_template("notifications/mail.html", mail=mail)
