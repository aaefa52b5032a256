"""Who may see and act on what: every permission decision of Lotse, in one place.

Views, the CLI and the engine ask here; a `None` from a `visible_*` function means 404.

Roles are groups; the organisation a user belongs to bounds everything they see:

- Welcome Center staff (advisor, supervisor, admin) see the cases, tasks, deadlines and mails of
  their own center, never another's. Supervisors (and only they) see all open tasks of their
  center and (re)assign them; admins and supervisors read their center's mail outbox.
- Employer users see their own firm's cases, and of a case only what the process marks for them:
  the case's subject (the worker's name), its milestones and their own tasks (candidate group
  `employer`, or naming them). Never the other tasks, the timeline, the case data, notes, incidents
  or the diagram.
- Employer users work in the employer portal (`may_use_portal`), never in the center's workspace: its
  pages are a 403 for them, and the portal shows only their own firm's cases (another firm's case,
  task, document or conversation is a 404).
- Documents: the center sees every document of its cases; a party (employer, worker) those shared with
  it (`CaseDocument.shared_with`, set from the diagram's `document:<key>:for` or by the uploader).
- Conversations: the employer's users read and write their firm's thread of a visible case; the center's
  staff every thread of their cases.
- Process owners (group `process_owner`) model, deploy and migrate the processes under /processes;
  without another role they have no workspace: they see no case and no task.
- A user may work a task if it is assigned to them, or if it is unassigned and they are a
  candidate (by group or by name) in the organisation the task belongs to.
- Notifications are their recipient's only.
- Workers have no account: a personal link (`WorkerActor`, engine/worker_links.py) opens the one case it
  was issued for and the cases that case started, and of them only the tasks whose candidate group is
  `worker`. The center's staff issue and revoke links for cases of their own center.

`safe_next` decides where a `next=` parameter may send the browser (same origin, a path only).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import unquote, urlsplit

from sqlalchemy import Text, bindparam, false, or_, select, type_coerce

from engine.db import db
from engine.models import (Case, CaseDocument, ExternalTask, HumanTask, Incident, MailMessage, Notification,
                           Organisation, ProcessDefinition, User, WaitingTimer, WorkerLink)
from engine.models.statuses import OrganisationKind

# Groups of center staff that work cases (start cases, write notes, retry failed steps).
STAFF_GROUPS = frozenset({"advisor", "supervisor", "admin"})
EMPLOYER_GROUP = "employer"
WORKER_GROUP = "worker"          # candidate group of the tasks a worker completes through their link


@dataclass(frozen=True)
class WorkerActor:
    """The worker behind a live personal link: no account, so no `id` (case events name no user) and no
    groups. `engine.access` decides what it may see and do, like for a user."""
    link: WorkerLink
    id: None = None

    @property
    def display_name(self) -> str:
        return self.link.case.subject


def is_worker(actor) -> bool:
    return isinstance(actor, WorkerActor)


@dataclass(frozen=True)
class ServiceActor:
    """A service account of the JSON API (engine/api_tokens.py): no person, so no `id`; bound to its
    center and its topics. It sees no case or task: it fetches and finishes external tasks only."""
    token_id: int
    name: str
    organisation_id: int
    topics: frozenset
    id: None = None
    organisation: None = None       # of no organisation and in no group: every rule for people finds nothing
    organisation_kind: None = None
    group_names: frozenset = frozenset()
    username: None = None

    def in_group(self, *names) -> bool:
        return False


def is_service(actor) -> bool:
    return isinstance(actor, ServiceActor)


@dataclass(frozen=True)
class TokenUser:
    """A person acting through their personal API token (engine/api_tokens.py): what the rules here and the
    engine read of a `User`, from the row the token's check reads, not an ORM object (every API request
    builds one). Its organisation, which starting a case needs, is loaded when first asked for."""
    id: int
    username: str
    display_name: str
    email: str | None
    language: str
    active: bool
    organisation_id: int | None
    organisation_kind: str | None
    group_names: frozenset

    def in_group(self, *names) -> bool:
        return not self.group_names.isdisjoint(names)

    @cached_property
    def organisation(self) -> Organisation | None:
        return db.session.get(Organisation, self.organisation_id) if self.organisation_id is not None else None


def is_person(actor) -> bool:
    """A person's account (a page's user or a personal token's), not a service account or a worker's link."""
    return isinstance(actor, (User, TokenUser))


# --------------------------------------------------------------------------- roles

def is_center_staff(user) -> bool:
    """The user belongs to a Welcome Center (whatever their groups)."""
    return user.organisation_kind == OrganisationKind.CENTER


def is_employer_user(user) -> bool:
    return user.organisation_kind == OrganisationKind.EMPLOYER


def may_use_workspace(user) -> bool:
    """Center staff with a workspace role; employer users have the portal instead, process owners nothing yet."""
    return is_center_staff(user) and bool(user.group_names & STAFF_GROUPS)


def may_use_portal(user) -> bool:
    """The employer portal: people of a firm in the employer group."""
    return is_employer_user(user) and EMPLOYER_GROUP in user.group_names


def party_of(user) -> str | None:
    """The party a user speaks for in a case: "center" (staff), "employer" (a firm's people), "worker"
    (the worker through their personal link), else None."""
    if is_worker(user):
        return WORKER_GROUP
    if is_staff(user):
        return "center"
    return "employer" if may_use_portal(user) else None


def is_staff(user) -> bool:
    """Welcome Center staff working cases: may start cases, write notes and retry failed steps."""
    return is_center_staff(user) and bool(user.group_names & STAFF_GROUPS)


def may_manage_processes(user) -> bool:
    """Process owners deploy, compare, roll back and test processes and migrate running cases (every center's)."""
    return user.in_group("process_owner")


def may_keep_info_library(user) -> bool:
    """The information library (pages of offices per topic and language, shown to workers next to their
    steps) belongs with the processes: process owners keep it, every center's; other roles get a 403."""
    return may_manage_processes(user)


def scope(user) -> str:
    """Whose objects the user's role reaches: "center" (staff of a center: their center's), "employer"
    (people of a firm: their firm's), or "" (nothing, e.g. a process owner without another role; a worker,
    whose link reaches their own cases: `worker_case_filter`)."""
    if is_worker(user):
        return ""
    if is_staff(user):
        return "center"
    return "employer" if is_employer_user(user) else ""


def may_list_cases(user) -> bool:
    """The case list ("Fälle"): Welcome Center staff list their center's cases; employers see their cases
    through their tasks and the portal."""
    return scope(user) == "center"


def can_see_all_tasks(user) -> bool:
    """The inbox's "all" tab: every open task of the supervisor's own center."""
    return is_center_staff(user) and user.in_group("supervisor")


def may_oversee(user) -> bool:
    """The supervisors' pages (stuck cases, incidents, workload, the funder's report): supervisors of a
    center, over their own center only (its objects are found through `case_filter`/`task_filter`)."""
    return is_center_staff(user) and user.in_group("supervisor")


def may_change_responsible(user, case: Case, responsible: User | None) -> bool:
    """A supervisor hands a case of their center to an active advisor of the same center."""
    return (may_oversee(user) and case.center_id == user.organisation_id and responsible is not None
            and responsible.active and responsible.organisation_id == case.center_id
            and responsible.in_group("advisor", "supervisor"))


def may_see_outbox(user) -> bool:
    """Admins and supervisors read their own center's mail outbox."""
    return is_center_staff(user) and user.in_group("admin", "supervisor")


# --------------------------------------------------------------------------- cases

def case_filter(user):
    """A WHERE clause limiting `Case` rows to what `user` (a person, or a `WorkerActor`) may see."""
    if is_worker(user):
        return worker_case_filter(user.link)
    reach = scope(user)
    if reach == "center":
        return Case.center_id == user.organisation_id
    if reach == "employer":
        return Case.employer_id == user.organisation_id
    return false()


def visible_case(user, case_id) -> Case | None:
    return db.session.scalar(select(Case).where(Case.id == case_id, case_filter(user)))


def visible_case_by_reference(user, reference) -> Case | None:
    return db.session.scalar(select(Case).where(Case.reference == reference, case_filter(user)))


@dataclass(frozen=True)
class CaseView:
    """Which parts of a visible case's page a user sees."""
    all_tasks: bool        # False: only the tasks the user acts on (`task_filter`)
    timeline: bool
    case_data: bool        # the labelled data and the raw (JSON) view
    incidents: bool
    notes: bool            # read and write internal notes
    diagram: bool
    retry: bool            # retry a failed step

    @property
    def reduced(self) -> bool:
        return not self.all_tasks


FULL_VIEW = CaseView(all_tasks=True, timeline=True, case_data=True, incidents=True, notes=True, diagram=True,
                     retry=True)
# What the process marks for an employer: subject, milestones, their own tasks.
EMPLOYER_VIEW = CaseView(all_tasks=False, timeline=False, case_data=False, incidents=False, notes=False,
                         diagram=False, retry=False)


def case_view(user) -> CaseView:
    """What of a case (one `visible_case` returned) the user sees on its page."""
    if is_staff(user):
        return FULL_VIEW
    return EMPLOYER_VIEW


# --------------------------------------------------------------------------- tasks

def _employer_task_clause(user):
    """Tasks an employer user acts on: candidate group `employer`, or naming them; or theirs already.

    The candidate lists are JSON text (`engine.db.JSONText`), matched as text so that closed tasks
    (which have left the group index) are found too."""
    groups, users_ = type_coerce(HumanTask.candidate_groups, Text), type_coerce(HumanTask.candidate_users, Text)
    name = _escape_like(json.dumps(user.username, ensure_ascii=False))
    return or_(groups.like(f'%"{EMPLOYER_GROUP}"%'), users_.like(f"%{name}%", escape="\\"),
               HumanTask.assignee_id == user.id, HumanTask.completed_by_id == user.id)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# A center's staff see their center's tasks: one clause for all of them, the center a parameter.
_CENTER_TASKS = HumanTask.center_id == bindparam("visible_center")


def task_filter(user):
    """A WHERE clause limiting `HumanTask` rows to what `user` may see."""
    bound = task_filter_parameters(user)
    if bound is not None:
        clause, parameters = bound
        return clause.params(parameters)
    if is_worker(user):
        return worker_task_filter(user.link)
    if scope(user) == "employer":
        return (HumanTask.employer_id == user.organisation_id) & _employer_task_clause(user)
    return false()


def task_filter_parameters(user):
    """`task_filter(user)` as a clause that is the same for every user of its kind and the user's values
    for its parameters, so that a statement built once with it serves every such user (engine.cases locks
    a task's case so); None where the filter takes no such form (then use `task_filter`)."""
    if not is_worker(user) and scope(user) == "center":
        return _CENTER_TASKS, {"visible_center": user.organisation_id}
    return None


def timer_filter(user):
    """A WHERE clause limiting `WaitingTimer` rows (joined with their `Case`) to what `user` may see:
    an employer user sees only what the process marks as theirs to act on (actor `employer`)."""
    if is_employer_user(user):
        return case_filter(user) & (WaitingTimer.actor == EMPLOYER_GROUP)
    return case_filter(user) & (WaitingTimer.center_id == user.organisation_id)


def visible_task(user, task_id) -> HumanTask | None:
    """The task if `user` (a person, or a `WorkerActor`) may see it."""
    return db.session.scalar(select(HumanTask).where(HumanTask.id == str(task_id), task_filter(user)))


def is_candidate(user, task: HumanTask) -> bool:
    """Named by the task (by group or by name) and of the organisation it belongs to."""
    own = task.center_id if is_center_staff(user) else task.employer_id
    if user.organisation_id is None or user.organisation_id != own:
        return False
    if user.username in (task.candidate_users or []):
        return True
    groups = set(task.candidate_groups or [])
    if not groups.intersection(user.group_names):
        return False
    # Employer users act on employer tasks only; center staff on the rest.
    return is_center_staff(user) or EMPLOYER_GROUP in groups


def can_claim(user, task: HumanTask) -> bool:
    return task.is_open and task.assignee_id is None and is_candidate(user, task)


def can_work(user, task: HumanTask) -> bool:
    if not task.is_open:
        return False
    if is_worker(user):
        return worker_may_work(user.link, task)
    if task.assignee_id is not None:
        return task.assignee_id == user.id
    return is_candidate(user, task)


def can_be_assigned(user, task) -> bool:
    """Whether `task` may be handed to `user`: an active candidate, and staff of the task's own center."""
    if not user.active or not is_candidate(user, task):
        return False
    return not is_center_staff(user) or user.organisation_id == task.center_id


def can_assign(user, task: HumanTask) -> bool:
    return task.is_open and can_see_all_tasks(user) and task.center_id == user.organisation_id


def may_be_assigned(assignee: User | None, by) -> bool:
    """A supervisor assigns tasks to active people of their own center only."""
    return assignee is not None and assignee.active and assignee.organisation_id == by.organisation_id


# --------------------------------------------------------------------------- documents

def shared_with_clause(party: str):
    """`CaseDocument` rows shared with `party` (a JSON list, matched as text as the candidate lists are)."""
    return type_coerce(CaseDocument.shared_with, Text).like(f'%"{_escape_like(party)}"%', escape="\\")


def document_filter(user):
    """A WHERE clause limiting `CaseDocument` rows (joined with their `Case`) to what `user` may read."""
    party = party_of(user)
    if party is None:
        return false()
    if party == "center":
        return case_filter(user)
    return case_filter(user) & shared_with_clause(party)


def visible_document(user, document_id) -> CaseDocument | None:
    return db.session.scalar(select(CaseDocument).join(Case, Case.id == CaseDocument.case_id)
                             .where(CaseDocument.id == document_id, document_filter(user)))


def may_upload(user, case) -> bool:
    """Staff and the firm's people upload to a case they may see (the caller loaded it through case_filter)."""
    return party_of(user) is not None and case.is_active


# --------------------------------------------------------------------------- conversations

def conversation_parties(user) -> tuple[str, ...]:
    """Whose conversations of a visible case `user` reads and writes in: staff every party's, a firm its own."""
    party = party_of(user)
    if party == "center":
        return ("employer", "worker")
    return (party,) if party else ()


# --------------------------------------------------------------------------- notifications and mail

def notification_filter(user):
    return Notification.user_id == user.id


def visible_notification(user, notification_id) -> Notification | None:
    return db.session.scalar(select(Notification).where(Notification.id == notification_id,
                                                        notification_filter(user)))


def outbox_filter(user):
    """A WHERE clause limiting `MailMessage` rows to mails to people of the user's center and of the
    employers it serves (admins included: nobody reads another center's mail)."""
    if not may_see_outbox(user):
        return false()
    served = select(Organisation.id).where(Organisation.center_id == user.organisation_id)
    recipients = select(User.id).where(or_(User.organisation_id == user.organisation_id,
                                           User.organisation_id.in_(served)))
    return MailMessage.user_id.in_(recipients)


def visible_mail(user, mail_id) -> MailMessage | None:
    return db.session.scalar(select(MailMessage).where(MailMessage.id == mail_id, outbox_filter(user)))


# --------------------------------------------------------------------------- redirects

# C0 controls and DEL: browsers drop tab, CR and LF from a URL (`/\t/evil.example` becomes `//evil.example`),
# and CR or LF in a Location header would split it.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None, default: str | None = None) -> str | None:
    """`target` if it is a path on this site, else `default`: the one check for every `next=`.

    Its path (before `?` or `#`) must start with exactly one `/` and hold no backslash (read as `/`
    by browsers) or control character, as given and after each round of percent-decoding, so that
    encoded variants (`/%09/evil.example`, `%2F%2Fevil.example`, `/%5Cevil.example`) are refused too."""
    if not target or len(target) > 2000 or _CONTROL.search(target):
        return default
    candidate = target
    for _round in range(4):
        path = re.split(r"[?#]", candidate, maxsplit=1)[0]
        parts = urlsplit(candidate)
        if (not path.startswith("/") or path.startswith("//") or "\\" in path or _CONTROL.search(path)
                or parts.scheme or parts.netloc):
            return default
        decoded = unquote(candidate)
        if decoded == candidate:
            return target
        candidate = decoded
    return default


# --- administration (engine/organisations.py, engine/people.py) ----------------------------------

def administered_center_id(user) -> int | None:
    """The center whose record, firms and people `user` administers: an admin's own center only."""
    if user.in_group("admin") and is_center_staff(user):
        return user.organisation_id
    return None


def may_administer(user) -> bool:
    return administered_center_id(user) is not None


def administers(user, obj) -> bool:
    """Whether `user` administers a center, firm or person (elsewhere: 404, not even its existence)."""
    from engine.audit import center_of
    center_id = administered_center_id(user)
    return center_id is not None and center_of(obj) == center_id


def may_read_audit(user) -> bool:
    """Admins and supervisors read the audit log of their own center."""
    return is_center_staff(user) and user.in_group("admin", "supervisor")


# --- the JSON API (web/api/; its credentials: engine/api_tokens.py) -----------------------------------
# A personal token acts as its person: every rule above applies as on the pages. What a service
# account may do is decided here too.

def may_use_people_api(actor) -> bool:
    """Cases, tasks, messages, incidents and process definitions: people, not service accounts."""
    return is_person(actor)


PROCESS_GROUPS = frozenset({"process_owner", "admin"})


def may_read_definitions(user) -> bool:
    """Staff start cases of the deployed processes; process owners and admins deploy them."""
    return is_staff(user) or bool(user.group_names & PROCESS_GROUPS)


def may_deploy(user) -> bool:
    return is_center_staff(user) and bool(user.group_names & PROCESS_GROUPS)


def may_start_cases(user) -> bool:
    return is_staff(user)


def may_cancel_case(user, case) -> bool:
    """Staff of the case's own center cancel it (the caller loaded it through case_filter)."""
    return is_staff(user) and case.center_id == user.organisation_id


def may_correlate_messages(user) -> bool:
    """Messages from outside go into the cases of the staff's own center (or start one there)."""
    return is_staff(user)


def incident_filter(user):
    """Open incidents of the cases whose failed steps the user may see (and retry): staff, their center's."""
    if not case_view(user).incidents:
        return false()
    return Incident.case_id.in_(select(Case.id).where(case_filter(user)))


def visible_definition(user, definition_id) -> ProcessDefinition | None:
    if not may_read_definitions(user):
        return None
    return db.session.get(ProcessDefinition, definition_id)


def may_use_external_tasks(actor) -> bool:
    return is_service(actor) or (is_person(actor) and is_staff(actor))


def external_task_filter(actor, topics=None):
    """A WHERE clause limiting `ExternalTask` rows: a service account's own topics at its center; center
    staff their center's (every topic). `topics`: further limited to these names."""
    if is_service(actor):
        allowed = actor.topics if topics is None else actor.topics & set(topics)
        return (ExternalTask.center_id == actor.organisation_id) & ExternalTask.topic.in_(sorted(allowed))
    if is_person(actor) and is_staff(actor):
        clause = ExternalTask.center_id == actor.organisation_id
        return clause if topics is None else clause & ExternalTask.topic.in_(sorted(set(topics)))
    return false()


def visible_external_task(actor, task_id) -> ExternalTask | None:
    return db.session.scalar(select(ExternalTask).where(ExternalTask.id == str(task_id),
                                                        external_task_filter(actor)))


# --- workers (no account: a personal link; engine/worker_links.py) ------------------------------

def link_status(link: WorkerLink | None, now) -> str:
    """"live", or why a link opens nothing: "unknown" (forged, mistyped, or never issued), "revoked"
    (also: replaced by a newer link), "expired"."""
    if link is None:
        return "unknown"
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at <= now:
        return "expired"
    return "live"


def worker_case_filter(link: WorkerLink):
    """The cases a link opens: the one it was issued for and the cases that one started."""
    return or_(Case.id == link.case_id, Case.parent_case_id == link.case_id)


def worker_task_filter(link: WorkerLink):
    """Tasks of the link's cases that name the candidate group `worker` (open or done)."""
    groups = type_coerce(HumanTask.candidate_groups, Text)
    return HumanTask.case_id.in_(select(Case.id).where(worker_case_filter(link))) & \
        groups.like(f'%"{WORKER_GROUP}"%')


def worker_may_work(link: WorkerLink, task: HumanTask) -> bool:
    """An open `worker` task of one of the link's cases (the case ids are checked, not just the filter)."""
    if not task.is_open or WORKER_GROUP not in (task.candidate_groups or []):
        return False
    return task.case_id == link.case_id or db.session.scalar(
        select(Case.id).where(Case.id == task.case_id, worker_case_filter(link))) is not None


def may_manage_worker_links(user, case: Case) -> bool:
    """Staff of the case's own center issue, show as QR code, revoke and renew a worker's links."""
    return is_staff(user) and case.center_id == user.organisation_id
