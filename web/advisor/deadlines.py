"""Deadlines: what the advisor's cases wait for (timers) and which tasks fall due, overdue first."""
from flask import render_template, request
from flask_login import current_user

from engine import clock, inbox as queries
from web.advisor import bp
from web.permissions import workspace_required

WEEKS = (1, 2, 4, 8, 12)


@bp.route("/deadlines")
@workspace_required
def deadlines():
    now = clock.now()
    try:
        weeks = int(request.args.get("weeks", 4))
    except ValueError:
        weeks = 4
    weeks = weeks if weeks in WEEKS else 4
    actor = request.args.get("actor", "")
    actor = actor if actor in queries.ACTORS else ""
    mine = request.args.get("mine") in ("1", "on")
    items = queries.deadlines(current_user, now, weeks=weeks, actor=actor, mine=mine)
    return render_template("advisor/deadlines.html", sections=queries.group_deadlines(items, now), now=now,
                           weeks=weeks, weeks_choices=WEEKS, actor=actor, actors=queries.ACTORS, mine=mine,
                           total=len(items))
