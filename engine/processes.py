"""What process owners read and do: the deployed processes, decisions and forms with their versions,
the files of each version, their drafts, and deploying from the browser.

A draft is a process owner's named copy of one file (a .bpmn, .dmn or .form). It is checked for
hostile content when it is saved, and the engine never reads it while running cases: only
`deploy_draft` turns it into versions, through `engine.deploy.deploy` like `lotse deploy`.
Callers check `access.may_manage_processes` first (the view decorator does). Each operation commits,
or rolls back and raises: a refused save or deploy leaves nothing behind.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from engine import deploy as deployment, scenarios
from engine.clock import now
from engine.db import db
from engine.errors import DeploymentRejected, InvalidFields, Problem
from engine.forms import FormDefinition, FormDefinitionError
from engine.models import (Case, DecisionVersion, Deployment, DeployedFile, FormVersion, ProcessDefinition,
                           ProcessDraft, User)
from engine.models.statuses import CaseStatus
from engine.settings import setting

KINDS = ("bpmn", "dmn", "form")
SUFFIX = {"bpmn": ".bpmn", "dmn": ".dmn", "form": ".form"}
DRAFT_NAME_MAX = 120
NOTE_MAX = 2000


def upload_limit() -> int:
    """The most bytes a process file (upload, draft, deploy) may have."""
    return setting("PROCESS_FILE_MAX_BYTES")


# --------------------------------------------------------------------------- read models

@dataclass
class VersionRow:
    version: int
    deployed_at: datetime
    deployed_by: str | None
    note: str | None
    files: list[str]
    active: int = 0
    finished: int = 0


@dataclass
class DraftRow:
    id: int
    name: str
    owner: str
    owner_id: int
    updated_at: datetime


@dataclass
class ProcessRow:
    kind: str                   # bpmn | dmn | form
    key: str
    name: str
    startable: bool | None      # processes only: offered under "Neuer Fall"; else only called or started by a message
    message_starts: list = field(default_factory=list)
    versions: list[VersionRow] = field(default_factory=list)   # newest first
    drafts: list[DraftRow] = field(default_factory=list)

    @property
    def newest(self) -> VersionRow | None:
        return self.versions[0] if self.versions else None


def _deployment_info(deployment_ids) -> dict[int, tuple]:
    """deployment id -> (created_at, deployer's name, note, [file names]); the files' contents stay unread."""
    ids = set(deployment_ids)
    if not ids:
        return {}
    names: dict[int, list[str]] = {}
    for deployment_id, name in db.session.execute(select(DeployedFile.deployment_id, DeployedFile.name)
                                                  .where(DeployedFile.deployment_id.in_(ids))
                                                  .order_by(DeployedFile.name)):
        names.setdefault(deployment_id, []).append(name)
    rows = db.session.execute(select(Deployment.id, Deployment.created_at, Deployment.note, User.display_name)
                              .outerjoin(User, User.id == Deployment.created_by_id).where(Deployment.id.in_(ids)))
    return {row.id: (row.created_at, row.display_name, row.note, names.get(row.id, [])) for row in rows}


def _drafts(keys=None) -> dict[tuple[str, str], list[DraftRow]]:
    query = select(ProcessDraft.id, ProcessDraft.kind, ProcessDraft.key, ProcessDraft.name, ProcessDraft.owner_id,
                   ProcessDraft.updated_at, User.display_name).join(User, User.id == ProcessDraft.owner_id)
    if keys is not None:
        query = query.where(ProcessDraft.key.in_(keys))
    out: dict[tuple[str, str], list[DraftRow]] = {}
    for row in db.session.execute(query.order_by(ProcessDraft.updated_at.desc())):
        out.setdefault((row.kind, row.key), []).append(
            DraftRow(row.id, row.name, row.display_name, row.owner_id, row.updated_at))
    return out


def overview(kind: str | None = None, key: str | None = None) -> list[ProcessRow]:
    """Every process, decision and form key with its versions (newest first), each version's deployment
    (who, when, change note, files) and, for processes, how many active and finished cases run on it;
    with `kind` and `key`, only that key's row (read alone: a detail page reads one key, not all)."""
    def read(of_kind, model, query):
        if kind is None:
            return query.order_by(model.key, model.version.desc())
        if kind != of_kind:
            return None
        return query.where(model.key == key).order_by(model.version.desc())

    query = read("bpmn", ProcessDefinition, select(ProcessDefinition))
    definitions = [] if query is None else db.session.scalars(query).all()
    query = read("dmn", DecisionVersion, select(DecisionVersion))
    decisions = [] if query is None else db.session.scalars(query).all()
    query = read("form", FormVersion, select(FormVersion.key, FormVersion.version, FormVersion.deployment_id,
                                             FormVersion.created_at))
    forms = [] if query is None else db.session.execute(query).all()
    counts: dict[int, dict[str, int]] = {}
    count_query = select(Case.definition_id, Case.status, func.count()).group_by(Case.definition_id, Case.status)
    if kind is not None:
        count_query = count_query.where(Case.definition_id.in_([d.id for d in definitions]))
    for definition_id, status, count in db.session.execute(count_query):
        counts.setdefault(definition_id, {})[status] = count
    info = _deployment_info([d.deployment_id for d in definitions] + [d.deployment_id for d in decisions]
                            + [f.deployment_id for f in forms])
    drafts = _drafts(None if kind is None else [key])
    rows: dict[tuple[str, str], ProcessRow] = {}

    def version_row(version, deployment_id, **extra):
        at, by, note, files = info[deployment_id]
        return VersionRow(version, at, by, note, files, **extra)

    for d in definitions:
        row = rows.setdefault(("bpmn", d.key), ProcessRow("bpmn", d.key, d.name, d.startable, d.message_starts))
        status = counts.get(d.id, {})
        row.versions.append(version_row(d.version, d.deployment_id, active=status.get(CaseStatus.ACTIVE, 0),
                                        finished=status.get(CaseStatus.COMPLETED, 0)
                                        + status.get(CaseStatus.CANCELLED, 0)))
    for d in decisions:
        row = rows.setdefault(("dmn", d.key), ProcessRow("dmn", d.key, d.name, None))
        row.versions.append(version_row(d.version, d.deployment_id))
    for f in forms:
        row = rows.setdefault(("form", f.key), ProcessRow("form", f.key, f.key, None))
        row.versions.append(version_row(f.version, f.deployment_id))
    for (draft_kind, draft_key), found in drafts.items():
        if kind is None or draft_kind == kind:
            rows.setdefault((draft_kind, draft_key), ProcessRow(draft_kind, draft_key, draft_key, None)).drafts = found
    return list(rows.values())


def process(kind: str, key: str) -> ProcessRow | None:
    """One key's row of `overview` (None: nothing deployed and no draft under it)."""
    return next(iter(overview(kind, key)), None)


def version_file(kind: str, key: str, version: int, name: str) -> DeployedFile | None:
    """A file of the deployment that made `version` of `key` (None: no such version or file)."""
    model = {"bpmn": ProcessDefinition, "dmn": DecisionVersion, "form": FormVersion}[kind]
    deployment_id = db.session.scalar(select(model.deployment_id).where(model.key == key, model.version == version))
    if deployment_id is None:
        return None
    return db.session.scalar(select(DeployedFile).where(DeployedFile.deployment_id == deployment_id,
                                                        DeployedFile.name == name))


def newest_source(kind: str, key: str) -> tuple[str, str] | None:
    """(file name, content) of the newest version of `key`; for a form, its schema as a .form file."""
    if kind == "form":
        row = db.session.scalar(select(FormVersion).where(FormVersion.key == key)
                                .order_by(FormVersion.version.desc()).limit(1))
        if row is None:
            return None
        return f"{key}.form", json.dumps(row.schema, ensure_ascii=False, indent=2)
    model = ProcessDefinition if kind == "bpmn" else DecisionVersion
    row = db.session.scalar(select(model).options(joinedload(model.source_file)).where(model.key == key)
                            .order_by(model.version.desc()).limit(1))
    if row is None:
        return None
    return row.source_file.name, row.source_file.content


# --------------------------------------------------------------------------- drafts

@contextmanager
def _committed():
    """Commit, or roll back and raise. Two owners storing the same version or draft name at the same
    moment collide on a unique key: the later one is told so, as a problem, not a server error."""
    try:
        yield
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DeploymentRejected([Problem("(database)", "someone stored the same version or draft at the same "
                                                        "moment; nothing was stored here, please try again")]) from None
    except BaseException:
        db.session.rollback()
        raise


def own_draft(user, draft_id: int) -> ProcessDraft | None:
    """A draft of `user`'s own (another owner's draft is None: they see who edits, not the content)."""
    return db.session.scalar(select(ProcessDraft).where(ProcessDraft.id == draft_id,
                                                        ProcessDraft.owner_id == user.id))


def _check_content(kind: str, file_name: str, content: str) -> list[Problem]:
    """What makes `content` unfit to be kept at all: too large, hostile or unreadable."""
    data = content.encode("utf-8")
    if kind == "form":
        if len(data) > upload_limit():
            return [Problem(file_name, f"the file has {len(data)} bytes; at most {upload_limit()} are accepted")]
        try:
            FormDefinition.from_json(content)
        except (ValueError, FormDefinitionError) as exc:
            return [Problem(file_name, f"invalid form: {exc}")]
        return []
    _doc, problems = deployment.screen_xml(file_name, data)
    return problems


def _file_name(kind: str, key: str, file_name: str | None) -> str:
    name = (file_name or "").strip() or f"{key}{SUFFIX[kind]}"
    return name if name.endswith(SUFFIX[kind]) else f"{name}{SUFFIX[kind]}"


def save_draft(user, kind: str, key: str, name: str, content: str, file_name: str | None = None) -> ProcessDraft:
    """Keep `content` as `user`'s draft `name` of `key` (the same name again overwrites it). Raises
    InvalidFields (name) or DeploymentRejected (the content's problems); nothing is kept then."""
    with _committed():
        return _save_draft(user, kind, key, name, content, file_name)


def _save_draft(user, kind, key, name, content, file_name=None) -> ProcessDraft:
    name = (name or "").strip()
    if not name:
        raise InvalidFields({"name": _l("Bitte geben Sie dem Entwurf einen Namen.")})
    if len(name) > DRAFT_NAME_MAX:
        raise InvalidFields({"name": _l("Höchstens %(count)s Zeichen.", count=DRAFT_NAME_MAX)})
    if kind not in KINDS or not key or len(key) > 128:
        raise InvalidFields({"key": _l("Höchstens %(count)s Zeichen.", count=128)})
    file_name = _file_name(kind, key, file_name)
    problems = _check_content(kind, file_name, content)
    if problems:
        raise DeploymentRejected(problems)
    draft = db.session.scalar(select(ProcessDraft).where(ProcessDraft.owner_id == user.id, ProcessDraft.key == key,
                                                         ProcessDraft.kind == kind, ProcessDraft.name == name))
    if draft is None:
        draft = ProcessDraft(owner_id=user.id, kind=kind, key=key, name=name, file_name=file_name, content=content,
                             created_at=now())
        db.session.add(draft)
    draft.content, draft.file_name, draft.updated_at = content, file_name, now()
    db.session.flush()
    return draft


def upload_draft(user, kind: str, file_name: str, data: bytes, name: str | None = None) -> ProcessDraft:
    """A file made elsewhere (Camunda Modeler) kept as a draft of the process, decision or form it
    defines (the first one, for a file that defines several)."""
    file_name = (file_name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1] or f"upload{SUFFIX.get(kind, '')}"
    if kind not in KINDS or not file_name.endswith(SUFFIX[kind]):
        raise DeploymentRejected([Problem(file_name or "(upload)", "not a .bpmn, .dmn or .form file")])
    if len(data) > upload_limit():
        raise DeploymentRejected([Problem(file_name, f"the file has more than {upload_limit()} bytes; at most "
                                                     f"{upload_limit()} are accepted")])
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DeploymentRejected([Problem(file_name, "the file is not UTF-8 text")]) from None
    problems = _check_content(kind, file_name, content)
    if problems:
        raise DeploymentRejected(problems)
    defined = sorted(key for what, key in deployment.defines(file_name, data)
                     if what == {"bpmn": "process", "dmn": "decision", "form": "form"}[kind])
    if not defined:
        raise DeploymentRejected([Problem(file_name, "the file defines no process, decision or form id")])
    with _committed():
        return _save_draft(user, kind, defined[0], name or file_name, content, file_name)


def delete_draft(user, draft_id: int) -> bool:
    """Delete `user`'s own draft; False if there is none."""
    with _committed():
        return db.session.execute(delete(ProcessDraft).where(ProcessDraft.id == draft_id,
                                                             ProcessDraft.owner_id == user.id)).rowcount > 0


# --------------------------------------------------------------------------- deploying

def _editor_file_name(user, kind, key, draft) -> str:
    """The file an editor's content of `key` stands for: its draft's, else the newest version's."""
    if kind not in KINDS:
        raise DeploymentRejected([Problem(key, "unknown kind of file")])
    newest = newest_source(kind, key)
    return draft.file_name if draft is not None else newest[0] if newest else f"{key}{SUFFIX[kind]}"


def deploy_content(user, kind: str, key: str, content: str, note: str | None = None,
                   draft_id: int | None = None) -> deployment.DeployResult:
    """Deploy an editor's content of `key` as one file, as `lotse deploy <file>` does (with the newest
    deployed versions of everything else), under the name of the user's draft `draft_id` or of the
    newest version. The draft is deleted with it. Raises DeploymentRejected."""
    draft = own_draft(user, draft_id) if draft_id is not None else None
    file_name = _editor_file_name(user, kind, key, draft)
    if note and len(note) > NOTE_MAX:
        raise DeploymentRejected([Problem(file_name, f"the change note has {len(note)} characters; at most {NOTE_MAX}")])
    with _committed():
        problems = _check_content(kind, file_name, content)
        if problems:
            raise DeploymentRejected(problems)
        result = deployment.deploy([(file_name, content.encode("utf-8"))], user=user, note=note)
        if draft is not None:
            db.session.delete(draft)
    return result


def run_scenarios(user, kind: str, key: str, content: str, draft_id: int | None = None) -> list:
    """The process tests (`engine.scenarios`) run against an editor's content laid over the deployed files,
    before it is deployed: the stored scenarios of process `key`, or every stored scenario for a decision
    table or a form (any process may use it). Each runs on a scratch database; nothing here is stored.
    Raises DeploymentRejected (unfit content) or scenarios.ScenarioError (an unreadable scenario file)."""
    draft = own_draft(user, draft_id) if draft_id is not None else None
    file_name = _editor_file_name(user, kind, key, draft)
    problems = _check_content(kind, file_name, content)
    if problems:
        raise DeploymentRejected(problems)
    files = scenarios.with_deployed({file_name: content.encode("utf-8")})
    return scenarios.run_scenarios(files, process_key=key if kind == "bpmn" else None)
