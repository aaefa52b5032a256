"""The `lotse` command line: the Flask CLI (run, db, shell) plus engine commands.

Every command prints one line per object and exits non-zero with a one-line reason on error.
"""
import ipaddress
import json
import socket
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from engine import settings
from engine.errors import DeploymentRejected, LotseError
from web import security, static_files
from web.dates import iso
from engine.models.statuses import OrganisationKind, TaskStatus


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
@click.option("--note", help="change note, shown with the new versions")
@with_appcontext
def deploy(paths, username, note):
    """Deploy .bpmn/.dmn/.form files or folders as new versions (all or nothing); a single file is checked
    with the newest deployed versions of everything else."""
    from engine import deploy as deployment
    from engine.db import db
    try:
        result = deployment.deploy_paths(paths, user=_user(username), note=note)
        db.session.commit()
    except DeploymentRejected as exc:
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        _fail(f"deployment rejected ({len(exc.problems)} problem(s)); nothing was stored")
    for definition in result.created:
        click.echo(f"deployed {definition.key} v{definition.version}")
        _warn_unstaffed_groups(definition, _user(username))
    for definition in result.unchanged:
        click.echo(f"unchanged {definition.key} v{definition.version}")
    for form in result.forms:
        click.echo(f"deployed form {form.key} v{form.version}")
    for decision in result.decisions:
        click.echo(f"deployed decision {decision.key} v{decision.version}")
    for problem in result.warnings:
        click.echo(f"  warning: {problem}", err=True)


def _warn_unstaffed_groups(definition, user):
    """The deployer's center (or, without --as, every center) should have someone in each group a diagram names."""
    from engine import organisations, people
    centers = [user.organisation] if user is not None and user.organisation is not None \
        and user.organisation.kind == OrganisationKind.CENTER else organisations.centers()
    names = people.named_groups(definition)
    for center in centers:
        for name in people.groups_without_members(names, center.id):
            click.echo(f"  warning: {definition.key} names the candidate group {name!r}, which has no active "
                       f"member at {center.code}", err=True)


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
    elif user is not None and user.organisation and user.organisation.kind == OrganisationKind.CENTER:
        center_row = user.organisation
    else:
        center_row = db.session.scalar(select(Organisation)
                                       .where(Organisation.kind == OrganisationKind.CENTER).limit(1))
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
    query = select(HumanTask).where(HumanTask.state == TaskStatus.OPEN).order_by(HumanTask.due_at, HumanTask.created_at)
    user = _user(username)
    if user is not None:
        query = query.where(access.task_filter(user))
    for task in db.session.scalars(query):
        if user is not None and not access.can_work(user, task):
            continue
        due = iso(task.due_at) or "-"
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


@cli.command("case")
@click.argument("case_id", type=int)
@with_appcontext
def show_case(case_id):
    """Show a case: status, open incidents, running external tasks and its data as JSON."""
    from engine import pages
    overview = pages.case_overview(case_id)
    if overview is None:
        _fail(f"case {case_id} does not exist")
    case = overview.case
    click.echo(f"{case.reference}\t{case.definition.key} v{case.definition.version}\t{case.status}")
    for incident in overview.incidents:
        click.echo(f"incident\t{incident.element_id}\t{incident.message}")
    for task in overview.external_tasks:
        click.echo(f"external\t{task.id}\t{task.topic}\t{task.element_id}")
    click.echo(json.dumps(overview.data, sort_keys=True, default=str))


@cli.command()
@click.argument("task_id")
@click.option("--to", "assignee", required=True, help="the person who works on the task")
@click.option("--as", "username", help="the assigning supervisor (default: the operator, unchecked)")
@with_appcontext
def assign(task_id, assignee, username):
    """Hand an open task to a person (a candidate of the task at its center)."""
    from engine import cases
    try:
        task = cases.assign_task(task_id, _user(assignee), _user(username))
    except LotseError as exc:
        _fail(str(exc))
    click.echo(f"assigned {task.id} ({task.title}) to {assignee}")


