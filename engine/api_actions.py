"""What the JSON API changes (web/api/), each an operation of engine/cases.py, engine/deploy.py,
engine/messages.py or engine/external_tasks.py behind the same checks of engine.access as the pages.
A view calls one of these (or the engine operation itself where the engine already checks the actor)."""
from sqlalchemy import inspect, select
from sqlalchemy.orm.attributes import set_committed_value

from engine import access, cases, deploy as deployment, external_tasks, inbox, messages, pages
from engine.api_reads import visible_case, visible_incident
from engine.db import db
from engine.deploy import latest_definition
from engine.errors import Conflict, Forbidden, InvalidData, InvalidFields, NotFound
from engine.forms import validate_submission
from engine.models import Case, ExternalTask, Organisation, User
from engine.models.statuses import OrganisationKind


def deploy(user, files: list[tuple[str, bytes]], note: str | None = None) -> deployment.DeployResult:
    """Deploy a file set with the command line's validation (all or nothing)."""
    if not access.may_use_people_api(user) or not access.may_deploy(user):
        raise Forbidden("only process owners and admins deploy")
    return deployment.deploy(files, user=user, note=note)


def start_case(user, key, *, subject="", business_key=None, data=None, employer_id=None, responsible_id=None):
    """Start a case of the user's center on the newest startable version of `key`, as the page "Neuer Fall" does;
    a start form's fields are checked as on that page. The business key is kept as the case variable
    `businessKey` (Camunda's name; messages correlate by it) and is the subject when none is given."""
    if not access.may_use_people_api(user) or not access.may_start_cases(user):
        raise Forbidden("only Welcome Center staff start cases")
    definition = latest_definition(key)
    if definition is None or not definition.startable:
        raise NotFound(f"no startable process {key!r} is deployed")
    employer = None
    if employer_id is not None:
        employer = db.session.scalar(select(Organisation).where(Organisation.id == employer_id,
                                                                Organisation.kind == OrganisationKind.EMPLOYER,
                                                                Organisation.center_id == user.organisation_id))
        if employer is None:
            raise InvalidData("no firm with this id is served by your center", field="employer_id")
    responsible = user
    if responsible_id is not None:
        responsible = pages.colleague(user, responsible_id)
        if responsible is None:
            raise InvalidData("no active person of your center has this id", field="responsible_id")
    data = dict(data or {})
    if definition.start_form:
        form = pages.load_form((definition.forms or {}).get(definition.start_form))
        if form is not None:
            checked, errors = validate_submission(form, data)
            if errors:
                raise InvalidFields(errors)
            data = {**data, **checked}
    if business_key:
        data["businessKey"] = business_key
    return cases.start_case(definition, center=user.organisation, employer=employer,
                            subject=subject or business_key or "", data=data, actor=user, responsible=responsible)


def cancel_case(user, reference, reason=""):
    case = visible_case(user, reference)
    if not access.may_cancel_case(user, case):
        raise Forbidden("only staff of the case's center cancel it")
    return cases.cancel_case(case.id, user, reason=reason)


def complete_task(user, task_id, data) -> tuple:
    """Complete a task with a submission checked by its form: (the case, its next task for `user` or None),
    taken from the rows the completion left open, read before its commit (no statement after it)."""
    change = cases.completing_task(task_id, data, user, validate=True)
    following = inbox.next_of(user, change.open_after)
    if following is not None and following.assignee_id is not None and inspect(following).transient:
        set_committed_value(following, "assignee", user)   # a row the change opened: next_of gives only the caller's
    return change.case, following


def assign_task(user, task_id, username):
    row = access.visible_task(user, task_id) if access.may_use_people_api(user) else None
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    assignee = db.session.scalar(select(User).where(User.username == username))
    if not access.may_be_assigned(assignee, user):
        raise InvalidData(f"no active person of your center is called {username!r}", field="username")
    return cases.assign_task(row.id, assignee, user)


def correlate(user, name, keys, data):
    """A message from outside into a waiting case of the user's center, or a new case there (message start)."""
    if not access.may_use_people_api(user) or not access.may_correlate_messages(user):
        raise Forbidden("only Welcome Center staff send messages into cases")
    return messages.correlate(name, keys, data, center=user.organisation, actor=user,
                              where=access.case_filter(user))


def retry_incident(user, incident_id, data=None):
    """Run the incident's failed step again, with corrected case data."""
    incident = visible_incident(user, incident_id)
    if not access.case_view(user).retry:
        raise NotFound(f"incident {incident_id} does not exist")
    if incident.task_id and db.session.get(ExternalTask, incident.task_id) is not None:
        if data:
            raise InvalidData("an external task's failure is retried by its worker; send no data", field="data")
        external_tasks.set_retries(incident.task_id, 1, actor=user)
        return db.session.get(Case, incident.case_id)
    return cases.retry_task(incident.case_id, incident.task_id or None, data, actor=user)


# --- external tasks -----------------------------------------------------------------------------

def _external(actor, task_id):
    if not access.may_use_external_tasks(actor) or access.visible_external_task(actor, task_id) is None:
        raise NotFound(f"external task {task_id} does not exist")


def fetch_and_lock(actor, worker_id, topics, max_tasks):
    if not access.may_use_external_tasks(actor):
        raise Forbidden("this token may not work external tasks")
    names = {topic.name for topic in topics}
    return external_tasks.fetch_and_lock(worker_id, topics, max_tasks,
                                         where=access.external_task_filter(actor, names))


def complete_external(actor, task_id, worker_id, variables):
    _external(actor, task_id)
    return external_tasks.complete(task_id, worker_id, variables)


def fail_external(actor, task_id, worker_id, message, details, retries, retry_timeout, variables=None):
    _external(actor, task_id)
    external_tasks.handle_failure(task_id, worker_id, message, details, retries, retry_timeout, variables)


def extend_external_lock(actor, task_id, worker_id, duration):
    _external(actor, task_id)
    external_tasks.extend_lock(task_id, worker_id, duration)


def bpmn_error(actor, task_id, worker_id, code, message, variables):
    _external(actor, task_id)
    return external_tasks.bpmn_error(task_id, worker_id, code, message, variables)


def unlock_external(actor, task_id):
    _external(actor, task_id)
    external_tasks.unlock(task_id)


def set_external_retries(actor, task_id, retries):
    _external(actor, task_id)
    external_tasks.set_retries(task_id, retries, actor=actor)


def set_external_priority(actor, task_id, priority):
    _external(actor, task_id)
    external_tasks.set_priority(task_id, priority)


def conflict_if_stale(expected: str | None, current: str) -> None:
    """If-Match: the caller's ETag must be the current one (else 409: reload, then try again)."""
    if expected is None or expected.strip() == "*":
        return
    tags = [tag.strip().removeprefix("W/") for tag in expected.split(",")]
    if current not in tags:
        raise Conflict("the resource has changed since you read it (If-Match does not match its ETag); "
                       "read it again, then retry")
