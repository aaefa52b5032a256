"""The `lotse` command line: the Flask CLI (run, db, shell) plus engine commands.

Every command prints one line per object and exits non-zero with a one-line reason on error.
"""
import ipaddress
import json
import socket
import sys

import click
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from engine import settings
from engine.errors import DeploymentRejected, LotseError
from web import security


def _create_app():
    from web import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def cli():
    """Lotse: BPMN case management for Welcome Centers."""


def _fail(message):
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _user(username):
    from engine.users import find_user
    if username is None:
        return None
    user = find_user(username)
    if user is None:
        _fail(f"no user {username!r}")
    return user


def _json(text, option):
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        _fail(f"{option} is not valid JSON: {exc.msg} at position {exc.pos}")
    if not isinstance(value, dict):
        _fail(f"{option} must be a JSON object")
    return value


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--as", "username", help="deploying user")
@with_appcontext
def deploy(paths, username):
    """Deploy .bpmn/.dmn/.form files or folders as new versions (all or nothing)."""
    from engine import deploy as deployment
    from engine.db import db
    try:
        result = deployment.deploy_paths(paths, user=_user(username))
        db.session.commit()
    except DeploymentRejected as exc:
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        _fail(f"deployment rejected ({len(exc.problems)} problem(s)); nothing was stored")
    for definition in result.created:
        click.echo(f"deployed {definition.key} v{definition.version}")
    for definition in result.unchanged:
        click.echo(f"unchanged {definition.key} v{definition.version}")
    for form in result.forms:
        click.echo(f"deployed form {form.key} v{form.version}")


@cli.command()
@with_appcontext
def definitions():
    """List the newest version of each deployed process."""
    from engine.deploy import latest_definitions
    for d in latest_definitions():
        flags = "" if d.startable else " (called only)"
        click.echo(f"{d.key}\tv{d.version}\t{d.name}{flags}")


@cli.command()
@click.argument("key")
@click.option("--data", default="{}", help="case data as a JSON object")
@click.option("--as", "username", help="starting user (their Welcome Center owns the case)")
@click.option("--center", help="center code (default: the user's center)")
@click.option("--subject", default="", help="person or firm the case is about")
@with_appcontext
def start(key, data, username, center, subject):
    """Start a case on the newest version of process KEY."""
    from engine import cases
    from engine.db import db
    from engine.models import Organisation
    user = _user(username)
    center_row = None
    if center:
        center_row = db.session.scalar(select(Organisation).where(Organisation.code == center))
    elif user is not None and user.organisation and user.organisation.kind == "center":
        center_row = user.organisation
    else:
        center_row = db.session.scalar(select(Organisation).where(Organisation.kind == "center").limit(1))
    if center_row is None:
        _fail("no Welcome Center found; give --center or --as a center user")
    try:
        case = cases.start_case(key, center=center_row, data=_json(data, "--data"), actor=user, subject=subject)
    except LotseError as exc:
        _fail(str(exc))
    click.echo(f"started {case.reference} (case {case.id}) on {case.definition.key} v{case.definition.version}")


@cli.command("cases")
@click.option("--status", default=None, help="active, completed or cancelled")
@with_appcontext
def list_cases(status):
    """List cases."""
    from engine.db import db
    from engine.models import Case
    query = select(Case).order_by(Case.id)
    if status:
        query = query.where(Case.status == status)
    for case in db.session.scalars(query):
        flag = " INCIDENT" if case.has_incident else ""
        click.echo(f"{case.id}\t{case.reference}\t{case.definition.key} v{case.definition.version}\t"
                   f"{case.status}{flag}\t{case.subject}")


@cli.command()
@click.option("--user", "username", help="only tasks this user may work on")
@with_appcontext
def tasks(username):
    """List open user tasks."""
    from engine import access
    from engine.db import db
    from engine.models import HumanTask
    query = select(HumanTask).where(HumanTask.state == "open").order_by(HumanTask.due_at, HumanTask.created_at)
    user = _user(username)
    if user is not None:
        query = query.where(access.task_filter(user))
    for task in db.session.scalars(query):
        if user is not None and not access.can_work(user, task):
            continue
        due = task.due_at.strftime("%Y-%m-%d %H:%M") if task.due_at else "-"
        assignee = task.assignee.username if task.assignee else ",".join(task.candidate_groups)
        click.echo(f"{task.id}\t{task.case_reference}\t{task.title}\tdue {due}\t{assignee}")


