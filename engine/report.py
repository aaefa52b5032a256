"""The funder's report (call of 24.02.2025): what a Welcome Center did in a period, counted by distinct
firm and person (read-only).

What a case decided (nationality, residence path, outcome, firm size, the referrals) is kept on the case
as `case.facts` by every change of it (`case_facts`, called by `engine.cases`), so the report reads
cases, firms and milestones, never a workflow or the event log. A referral is one (firm, topic,
partner), however often it appears; a worker is one (name, nationality), however many cases they have.

Definitions, per period [start, end) in Berlin days and per center:
- *firms advised*: firms with an employer journey active during the period; size class from the firm's
  record (headcount, EU SME classes), else from the first consultation; KMU = micro + small + medium;
- *Kümmerer established / trained*: firms whose journey reached `kuemmerer_named` / `kuemmerer_trained`
  in the period;
- *workers supported*: persons with a worker journey active during the period;
- *referrals*: made (`referred_on`) in the period, per partner type, and how many led to contact;
- *journeys*: ended in the period; *dropped* when cancelled, or ended after the first consultation or
  with the worker's journey stopped; durations from start to end, in days.
"""
from __future__ import annotations

import calendar
import csv
import hashlib
import io
import json
import re
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import (BigInteger, Float, String, case, cast, distinct, func, literal_column, null, or_, select,
                        union_all)

from engine import access, casedata, clock, state
from engine.db import db
from engine.errors import InvalidFields
from engine.models import Case, CaseMilestone, CaseReferral, FormVersion, Organisation, ProcessDefinition
from engine.models.organisation import SIZE_CLASSES, size_class
from engine.pages import field_labels

EMPLOYER_PROCESSES = ("employer_journey",)
WORKER_PROCESSES = ("worker_journey", "worker_journey_by_hire")
SIZE_ORDER = ("micro", "small", "medium", "large", "unknown")
KMU = ("micro", "small", "medium")
DROPPED_MILESTONES = ("closed_after_first_consultation", "worker_journey_stopped")
KUEMMERER_MILESTONES = ("kuemmerer_named", "kuemmerer_trained")
UNKNOWN = "unknown"

# The first consultation's locations (forms/employer_first_consultation.form) as Kreise (engine/kreise.py):
# the city of Aachen belongs to the StädteRegion.
LOCATION_KREIS = {"stadt_aachen": "StädteRegion Aachen", "staedteregion_aachen": "StädteRegion Aachen",
                  "kreis_dueren": "Kreis Düren", "kreis_heinsberg": "Kreis Heinsberg"}
# The case variables the report reads (forms/worker_intake, worker_path_confirm, settling_closure,
# employer_first_consultation; the referrals of employer_referral_item).
FACT_KEYS = ("worker_name", "nationality", "residence_path", "journey_outcome", "firm_size_class", "staff_count",
             "firm_location")
REFERRAL_KEYS = ("topic", "partner", "partner_type", "referred_on", "contact_made")
READ_KEYS = (*FACT_KEYS, "referrals")      # what case_facts reads of the data


# --------------------------------------------------------------------------- kept facts

def case_facts(data: dict) -> dict:
    """What the report reads of a case's current variables (small: kept on the case row)."""
    facts = {key: data[key] for key in FACT_KEYS if data.get(key) not in (None, "")}
    referrals = data.get("referrals")
    if isinstance(referrals, list):
        facts["referrals"] = [{key: item.get(key) for key in REFERRAL_KEYS if item.get(key) is not None}
                              for item in referrals if isinstance(item, dict) and item.get("partner")]
    return facts


def keep_facts(journey: Case, facts: dict, check_referrals: bool = False) -> bool:
    """Keep `facts` (`case_facts`) on the case: the JSON, the typed columns the report counts and its
    referral rows (replaced when the facts changed, or compared first with `check_referrals`). True when
    something changed."""
    changed = False
    if check_referrals:
        rows = _referral_rows(facts)
        if facts != journey.facts or [_referral_values(r) for r in journey.referrals] != list(map(_referral_values, rows)):
            journey.facts, journey.referrals, changed = facts, rows, True
    elif facts != journey.facts:
        # The rows were made from the kept facts' referrals: replace them (which loads the old ones) only when
        # those changed.
        if facts.get("referrals") != (journey.facts or {}).get("referrals"):
            journey.referrals = _referral_rows(facts)
        journey.facts, changed = facts, True
    for column, value in _fact_columns(journey.subject, facts).items():
        if getattr(journey, column) != value:
            setattr(journey, column, value)
            changed = True
    return changed


