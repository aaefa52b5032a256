"""In-app notifications (every logged-in user) and the mail outbox (admins and supervisors).

Notifications are the user's own: another user's id gives 404. The outbox lists the mails
Lotse wrote — in the embedded default (no MAIL_URL) that is where they stay — with their
delivery status; admins see all of them, supervisors those to people of their own center
and of the employers it serves.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from engine import clock
from engine.db import db
from engine.models import MailMessage, Notification, Organisation, User
from web.notifications import bp

PAGE_SIZE = 50


def _own(notification_id) -> Notification:
    note = db.session.scalar(select(Notification).where(Notification.id == notification_id,
                                                        Notification.user_id == current_user.id))
    if note is None:
        abort(404)
    return note


@bp.route("/")
@login_required
def index():
    show = request.args.get("show", "all")
    query = select(Notification).where(Notification.user_id == current_user.id)
    if show == "unread":
        query = query.where(Notification.read_at.is_(None))
    notes = db.session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                               .limit(200)).all()
    unread = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == current_user.id, Notification.read_at.is_(None))) or 0
    return render_template("notifications/index.html", notes=notes, unread=unread, show=show,
                           may_see_outbox=may_see_outbox(current_user))


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id):
    note = _own(notification_id)
    if note.read_at is None:
        note.read_at = clock.now()
        db.session.commit()
    return redirect(url_for("notifications.index", show=request.form.get("show", "all")))


@bp.route("/read-all", methods=["POST"])
@login_required
def mark_all_read():
    now = clock.now()
    for note in db.session.scalars(select(Notification).where(Notification.user_id == current_user.id,
                                                              Notification.read_at.is_(None))):
        note.read_at = now
    db.session.commit()
    flash(_("Alle Benachrichtigungen sind als gelesen markiert."), "success")
    return redirect(url_for("notifications.index"))


# --- the mail outbox --------------------------------------------------------------------------------

def may_see_outbox(user) -> bool:
    return user.is_authenticated and user.in_group("admin", "supervisor")


def _outbox_filter(user):
    if user.in_group("admin"):
        return None
    served = select(Organisation.id).where(Organisation.center_id == user.organisation_id)
    return or_(User.organisation_id == user.organisation_id, User.organisation_id.in_(served))


def _outbox_query(user):
    if not may_see_outbox(user) or (not user.in_group("admin") and user.organisation_id is None):
        abort(404)
    query = select(MailMessage).join(User, User.id == MailMessage.user_id, isouter=True)
    where = _outbox_filter(user)
    return query if where is None else query.where(where)


@bp.route("/outbox")
@login_required
def outbox():
    query = _outbox_query(current_user)
    status = request.args.get("status", "")
    if status in ("pending", "sent", "failed", "local"):
        query = query.where(MailMessage.status == status)
    page = max(1, request.args.get("page", 1, type=int))
    mails = db.session.scalars(query.order_by(MailMessage.created_at.desc(), MailMessage.id.desc())
                               .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return render_template("notifications/outbox.html", mails=mails[:PAGE_SIZE], page=page,
                           has_next=len(mails) > PAGE_SIZE, status=status)


@bp.route("/outbox/<int:mail_id>")
@login_required
def outbox_mail(mail_id):
    mail = db.session.scalar(_outbox_query(current_user).where(MailMessage.id == mail_id))
    if mail is None:
        abort(404)
    return render_template("notifications/mail.html", mail=mail)
