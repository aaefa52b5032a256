"""The case list ("Fälle"): every case of the user's Welcome Center, searchable, sorted, in pages.

Read-only, like `engine.inbox`, and built the same way: the page is one statement (LIMIT per_page + 1, the
first page without OFFSET) read from an index in the list's order, its count is capped at 1,000, and the
filter's choices (processes, firms, colleagues) are one statement each, so a page costs the same few
statements whatever the number of cases. It never loads a workflow.

Indexes (engine/models/case.py): the center's cases by status then last activity or id, the same without
status (the "all" filter), a responsible advisor's cases by status and activity, the cases in error by
activity (partial), and trigram indexes for the search on PostgreSQL. "Angelegt" sorts by id: a case's id
(the number in its reference) is given when it starts.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Integer, bindparam, func, or_, select

from engine import access, clock
from engine.db import db
from engine.inbox import COUNT_CAP, _REFERENCE, _escape_like, _inline, process_choices
from engine.models import Case, Organisation, ProcessDefinition, User
from engine.models.statuses import CaseStatus, OrganisationKind

PER_PAGE = 50
STATUSES = (*CaseStatus, "all")
SORTS = ("-updated", "updated", "-started", "started")
MAX_IDLE_DAYS = 3650

_case = Case.__table__
_definition = ProcessDefinition.__table__
_org = Organisation.__table__
_user = User.__table__


@dataclass(frozen=True)
class CaseQuery:
    """The list's filters, sort and page, as read from (and written back to) the URL."""
    q: str = ""                  # a part of the reference or the name (subject), or a complete reference
    firm: int | None = None      # employer organisation id
    process: str = ""            # process key
    status: str = CaseStatus.ACTIVE
    responsible: int | None = None
    incident: bool = False       # only cases in error
    idle: int | None = None      # no activity for at least this many days
    sort: str = "-updated"
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_args(cls, args) -> "CaseQuery":
        def text(name, limit=100):
            return (args.get(name) or "").strip()[:limit]

        def number(name, low=1, high=2**31 - 1):
            try:
                value = int(text(name, 12))
            except ValueError:
                return None
            return value if low <= value <= high else None
        status, sort = text("status"), text("sort")
        return cls(q=text("q"), firm=number("firm"), process=text("process", 128),
                   status=status if status in STATUSES else CaseStatus.ACTIVE, responsible=number("responsible"),
                   incident=text("incident") in ("1", "on", "true"), idle=number("idle", 1, MAX_IDLE_DAYS),
                   sort=sort if sort in SORTS else "-updated", page=number("page", 1, 10_000) or 1)

    def args(self, **changes) -> dict:
        """URL arguments for this query with `changes` applied, defaults left out."""
        query = replace(self, **changes)
        out = {}
        for name, default in (("q", ""), ("firm", None), ("process", ""), ("status", CaseStatus.ACTIVE),
                              ("responsible", None), ("idle", None), ("sort", "-updated"), ("page", 1)):
            value = getattr(query, name)
            if value != default:
                out[name] = value
        if query.incident:
            out["incident"] = 1
        return out

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.firm or self.process or self.status != CaseStatus.ACTIVE or self.responsible
                    or self.incident or self.idle)


@dataclass
class CaseRow:
    id: int
    reference: str
    subject: str
    status: str
    has_incident: bool
    started_at: datetime
    updated_at: datetime
    process_key: str
    process_name: str
    firm: str | None
    responsible_id: int | None
    responsible_name: str | None


