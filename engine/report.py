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
import io
import json
import re
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from engine import access, casedata, clock, state
from engine.db import db
from engine.errors import InvalidFields
from engine.models import Case, CaseMilestone, FormVersion, Organisation, ProcessDefinition
from engine.models.organisation import size_class
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


# --------------------------------------------------------------------------- kept facts

def case_facts(data: dict) -> dict:
    """What the report reads of a case's current variables (small: kept on the case row)."""
    facts = {key: data[key] for key in FACT_KEYS if data.get(key) not in (None, "")}
    referrals = data.get("referrals")
    if isinstance(referrals, list):
        facts["referrals"] = [{key: item.get(key) for key in REFERRAL_KEYS if item.get(key) is not None}
                              for item in referrals if isinstance(item, dict) and item.get("partner")]
    return facts


def refresh_facts(batch: int = 200) -> int:
    """Set `case.facts` of every case from its current data (cases stored before facts were kept); commits
    every `batch` cases. Returns how many changed."""
    changed, last_id = 0, 0
    while True:
        rows = db.session.scalars(select(Case).where(Case.id > last_id).order_by(Case.id).limit(batch)).all()
        if not rows:
            return changed
        for case in rows:
            facts = case_facts(casedata.current(state.load(case)))
            if facts != case.facts:
                case.facts, changed = facts, changed + 1
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
    """The report of the user's own center for `period`; None for a user who may not read it."""
    if not may_read_report(user):
        return None
    center = db.session.get(Organisation, user.organisation_id)
    start, end = period.bounds()
    report = FunderReport(center=center.name, period=period, path_labels=_path_labels())
    family_of = {key: "employer" for key in EMPLOYER_PROCESSES} | {key: "worker" for key in WORKER_PROCESSES}
    in_period = (Case.center_id == center.id, Case.started_at < end,
                 (Case.ended_at.is_(None)) | (Case.ended_at >= start))
    in_scope = (select(Case.id, Case.employer_id, Case.subject, Case.status, Case.started_at, Case.ended_at,
                       Case.facts, ProcessDefinition.key, Organisation.employees, Organisation.kreis)
                .join(ProcessDefinition, ProcessDefinition.id == Case.definition_id)
                .outerjoin(Organisation, Organisation.id == Case.employer_id)
                .where(*in_period, ProcessDefinition.key.in_(list(family_of))))
    connection = db.session.connection()        # Core rows: the report reads many, and only these columns
    rows = connection.execute(in_scope).all()
    milestones: dict[int, dict[str, datetime]] = {}
    scope_ids = in_scope.with_only_columns(Case.id).scalar_subquery()
    for case_id, key, reached_at in connection.execute(
            select(CaseMilestone.case_id, CaseMilestone.key, CaseMilestone.reached_at)
            .where(CaseMilestone.key.in_(DROPPED_MILESTONES + KUEMMERER_MILESTONES),
                   CaseMilestone.case_id.in_(scope_ids))):
        milestones.setdefault(case_id, {}).setdefault(key, reached_at)

    firms, kuemmerer, workers, referrals = {}, {m: set() for m in KUEMMERER_MILESTONES}, {}, {}
    durations = {(family, kind): [] for family in ("employer", "worker") for kind in ("completed", "dropped")}
    first, after = period.start.isoformat(), period.end.isoformat()
    for row in rows:
        facts, family, reached = row.facts or {}, family_of[row.key], milestones.get(row.id, {})
        if family == "employer":
            firm = row.employer_id or f"case:{row.id}"
            firms[firm] = (_size(row.employees, facts), row.kreis or LOCATION_KREIS.get(facts.get("firm_location"))
                           or UNKNOWN)
            for key in KUEMMERER_MILESTONES:
                if key in reached and start <= reached[key] < end:
                    kuemmerer[key].add(firm)
            for item in facts.get("referrals") or []:
                made_on = str(item.get("referred_on") or "")[:10]
                if first <= made_on < after:
                    known = referrals.setdefault((firm, item.get("topic"), item.get("partner")),
                                                 [item.get("partner_type") or UNKNOWN, False])
                    known[1] = known[1] or item.get("contact_made") == "yes"
        else:
            person = (_folded(facts.get("worker_name") or row.subject), _folded(facts.get("nationality")))
            dropped_here = row.status == "cancelled" or "worker_journey_stopped" in reached
            outcome = facts.get("journey_outcome") or ("stopped" if dropped_here else
                                                       "open" if row.status == "active" else "completed")
            workers[person] = ((facts.get("nationality") or "").strip() or UNKNOWN,
                               facts.get("residence_path") or UNKNOWN, outcome)
        if row.ended_at is not None and start <= row.ended_at < end:
            dropped = row.status == "cancelled" or any(key in reached for key in DROPPED_MILESTONES)
            days = (row.ended_at - row.started_at).total_seconds() / 86400
            durations[(family, "dropped" if dropped else "completed")].append(days)

    report.firms = len(firms)
    for size, kreis in firms.values():
        report.firms_by_size[size] = report.firms_by_size.get(size, 0) + 1
        report.firms_by_kreis[kreis] = report.firms_by_kreis.get(kreis, 0) + 1
    report.kuemmerer_named, report.kuemmerer_trained = (len(kuemmerer[key]) for key in KUEMMERER_MILESTONES)
    report.workers = len(workers)
    for country, path, outcome in workers.values():
        for counts, value in ((report.workers_by_country, country), (report.workers_by_path, path),
                              (report.workers_by_outcome, outcome)):
            counts[value] = counts.get(value, 0) + 1
    for partner_type, contact in referrals.values():
        made, contacted = report.referrals_by_partner.get(partner_type, (0, 0))
        report.referrals_by_partner[partner_type] = (made + 1, contacted + int(contact))
    report.referrals = len(referrals)
    report.referrals_with_contact = sum(1 for _, contact in referrals.values() if contact)
    for family in ("employer", "worker"):
        done, dropped = durations[(family, "completed")], durations[(family, "dropped")]
        report.journeys[family] = Journeys(completed=len(done), dropped=len(dropped),
                                           completed_median_days=_median(done), dropped_median_days=_median(dropped))
    return report


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