@cli.command()
@click.argument("message")
@click.option("--key", "keys", multiple=True, help="correlation key NAME=VALUE (a case variable; VALUE read as JSON "
                                                    "if it is JSON, else as text)")
@click.option("--data", default="{}", help="variables the message brings, as a JSON object")
@click.option("--center", help="center code, for a message that starts a new case")
@click.option("--as", "username", help="acting user")
@with_appcontext
def correlate(message, keys, data, center, username):
    """Deliver a message from outside into the case waiting for it, or start a case by a message start event."""
    from engine import messages, organisations
    correlation = {}
    for item in keys:
        name, sep, value = item.partition("=")
        if not sep or not name:
            _fail(f"--key {item!r}: write NAME=VALUE")
        try:
            correlation[name] = json.loads(value)
        except json.JSONDecodeError:
            correlation[name] = value
    center_row = None
    if center:
        center_row = organisations.center_by_code(center)
        if center_row is None:
            _fail(f"no Welcome Center with the code {center!r}")
    try:
        case = messages.correlate(message, correlation, _json(data, "--data"), center=center_row,
                                  actor=_user(username))
    except LotseError as exc:
        _fail(str(exc))
    click.echo(f"delivered {message} to {case.reference} (case {case.id}), which is {case.status}")


@cli.group()
def external():
    """Work on external tasks as a worker would (camunda:type="external")."""


@external.command("fetch")
@click.option("--topic", "topics", multiple=True, required=True)
@click.option("--worker", required=True)
@click.option("--lock-ms", default=60_000, type=int)
@click.option("--max", "max_tasks", default=10, type=int)
@with_appcontext
def external_fetch(topics, worker, lock_ms, max_tasks):
    """Fetch and lock tasks of the topics; one line each: id, topic, case id, element, variables as JSON."""
    from engine import external_tasks
    try:
        locked = external_tasks.fetch_and_lock(worker, [external_tasks.Topic(t, lock_ms) for t in topics], max_tasks)
    except LotseError as exc:
        _fail(str(exc))
    for task in locked:
        click.echo(f"{task.id}\t{task.topic}\t{task.case_id}\t{task.element_id}\t"
                   f"{json.dumps(task.variables, sort_keys=True, default=str)}")


@external.command("complete")
@click.argument("task_id")
@click.option("--worker", required=True)
@click.option("--data", default="{}", help="variables as a JSON object")
@with_appcontext
def external_complete(task_id, worker, data):
    """Complete a locked external task with variables."""
    from engine import external_tasks
    try:
        case = external_tasks.complete(task_id, worker, _json(data, "--data"))
    except LotseError as exc:
        _fail(str(exc))
    click.echo(f"completed {task_id}; {case.reference} is {case.status}")


@external.command("fail")
@click.argument("task_id")
@click.option("--worker", required=True)
@click.option("--message", required=True)
@click.option("--retries", default=0, type=int)
@click.option("--retry-timeout-ms", default=0, type=int)
@with_appcontext
def external_fail(task_id, worker, message, retries, retry_timeout_ms):
    """Report that a worker could not do the task; with no retries left it is an incident."""
    from engine import external_tasks
    try:
        external_tasks.handle_failure(task_id, worker, message, retries=retries, retry_timeout_ms=retry_timeout_ms)
    except LotseError as exc:
        _fail(str(exc))
    click.echo(f"failure of {task_id} recorded; {retries} retries left")


@external.command("error")
@click.argument("task_id")
@click.option("--worker", required=True)
@click.option("--code", required=True)
@click.option("--message", default=None)
@click.option("--data", default="{}", help="variables as a JSON object")
@with_appcontext
def external_error(task_id, worker, code, message, data):
    """Throw a BPMN error at the task (an error boundary event catches it by code)."""
    from engine import external_tasks
    try:
        case = external_tasks.bpmn_error(task_id, worker, code, message, _json(data, "--data"))
    except LotseError as exc:
        _fail(str(exc))
    click.echo(f"BPMN error {code} thrown at {task_id}; {case.reference} is {case.status}")