def _fact_columns(subject: str, facts: dict) -> dict:
    nationality = facts.get("nationality")
    size = _size(None, facts)
    person = f"{_folded(facts.get('worker_name') or subject)}\x1f{_folded(nationality)}"
    return {"report_person_key": int.from_bytes(hashlib.blake2b(person.encode(), digest_size=8).digest(), "big",
                                                signed=True),
            "report_country": str(nationality or "").strip()[:100] or None,
            "report_path": str(facts.get("residence_path") or "")[:64] or None,
            "report_outcome": str(facts.get("journey_outcome") or "")[:64] or None,
            "report_size": None if size == UNKNOWN else size,
            "report_kreis": LOCATION_KREIS.get(facts.get("firm_location"))}


def _referral_rows(facts: dict) -> list[CaseReferral]:
    return [CaseReferral(topic=str(item.get("topic") or "")[:128], partner=str(item["partner"])[:128],
                         partner_type=str(item.get("partner_type") or UNKNOWN)[:64],
                         referred_on=_date(str(item.get("referred_on") or "")[:10]),
                         contact_made=item.get("contact_made") == "yes")
            for item in facts.get("referrals") or []]


def _referral_values(row: CaseReferral) -> tuple:
    return row.topic, row.partner, row.partner_type, row.referred_on, bool(row.contact_made)


def refresh_facts(batch: int = 200) -> int:
    """Keep the facts (`keep_facts`) of every case from its current data (cases stored before they, or some
    of them, were kept); commits every `batch` cases. Returns how many changed."""
    changed, last_id = 0, 0
    while True:
        rows = db.session.scalars(select(Case).where(Case.id > last_id).order_by(Case.id).limit(batch)).all()
        if not rows:
            return changed
        for case_row in rows:
            changed += keep_facts(case_row, case_facts(casedata.current(state.load(case_row))), check_referrals=True)
        last_id = rows[-1].id
        db.session.commit()


# --------------------------------------------------------------------------- the period

@dataclass(frozen=True)
class Period:
    kind: str             # month | quarter | year | range
    start: date
    end: date             # exclusive

    @property
    def label(self) -> str:
        last = self.end - timedelta(days=1)
        if self.kind == "month":
            return f"{self.start:%m/%Y}"
        if self.kind == "quarter":
            return f"Q{(self.start.month - 1) // 3 + 1}/{self.start.year}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start:%d.%m.%Y}–{last:%d.%m.%Y}"

    @property
    def slug(self) -> str:
        return f"{self.start.isoformat()}_{(self.end - timedelta(days=1)).isoformat()}"

    def bounds(self) -> tuple[datetime, datetime]:
        """The period's instants in UTC: from the start of its first Berlin day to the start of the day after."""
        return (datetime.combine(self.start, time.min, clock.BERLIN).astimezone(timezone.utc),
                datetime.combine(self.end, time.min, clock.BERLIN).astimezone(timezone.utc))

    def args(self) -> dict:
        if self.kind == "range":
            return {"period": "range", "from": self.start.isoformat(),
                    "to": (self.end - timedelta(days=1)).isoformat()}
        value = {"month": f"{self.start:%Y-%m}", "quarter": f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}",
                 "year": str(self.start.year)}[self.kind]
        return {"period": self.kind, "value": value}


MAX_RANGE_DAYS = 366 * 10


