"""The advisor's inbox (a plain list for now; the full workspace builds on it)."""
from flask import render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from engine import access
from engine.db import db
from engine.models import HumanTask
from web.advisor import bp


@bp.route("/")
@login_required
def inbox():
    tasks = db.session.scalars(
        select(HumanTask).where(HumanTask.state == "open", access.task_filter(current_user))
        .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.priority.desc()).limit(200)).all()
    mine = [t for t in tasks if t.assignee_id == current_user.id]
    group = [t for t in tasks if t.assignee_id is None and access.is_candidate(current_user, t)]
    return render_template("advisor/inbox.html", mine=mine, group=group)