@cli.command()
@click.argument("task_id")
@click.option("--data", default="{}", help="form data as a JSON object")
@click.option("--as", "username", required=True)
@with_appcontext
def complete(task_id, data, username):
    """Complete an open user task."""
    from engine import cases
    try:
        case = cases.complete_task(task_id, _json(data, "--data"), actor=_user(username))
    except LotseError as exc:
        _fail(str(exc))
    click.echo(f"completed {task_id}; {case.reference} is {case.status}")


@cli.command()
@click.argument("task_id")
@click.option("--as", "username", required=True)
@with_appcontext
def claim(task_id, username):
    """Claim an open group task."""
    from engine import cases
    try:
        task = cases.claim_task(task_id, _user(username))
    except LotseError as exc:
        _fail(str(exc))
    click.echo(f"claimed {task.id} ({task.title}) for {username}")


@cli.command()
@with_appcontext
def recount():
    """Count every center's group tasks anew (after loading tasks into the database past the engine)."""
    from engine import task_counts
    from engine.db import db
    counted = task_counts.rebuild()
    db.session.commit()
    click.echo(f"counted {counted} open, unassigned group tasks without follow-up date")


@cli.command()
@with_appcontext
def demo():
    """Load demo organisations, users and cases (idempotent)."""
    from engine import demo as demo_data
    for line in demo_data.load():
        click.echo(line)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
        except OSError:
            return False


@cli.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def serve(host, port):
    """Serve the app; without REDIS_URL, timers and jobs run in this process."""
    from flask import current_app
    from werkzeug.serving import run_simple
    from engine import timers
    app = current_app._get_current_object()
    if settings.environment_value("SECURE_TRANSPORT") is None and _is_loopback(host):
        # `make run`'s local default: plain http on this machine, so no HSTS and no Secure cookies
        security.set_secure_transport(app, False)
    if not app.config.get("REDIS_URL"):
        timers.start_embedded_sweeper(app)
        click.echo("jobs: in-process (no REDIS_URL); timers swept every "
                   f"{app.config['SWEEP_INTERVAL']:.0f}s")
    click.echo(f"Lotse on http://{host}:{port}/")
    # Not app.run(): Flask ignores it inside a CLI command (FLASK_RUN_FROM_CLI).
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


@cli.command()
@click.argument("username")
@click.password_option(prompt="New password")
@with_appcontext
def password(username, password):
    """Set a user's password; every session of the user ends."""
    from engine import users
    from engine.db import db
    user = _user(username)
    users.set_password(user, password)
    db.session.commit()
    click.echo(f"{user.username}: password set, all sessions ended")


@cli.command()
@click.argument("username")
@with_appcontext
def deactivate(username):
    """Deactivate a user: no more logins, and every session of the user ends now."""
    from engine import users
    from engine.db import db
    user = _user(username)
    users.deactivate(user)
    db.session.commit()
    click.echo(f"{user.username}: deactivated, all sessions ended")


@cli.command()
@click.option("--with-scheduler", is_flag=True, help="also run rq's scheduler (periodic sweeps, timed jobs)")
@click.option("--burst", is_flag=True, help="stop when the queue is empty")
@with_appcontext
def worker(with_scheduler, burst):
    """Run an rq worker for Lotse's jobs (needs REDIS_URL)."""
    from flask import current_app
    from engine import jobs
    if not current_app.config.get("REDIS_URL"):
        _fail("REDIS_URL is not set; without it jobs run inside `lotse serve`")
    jobs.run_worker(with_scheduler=with_scheduler, burst=burst)


def main():
    cli(prog_name="lotse")


if __name__ == "__main__":
    main()