def parse_period(args, today: date) -> Period:
    """The period a request names: `period` month|quarter|year with `value` (2026-03, 2026-Q1, 2026), or
    `range` with `from` and `to` (dates, both included). Nothing given: the current quarter.
    Raises InvalidFields naming the field that is wrong."""
    kind = (args.get("period") or "quarter").strip()
    value = (args.get("value") or "").strip()
    if kind == "range":
        start, end = _date(args.get("from")), _date(args.get("to"))
        errors = {}
        if start is None:
            errors["from"] = _l("Bitte geben Sie ein Datum an (TT.MM.JJJJ oder JJJJ-MM-TT).")
        if end is None:
            errors["to"] = _l("Bitte geben Sie ein Datum an (TT.MM.JJJJ oder JJJJ-MM-TT).")
        if not errors and end < start:
            errors["to"] = _l("Das Ende liegt vor dem Anfang.")
        if not errors and (end - start).days > MAX_RANGE_DAYS:
            errors["to"] = _l("Ein Zeitraum umfasst höchstens zehn Jahre.")
        if errors:
            raise InvalidFields(errors)
        return Period("range", start, end + timedelta(days=1))
    if kind == "month":
        found = re.fullmatch(r"(\d{4})-(\d{1,2})", value or f"{today:%Y-%m}")
        if found and 1 <= int(found[2]) <= 12 and 1900 < int(found[1]) < 3000:
            year, month = int(found[1]), int(found[2])
            return Period("month", date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
                          + timedelta(days=1))
        raise InvalidFields({"value": _l("Ein Monat wie 2026-03.")})
    if kind == "quarter":
        found = re.fullmatch(r"(\d{4})-Q([1-4])", value.upper() or f"{today.year}-Q{(today.month - 1) // 3 + 1}")
        if found and 1900 < int(found[1]) < 3000:
            year, quarter = int(found[1]), int(found[2])
            start = date(year, 3 * quarter - 2, 1)
            end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
            return Period("quarter", start, end)
        raise InvalidFields({"value": _l("Ein Quartal wie 2026-Q1.")})
    if kind == "year":
        found = re.fullmatch(r"\d{4}", value or str(today.year))
        if found and 1900 < int(value or today.year) < 3000:
            year = int(value or today.year)
            return Period("year", date(year, 1, 1), date(year + 1, 1, 1))
        raise InvalidFields({"value": _l("Ein Jahr wie 2026.")})
    raise InvalidFields({"period": _l("Monat, Quartal, Jahr oder freier Zeitraum.")})


def _date(text) -> date | None:
    text = (text or "").strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


# --------------------------------------------------------------------------- the report

@dataclass
class Journeys:
    completed: int = 0
    dropped: int = 0
    completed_median_days: float | None = None
    dropped_median_days: float | None = None


@dataclass
class FunderReport:
    center: str
    period: Period
    firms: int = 0
    firms_by_size: dict = field(default_factory=dict)       # size class -> firms (SIZE_ORDER)
    firms_by_kreis: dict = field(default_factory=dict)
    kuemmerer_named: int = 0
    kuemmerer_trained: int = 0
    workers: int = 0
    workers_by_country: dict = field(default_factory=dict)
    workers_by_path: dict = field(default_factory=dict)
    workers_by_outcome: dict = field(default_factory=dict)
    referrals: int = 0
    referrals_with_contact: int = 0
    referrals_by_partner: dict = field(default_factory=dict)    # partner type -> (made, contact made)
    journeys: dict = field(default_factory=dict)                # "employer" | "worker" -> Journeys
    path_labels: dict = field(default_factory=dict)             # residence path -> its label in the form

    @property
    def kmu(self) -> int:
        return sum(self.firms_by_size.get(name, 0) for name in KMU)

    @property
    def kmu_share(self) -> float | None:
        """Per cent of the firms whose size is known."""
        known = self.firms - self.firms_by_size.get(UNKNOWN, 0)
        return round(100 * self.kmu / known, 1) if known else None

    def rows(self) -> list[tuple[str, str, object]]:
        """(section, item, figure): the one table the page, the CSV and the XLSX show."""
        out = [("firms", "total", self.firms), ("firms", "kmu", self.kmu), ("firms", "kmu_share_percent", self.kmu_share)]
        out += [("firms_by_size", name, self.firms_by_size.get(name, 0)) for name in SIZE_ORDER]
        out += [("firms_by_kreis", k, n) for k, n in _sorted(self.firms_by_kreis)]
        out += [("kuemmerer", "named", self.kuemmerer_named), ("kuemmerer", "trained", self.kuemmerer_trained)]
        out += [("workers", "total", self.workers)]
        out += [("workers_by_country", k, n) for k, n in _sorted(self.workers_by_country)]
        out += [("workers_by_path", k, n) for k, n in _sorted(self.workers_by_path)]
        out += [("workers_by_outcome", k, n) for k, n in _sorted(self.workers_by_outcome)]
        out += [("referrals", "made", self.referrals), ("referrals", "contact_made", self.referrals_with_contact)]
        for partner, (made, contact) in sorted(self.referrals_by_partner.items()):
            out += [("referrals_made_by_partner_type", partner, made),
                    ("referrals_contact_by_partner_type", partner, contact)]
        for family in ("employer", "worker"):
            j = self.journeys.get(family, Journeys())
            out += [(f"{family}_journeys", "completed", j.completed),
                    (f"{family}_journeys", "completed_median_days", j.completed_median_days),
                    (f"{family}_journeys", "dropped", j.dropped),
                    (f"{family}_journeys", "dropped_median_days", j.dropped_median_days)]
        return out