@cli.command()
@with_appcontext
def sweep():
    """Do once what the sweeper does every SWEEP_INTERVAL: timer starts, due timers, notices, mail, messages."""
    from engine import timers
    result = timers.sweep()
    click.echo("\t".join(f"{key} {value}" for key, value in result.items() if key != "more"))


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
def digest():
    """Send every daily digest now, with all notices waiting for it (the sweeper sends them each day)."""
    from engine import clock, notifications
    click.echo(f"sent {notifications.send_digests(cutoff=clock.now())} digest mails")


@cli.command("refresh-facts")
@with_appcontext
def refresh_facts():
    """Keep the funder's report's facts of every case anew from its data (cases stored before they were kept)."""
    from engine import report
    click.echo(f"refreshed the report facts of {report.refresh_facts()} cases")


@cli.command()
@click.option("--reset", is_flag=True, help="empty the demo database first, then migrate, deploy bpmn/ and forms/, load")
@click.option("--force", is_flag=True, help="with --reset: also when the database has people the demo did not create")
@click.pass_context
@with_appcontext
def demo(ctx, reset, force):
    """Load demo organisations, users and cases (idempotent); --reset starts the demo over."""
    from engine import demo as demo_data
    if reset:
        from flask_migrate import upgrade
        try:
            demo_data.reset(force=force)
        except LotseError as exc:
            _fail(str(exc))
        click.echo("demo database emptied")
        upgrade()
        content = Path(__file__).resolve().parents[1]        # the bundled processes and forms of this checkout
        ctx.invoke(deploy, paths=(str(content / "bpmn"), str(content / "forms")), username=None)
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