@dataclass
class CasePage:
    query: CaseQuery
    rows: list[CaseRow]
    total: int                      # capped at COUNT_CAP
    has_next: bool
    now: datetime
    processes: list                 # (key, name)
    firms: list                     # (id, name)
    team: list                      # (id, display name)

    @property
    def has_previous(self) -> bool:
        return self.query.page > 1

    @property
    def last_page(self) -> int | None:
        if self.total >= COUNT_CAP:
            return None
        return max(1, -(-self.total // self.query.per_page))


class _Shape(NamedTuple):
    """What of the query changes the statement's text (its values are parameters)."""
    status: str
    sort: str
    q: bool
    reference: bool
    firm: bool
    process: bool
    responsible: bool
    incident: bool
    idle: bool
    first: bool

    @classmethod
    def of(cls, query: CaseQuery) -> "_Shape":
        reference = bool(_REFERENCE.fullmatch(query.q))
        return cls(query.status, query.sort, bool(query.q) and not reference, reference, query.firm is not None,
                   bool(query.process), query.responsible is not None, query.incident, query.idle is not None,
                   query.page == 1)


def _conditions(shape: _Shape) -> list:
    c = _case.c
    conds = [c.center_id == bindparam("org", literal_execute=True)]
    if shape.status != "all":
        conds.append(c.status == bindparam("status", literal_execute=True))
    if shape.q:
        conds.append(or_(c.reference.ilike(bindparam("q_pattern"), escape="\\"),
                         c.subject.ilike(bindparam("q_pattern"), escape="\\")))
    if shape.reference:
        conds.append(c.reference == bindparam("reference"))
    if shape.firm:
        conds.append(c.employer_id == bindparam("firm"))
    if shape.process:
        conds.append(c.definition_id.in_(select(_definition.c.id).where(_definition.c.key == bindparam("process"))))
    if shape.responsible:
        conds.append(c.responsible_id == bindparam("responsible"))
    if shape.incident:
        conds.append(c.has_incident.is_(True))
    if shape.idle:
        conds.append(c.updated_at < bindparam("quiet_since"))
    return conds


def _order(sort: str):
    c = _case.c
    return {"-updated": [c.updated_at.desc(), c.id.desc()], "updated": [c.updated_at, c.id],
            "-started": [c.id.desc()], "started": [c.id]}[sort]


@lru_cache(maxsize=256)
def _statements(shape: _Shape, per_page: int):
    conds = _conditions(shape)
    c = _case.c
    page = (select(c.id, c.reference, c.subject, c.status, c.has_incident, c.started_at, c.updated_at,
                   _definition.c.key, _definition.c.name, _org.c.name.label("firm"), c.responsible_id,
                   _user.c.display_name)
            .select_from(_case.join(_definition, _definition.c.id == c.definition_id)
                         .outerjoin(_org, _org.c.id == c.employer_id)
                         .outerjoin(_user, _user.c.id == c.responsible_id))
            .where(*conds).order_by(*_order(shape.sort)).limit(_inline(per_page + 1)))
    if not shape.first:
        page = page.offset(bindparam("offset", type_=Integer, literal_execute=True))
    capped = select(c.id).where(*conds).limit(_inline(COUNT_CAP)).subquery()
    count = select(func.count()).select_from(capped)
    if shape.q:          # a rare name is best found by its trigrams, a common one in the page's order
        page = page.execution_options(plan_each_time=True)
        count = count.execution_options(plan_each_time=True)
    return page, count


def _values(user, query: CaseQuery, shape: _Shape, now: datetime) -> dict:
    values = {"org": user.organisation_id, "offset": (query.page - 1) * query.per_page}
    if shape.status != "all":
        values["status"] = query.status
    if shape.q:
        values["q_pattern"] = f"%{_escape_like(query.q)}%"
    if shape.reference:
        values["reference"] = query.q.upper()
    if shape.firm:
        values["firm"] = query.firm
    if shape.process:
        values["process"] = query.process
    if shape.responsible:
        values["responsible"] = query.responsible
    if shape.idle:
        values["quiet_since"] = now - timedelta(days=query.idle)
    return values


def case_page(user, query: CaseQuery, now: datetime | None = None) -> CasePage:
    """One page of the center's cases matching `query`, its capped count and the filter's choices."""
    now = now or clock.now()
    connection = db.session.connection()
    if not access.may_list_cases(user):
        return CasePage(query, [], 0, False, now, [], [], [])
    shape = _Shape.of(query)
    page_stmt, count_stmt = _statements(shape, query.per_page)
    values = _values(user, query, shape, now)
    rows = [CaseRow(*r) for r in connection.execute(page_stmt, values)]
    total = min(connection.execute(count_stmt, values).scalar_one(), COUNT_CAP)
    firms = connection.execute(select(_org.c.id, _org.c.name)
                               .where(_org.c.kind == OrganisationKind.EMPLOYER,
                                      _org.c.center_id == user.organisation_id)
                               .order_by(_org.c.name)).all()
    team = connection.execute(select(_user.c.id, _user.c.display_name)
                              .where(_user.c.organisation_id == user.organisation_id, _user.c.active.is_(True))
                              .order_by(_user.c.display_name)).all()
    return CasePage(query=query, rows=rows[:query.per_page], total=total, has_next=len(rows) > query.per_page,
                    now=now, processes=process_choices(), firms=[tuple(f) for f in firms],
                    team=[tuple(t) for t in team])