def _sorted(counts: dict):
    return sorted(counts.items(), key=lambda item: (item[0] == UNKNOWN, -item[1], str(item[0])))


def may_read_report(user) -> bool:
    return access.may_oversee(user)


def funder_report(user, period: Period) -> FunderReport | None:
    """The report of the user's own center for `period`; None for a user who may not read it.

    Counted in the database from the kept typed facts (`keep_facts`). A firm or a person with several
    journeys active in the period counts once, with the facts of its newest journey (latest start); a
    referral (firm, topic, partner) once, with its partner's type (the form's, the same in every mention; the
    greatest should they differ), contact made when any mention says so.

    One statement, a UNION ALL of the sections (`_sections`); each reads the center's journeys of a family
    active in the period from `ix_case_report_journeys`, which holds every column they count (index-only on
    PostgreSQL: the case rows themselves are not read)."""
    if not may_read_report(user):
        return None
    center = db.session.get(Organisation, user.organisation_id)
    report = FunderReport(center=center.name, period=period, path_labels=_path_labels())
    postgres = db.session.get_bind().dialect.name == "postgresql"
    definitions = {family: [] for family in ("employer", "worker")}
    for definition_id, key in db.session.execute(select(ProcessDefinition.id, ProcessDefinition.key)
                                                 .where(ProcessDefinition.key.in_(EMPLOYER_PROCESSES + WORKER_PROCESSES))):
        definitions["employer" if key in EMPLOYER_PROCESSES else "worker"].append(definition_id)
    journeys = _PeriodJourneys(center.id, period, definitions)
    ended = {}
    # planned with its values each time: one plan cannot suit both a month's few rows and a year's many
    for section, a, b, c, count, contacted, median in db.session.connection().execute(
            union_all(*_sections(journeys, postgres)).execution_options(plan_each_time=True)):
        if section == "firms":
            report.firms += count
            report.firms_by_size[a] = report.firms_by_size.get(a, 0) + count
            report.firms_by_kreis[b] = report.firms_by_kreis.get(b, 0) + count
        elif section == "workers":
            report.workers += count
            for counts, value in ((report.workers_by_country, a), (report.workers_by_path, b),
                                  (report.workers_by_outcome, c)):
                counts[value] = counts.get(value, 0) + count
        elif section == "kuemmerer":
            setattr(report, a, count)            # the milestone's key names its figure (KUEMMERER_MILESTONES)
        elif section == "referrals":
            report.referrals_by_partner[a] = (count, int(contacted))
            report.referrals += count
            report.referrals_with_contact += int(contacted)
        else:
            ended[(a, b)] = (count, None if median is None else round(float(median), 1))
    if not postgres:
        ended = _ended_in_python(journeys)
    for family in ("employer", "worker"):
        (done, done_days), (dropped, dropped_days) = (ended.get((family, kind), (0, None))
                                                      for kind in ("completed", "dropped"))
        report.journeys[family] = Journeys(completed=done, dropped=dropped, completed_median_days=done_days,
                                           dropped_median_days=dropped_days)
    return report