def local_base_url(host: str, port: int) -> str:
    """The address `lotse serve` answers on, for links in mails during development."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


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
    if _is_loopback(host):
        # development: a rebuilt bundle or an edited stylesheet gets its new version without a restart
        static_files.versions(app).recheck = True
    if settings.environment_value("BASE_URL") is None and _is_loopback(host):
        # links in mails point at this server, whatever its port (the default names port 5000)
        app.config["BASE_URL"] = local_base_url(host, port)
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
    from engine import passwords, users
    from engine.db import db
    user = _user(username)
    problem = passwords.problem(password)
    if problem:
        _fail(_english(problem))
    users.set_password(user, password)
    db.session.commit()
    click.echo(f"{user.username}: password set, all sessions ended")


@cli.command()
@click.argument("username")
@with_appcontext
def deactivate(username):
    """Deactivate a user: no more logins, every session ends now, claimed tasks go back to the group."""
    from engine import people
    user = _user(username)
    responsible = people.deactivate(user)
    click.echo(f"{user.username}: deactivated, all sessions ended, claimed tasks back in their groups")
    for case in responsible:
        click.echo(f"  still responsible for {case.reference} ({case.subject}): reassign it")


# --- administration (engine/organisations.py, engine/people.py, engine/csv_import.py) ------------
# Engine messages are German with English catalog entries; the command line speaks English.

def _english(problem) -> str:
    from flask_babel import force_locale
    with force_locale("en"):
        return str(problem)


def _invalid(exc):
    for field, message in exc.errors.items():
        click.echo(f"  {field}: {_english(message)}", err=True)
    _fail("nothing was stored")


def _center(code):
    from engine import organisations
    center = organisations.center_by_code(code)
    if center is None:
        _fail(f"no Welcome Center with the code {code!r}")
    return center


def _send_mail():
    from engine import mail
    mail.after_commit_send_mail()


@cli.command("first-admin")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="the admin's full name")
@click.option("--email", default="", help="the admin's e-mail address")
@click.option("--center-name", required=True, help="the Welcome Center's name")
@click.option("--center-code", required=True, help="the center's code in case references, e.g. AC")
@click.password_option(prompt="Password")
@with_appcontext
def first_admin(username, display_name, email, center_name, center_code, password):
    """Create the first Welcome Center and its admin on an empty database."""
    from engine import organisations, passwords, people, users
    from engine.db import db
    from engine.errors import InvalidFields
    from engine.models import User
    if db.session.scalar(select(User.id).limit(1)) is not None:
        _fail("the database has users already; add more with `lotse add-user` or in the browser")
    problem = passwords.problem(password)
    if problem:
        _fail(_english(problem))
    try:
        center = organisations.create_center({"name": center_name, "code": center_code})
        db.session.flush()
        person = people.create_person({"username": username, "display_name": display_name, "email": email,
                                       "organisation_id": str(center.id), "groups": ["admin", "supervisor"]},
                                      {center.id: center}, invite=False)
    except InvalidFields as exc:
        db.session.rollback()
        _invalid(exc)
    users.set_password(person, password)
    db.session.commit()
    click.echo(f"created center {center.code} ({center.name}) and admin {person.username}")


@cli.command("add-center")
@click.option("--name", required=True)
@click.option("--code", required=True, help="code in case references, e.g. AC")
@click.option("--areas", default="", help="Kreise / kreisfreie Städte served, separated by ';'")
@click.option("--email", default="")
@click.option("--phone", default="")
@with_appcontext
def add_center(name, code, areas, email, phone):
    """Add a Welcome Center."""
    from engine import organisations
    from engine.db import db
    from engine.errors import InvalidFields
    try:
        center = organisations.create_center({"name": name, "code": code, "areas": areas, "email": email,
                                              "phone": phone})
        db.session.commit()
    except InvalidFields as exc:
        db.session.rollback()
        _invalid(exc)
    click.echo(f"created center {center.code} ({center.name})")


@cli.command("centers")
@with_appcontext
def list_centers():
    """List the Welcome Centers."""
    from engine import organisations
    for center in organisations.centers():
        click.echo(f"{center.code}\t{center.name}\t{'; '.join(center.areas or [])}")


@cli.command("add-firm")
@click.option("--center", "center_code", required=True, help="code of the serving center")
@click.option("--name", required=True)
@click.option("--legal-form", default="")
@click.option("--kreis", default="", help="Kreis or kreisfreie Stadt in NRW")
@click.option("--city", default="")
@click.option("--sector", default="")
@click.option("--employees", default="")
@with_appcontext
def add_firm(center_code, name, legal_form, kreis, city, sector, employees):
    """Add an employer firm served by a center."""
    from engine import organisations
    from engine.db import db
    from engine.errors import InvalidFields
    center = _center(center_code)
    try:
        firm = organisations.create_firm({"name": name, "legal_form": legal_form, "kreis": kreis, "city": city,
                                          "sector": sector, "employees": employees}, center)
        db.session.commit()
    except InvalidFields as exc:
        db.session.rollback()
        _invalid(exc)
    click.echo(f"created firm {firm.id} ({firm.name}) served by {center.code}")


@cli.command("firms")
@click.option("--center", "center_code", default=None, help="only the firms of this center")
@with_appcontext
def list_firms(center_code):
    """List employer firms."""
    from engine import organisations
    from engine.db import db
    center_id = _center(center_code).id if center_code else None
    for firm in db.session.scalars(organisations.firms_query(center_id)):
        click.echo(f"{firm.id}\t{firm.name}\t{firm.kreis or '-'}\t{firm.size_class or '-'}\t"
                   f"{firm.center.code if firm.center else '-'}")


@cli.command("add-user")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option("--email", default="")
@click.option("--center", "center_code", required=True, help="code of the person's center")
@click.option("--firm", "firm_id", type=int, default=None, help="id of a firm of that center (employer people)")
@click.option("--groups", default="", help="roles and groups separated by ','")
@click.option("--language", default="de")
@click.option("--no-invite", is_flag=True, help="send no invitation mail")
@with_appcontext
def add_user(username, display_name, email, center_code, firm_id, groups, language, no_invite):
    """Add a person; with an e-mail address they get an invitation to set their password."""
    from engine import organisations, people
    from engine.db import db
    from engine.errors import InvalidFields
    center = _center(center_code)
    orgs = {center.id: center, **{f.id: f for f in db.session.scalars(organisations.firms_query(center.id))}}
    try:
        person = people.create_person(
            {"username": username, "display_name": display_name, "email": email, "language": language,
             "organisation_id": str(firm_id or center.id), "groups": [g for g in groups.split(",") if g]},
            orgs, invite=not no_invite)
        db.session.commit()
    except InvalidFields as exc:
        db.session.rollback()
        _invalid(exc)
    _send_mail()
    invited = " (invitation sent)" if person.email and not no_invite else ""
    click.echo(f"created user {person.username} at {person.organisation.name}{invited}")


@cli.command("users")
@click.option("--center", "center_code", default=None, help="only the people of this center and its firms")
@with_appcontext
def list_users(center_code):
    """List people."""
    from engine.db import db
    from engine.models import Organisation, User
    query = select(User).order_by(User.username)
    if center_code:
        center = _center(center_code)
        firms = select(Organisation.id).where(Organisation.center_id == center.id)
        query = query.where((User.organisation_id == center.id) | User.organisation_id.in_(firms))
    for user in db.session.scalars(query):
        state = "active" if user.active else "inactive"
        click.echo(f"{user.username}\t{user.display_name}\t{user.email or '-'}\t"
                   f"{','.join(sorted(user.group_names)) or '-'}\t{state}\t"
                   f"{user.organisation.name if user.organisation else '-'}")


def _import(kind, path, center_code, dry_run):
    from engine import csv_import
    from engine.db import db
    center = _center(center_code)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path}: {exc}")
    importer = csv_import.import_firms if kind == "firms" else csv_import.import_users
    try:
        count = importer(text, center, dry_run=dry_run)
    except csv_import.ImportRejected as exc:
        for line, field, message in exc.problems:
            click.echo(f"  {path}: line {line}: {field + ': ' if field else ''}{_english(message)}", err=True)
        _fail(str(exc))
    if dry_run:
        click.echo(f"dry run: all {count} lines are good; nothing was imported")
        return
    db.session.commit()
    _send_mail()
    click.echo(f"imported {count} {kind} for {center.code}")


@cli.command("import-firms")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--center", "center_code", required=True, help="code of the serving center")
@click.option("--dry-run", is_flag=True, help="check every line, import nothing")
@with_appcontext
def import_firms(path, center_code, dry_run):
    """Import firms from CSV (columns: name, legal_form, street, postcode, city, kreis, sector, employees, email,
    phone); all or nothing."""
    _import("firms", path, center_code, dry_run)


@cli.command("import-users")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--center", "center_code", required=True, help="code of the people's center")
@click.option("--dry-run", is_flag=True, help="check every line, import nothing")
@with_appcontext
def import_users(path, center_code, dry_run):
    """Import people from CSV (columns: username, display_name, email, firm, groups, language); all or nothing."""
    _import("users", path, center_code, dry_run)


@cli.command()
@click.option("--with-scheduler", is_flag=True, help="also run rq's scheduler (periodic sweeps, timed jobs)")
@click.option("--burst", is_flag=True, help="stop when the queue is empty")
@with_appcontext
def worker(with_scheduler, burst):
    """Run an rq worker for Lotse's jobs (needs REDIS_URL)."""
    from flask import current_app
    from engine import jobs, timers
    if not current_app.config.get("REDIS_URL"):
        _fail("REDIS_URL is not set; without it jobs run inside `lotse serve`")
    jobs.run_worker(current_app._get_current_object(), on_start=[timers.start_worker_sweeps],
                    maintenance=[timers.schedule_next_sweep], with_scheduler=with_scheduler, burst=burst)