@dataclass
class _PeriodJourneys:
    """A center's journeys active in a period, per family (the ids of its process definitions)."""
    center_id: int
    period: Period
    definitions: dict

    def select(self, *columns, families=("employer", "worker")):
        start, end = self.period.bounds()
        return select(*columns).select_from(Case).where(
            Case.center_id == self.center_id,
            Case.definition_id.in_([i for family in families for i in self.definitions[family]]),
            Case.started_at < end, or_(Case.ended_at.is_(None), Case.ended_at >= start))

    def ended(self, *columns):
        start, end = self.period.bounds()
        return self.select(*columns).where(Case.ended_at >= start, Case.ended_at < end)

    def family_and_kind(self):
        """A journey's family and whether it completed or was dropped (cancelled, or a dropping milestone)."""
        dropped = or_(Case.status == "cancelled", Case.id.in_(_reached(DROPPED_MILESTONES)))
        return (case((Case.definition_id.in_(self.definitions["employer"]), "employer"), else_="worker"),
                case((dropped, "dropped"), else_="completed"))


def _sections(journeys: _PeriodJourneys, postgres: bool) -> list:
    """The report's sections as selects of one shape (section, three keys, count, contacted, median); on
    PostgreSQL with the ended journeys' medians and each firm's and person's newest journey by DISTINCT ON."""
    medians = distinct_on = postgres
    start, end = journeys.period.bounds()
    newest_first = (Case.started_at.desc(), Case.id.desc())
    firm = case((Case.employer_id.is_(None), -Case.id), else_=Case.employer_id)      # a firm without record: its case
    no_key, no_count, no_median = cast(null(), String), cast(null(), BigInteger), cast(null(), Float)  # UNION types

    firms = _newest(journeys.select(Case.employer_id, Case.report_size, Case.report_kreis, families=("employer",)),
                    firm, newest_first, distinct_on)
    size = case((Organisation.employees.is_(None), func.coalesce(firms.c.report_size, UNKNOWN)),
                *((Organisation.employees < below, name) for name, below in SIZE_CLASSES), else_="large")
    kreis = func.coalesce(func.nullif(Organisation.kreis, ""), firms.c.report_kreis, UNKNOWN)
    by_firm = select(literal_column("'firms'"), size, kreis, no_key, func.count(), no_count, no_median) \
        .select_from(firms).outerjoin(Organisation, Organisation.id == firms.c.employer_id).group_by(size, kreis)

    persons = _newest(journeys.select(Case.id, Case.status, Case.report_country, Case.report_path,
                                      Case.report_outcome, families=("worker",)),
                      Case.report_person_key, newest_first, distinct_on)
    stopped = persons.c.id.in_(_reached(("worker_journey_stopped",)))
    outcome = func.coalesce(persons.c.report_outcome, case((or_(persons.c.status == "cancelled", stopped), "stopped"),
                                                           (persons.c.status == "active", "open"), else_="completed"))
    country, path = (func.coalesce(column, UNKNOWN) for column in (persons.c.report_country, persons.c.report_path))
    by_person = select(literal_column("'workers'"), country, path, outcome, func.count(), no_count, no_median) \
        .group_by(country, path, outcome)

    by_milestone = journeys.select(literal_column("'kuemmerer'"), CaseMilestone.key, no_key, no_key,
                                   func.count(distinct(firm)), no_count, no_median, families=("employer",)) \
        .join(CaseMilestone, CaseMilestone.case_id == Case.id) \
        .where(CaseMilestone.key.in_(KUEMMERER_MILESTONES), CaseMilestone.reached_at >= start,
               CaseMilestone.reached_at < end).group_by(CaseMilestone.key)

    mentions = journeys.select(func.max(CaseReferral.partner_type).label("partner_type"),
                               func.max(case((CaseReferral.contact_made, 1), else_=0)).label("contact"),
                               families=("employer",)) \
        .join(CaseReferral, CaseReferral.case_id == Case.id) \
        .where(CaseReferral.referred_on >= journeys.period.start, CaseReferral.referred_on < journeys.period.end) \
        .group_by(firm, CaseReferral.topic, CaseReferral.partner).subquery()
    by_partner = select(literal_column("'referrals'"), mentions.c.partner_type, no_key, no_key, func.count(),
                        func.sum(mentions.c.contact), no_median).group_by(mentions.c.partner_type)
    sections = [by_firm, by_person, by_milestone, by_partner]
    if medians:
        family, kind = journeys.family_and_kind()
        days = func.percentile_cont(0.5).within_group(cast(func.extract("epoch", Case.ended_at - Case.started_at),
                                                           Float) / 86400)
        sections.append(journeys.ended(literal_column("'ended'"), family, kind, no_key, func.count(), no_count, days)
                        .group_by(family, kind))
    return sections


def _newest(journeys, key, newest_first, distinct_on: bool):
    """The newest of `journeys` (a select) per `key`. PostgreSQL's DISTINCT ON is a sort and a pass; the
    row_number() it replaces was estimated to leave few rows, so the counts that follow were sorted, not hashed."""
    if distinct_on:
        return journeys.distinct(key).order_by(key, *newest_first).subquery()
    numbered = journeys.add_columns(func.row_number().over(partition_by=key, order_by=newest_first).label("n")) \
        .subquery()
    return select(*(column for column in numbered.c if column.name != "n")).where(numbered.c.n == 1).subquery()


def _reached(keys):
    """The cases that reached one of the milestones `keys` (an uncorrelated IN: hashed once, not probed per row)."""
    return select(CaseMilestone.case_id).where(CaseMilestone.key.in_(keys))


def _ended_in_python(journeys: _PeriodJourneys) -> dict:
    """Per (family, completed | dropped), the journeys ended in the period and their median days: SQLite (the
    small embedded mode) has no percentile_cont."""
    values = {}
    for family, kind, started_at, ended_at in db.session.connection().execute(
            journeys.ended(*journeys.family_and_kind(), Case.started_at, Case.ended_at)):
        values.setdefault((family, kind), []).append((ended_at - started_at).total_seconds() / 86400)
    return {key: (len(days), _median(days)) for key, days in values.items()}


def _path_labels() -> dict:
    """The residence paths' labels, as the newest path form offers them (German: the page translates)."""
    newest = db.session.scalar(select(FormVersion.id).where(FormVersion.key == "worker_path_confirm")
                               .order_by(FormVersion.version.desc()).limit(1))
    options = field_labels([newest]).get("residence_path", {}).get("options", {})
    return {json.loads(value): label for value, label in options.items()}


def _size(employees, facts) -> str:
    if employees is not None:
        return size_class(employees)
    if isinstance(facts.get("staff_count"), int) and not isinstance(facts.get("staff_count"), bool):
        return size_class(facts["staff_count"])
    return facts.get("firm_size_class") if facts.get("firm_size_class") in SIZE_ORDER else UNKNOWN


def _folded(text) -> str:
    return " ".join(str(text or "").split()).casefold()


def _median(values) -> float | None:
    return round(statistics.median(values), 1) if values else None


# --------------------------------------------------------------------------- downloads

def as_csv(report: FunderReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["center", "period", "section", "item", "figure"])
    for section, item, figure in report.rows():
        writer.writerow([report.center, report.period.label, section, item, "" if figure is None else figure])
    return out.getvalue()


def as_xlsx(report: FunderReport) -> bytes:
    """The same table as the CSV, as one worksheet (openpyxl, in memory)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    book = Workbook()
    sheet = book.active
    sheet.title = "Bericht"
    sheet.append(["center", "period", "section", "item", "figure"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for section, item, figure in report.rows():
        sheet.append([report.center, report.period.label, section, str(item), figure])
    for column, width in (("A", 30), ("C", 34), ("D", 34)):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