@cli.command("scenarios")
@click.argument("process", required=False)
@click.option("--files", "paths", multiple=True,
              help="run against these files or folders (a draft) instead of the deployed versions; repeatable")
@click.option("--draft", "drafts", multiple=True,
              help="run against the deployed versions with these files (or folders) in place of theirs; repeatable")
@click.option("--scenarios", "scenario_dir", default=None, help="folder of *.scenario.json (default: bpmn/scenarios)")
@with_appcontext
def run_scenarios(process, paths, drafts, scenario_dir):
    """Run the process tests (scenarios) of PROCESS, or of every process; exits 1 if one fails."""
    from engine import deploy as deployment, scenarios
    try:
        if paths:
            files = dict(deployment.collect_files(paths))
        else:
            files = scenarios.with_deployed(dict(deployment.collect_files(drafts)))
        stored = scenarios.scenario_files(scenario_dir) if scenario_dir else None
        results = scenarios.run_scenarios(files, process_key=process, scenarios=stored)
    except DeploymentRejected as exc:
        _fail("; ".join(str(p) for p in exc.problems))
    except scenarios.ScenarioError as exc:
        _fail(_english(exc))
    if not results:
        _fail(f"no scenarios{' of ' + process if process else ''} found")
    for result in results:
        click.echo(f"{'passed' if result.passed else 'FAILED'}\t{result.process}\t{result.file}\t{result.name} "
                   f"(ends {result.status or 'unstarted'}; open: {', '.join(result.open_tasks) or 'none'})")
        for failure in result.failures:
            click.echo(f"  {_english(failure)}")
    failed = sum(not r.passed for r in results)
    if failed:
        _fail(f"{failed} of {len(results)} scenario(s) failed")


@cli.command("migrate")
@click.option("--from", "source", required=True, metavar="KEY:VERSION", help="the process and version the cases run on")
@click.option("--to", "to_version", required=True, type=int, help="the version to move them to")
@click.option("--case", "case", default=None, help="only this case (id or reference)")
@click.option("--map", "pairs", multiple=True, metavar="OLD=NEW", help="element id OLD is NEW in the target; repeatable")
@click.option("--dry-run", is_flag=True, help="say per case what would happen, change nothing")
@click.option("--as", "username", help="the migrating user (named in the case log and the audit log)")
@with_appcontext
def migrate_cases(source, to_version, case, pairs, dry_run, username):
    """Move running cases to another version of their process (each case on its own; refused ones stay)."""
    from engine import migration
    key, _, version = source.rpartition(":")
    if not key or not version.isdigit():
        _fail(f"--from needs KEY:VERSION, such as worker_journey:3, not {source!r}")
    try:
        mapping = migration.parse_mapping(pairs)
        run = migration.plan if dry_run else migration.migrate
        kwargs = {} if dry_run else {"actor": _user(username)}
        result = run(key, int(version), to_version, case_id=case, mapping=mapping, **kwargs)
    except LotseError as exc:
        _fail(_english(exc))
    if not result.cases:
        click.echo(f"no active cases on {key} v{version}")
    for plan in result.cases:
        verdict = ("would move" if plan.ok else "refused") if dry_run else ("moved" if plan.migrated else "refused")
        click.echo(f"{verdict}\t{plan.reference}\t{plan.subject}\tat: {', '.join(plan.standing) or '-'}")
        for line in plan.refusals or plan.changes:
            click.echo(f"  {_english(line)}")
    refused = [p for p in result.cases if not (p.ok if dry_run else p.migrated)]
    if refused:
        _fail(f"{len(refused)} of {len(result.cases)} case(s) {'would be' if dry_run else 'were'} refused")


@cli.command("rollback")
@click.argument("key")
@click.option("--to", "version", required=True, type=int, help="the older version to deploy again")
@click.option("--as", "username", help="the deploying user (named in the audit log)")
@with_appcontext
def rollback(key, version, username):
    """Deploy an older version of process KEY again, as its newest version."""
    from engine import versions
    try:
        row = versions.rollback(key, version, actor=_user(username))
    except LotseError as exc:
        _fail(_english(exc))
    click.echo(f"deployed {row.key} v{row.version} (the same as v{version})")


def main():
    cli(prog_name="lotse")


if __name__ == "__main__":
    main()
