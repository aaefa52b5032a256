"""CSV import of firms and people for scripted setup (`lotse import-firms`, `lotse import-users`).

All or nothing: every line is checked (by the same operations the admin pages use), every bad line
is reported by its line number (the header is line 1), and nothing is stored unless all are good.
A dry run checks and stores nothing either way.
"""
import csv
import io

from sqlalchemy import func, select

from engine import organisations, people
from engine.db import db
from engine.errors import InvalidFields, LotseError
from engine.models import Organisation
from engine.models.statuses import OrganisationKind

FIRM_COLUMNS = ("name", "legal_form", "street", "postcode", "city", "kreis", "sector", "employees", "email", "phone")
USER_COLUMNS = ("username", "display_name", "email", "firm", "groups", "language")
REQUIRED = {"firms": ("name",), "users": ("username", "display_name")}


class ImportRejected(LotseError):
    """`problems`: (line, field or None, message) triples; messages may be lazy (translated when shown)."""

    def __init__(self, problems: list[tuple], bad_lines: int = 1):
        self.problems = problems
        super().__init__(f"{bad_lines} bad line(s); nothing was imported")


def _rows(text: str, allowed: tuple, required: tuple):
    """(line number, row) pairs; ImportRejected at once when the header is wrong."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";" if _semicolons(text) else ",")
    header = [name.strip() for name in reader.fieldnames or []]
    unknown = [name for name in header if name not in allowed]
    missing = [name for name in required if name not in header]
    problems = [(1, name, f"unknown column (allowed: {', '.join(allowed)})") for name in unknown]
    problems += [(1, name, "column is missing") for name in missing]
    if problems:
        raise ImportRejected(problems)
    reader.fieldnames = header
    for row in reader:
        if None in row:         # more cells than columns
            yield reader.line_num, None
            continue
        yield reader.line_num, {key: (value or "").strip() for key, value in row.items()}


def _semicolons(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return first.count(";") > first.count(",")


def _run(rows, create, dry_run: bool) -> int:
    problems, count, bad_lines = [], 0, 0
    for line, row in rows:
        if row is None:
            problems.append((line, None, "more cells than columns"))
            bad_lines += 1
            continue
        try:
            create(row)         # checks the whole line before it adds anything
            count += 1
        except InvalidFields as exc:
            problems += [(line, field, message) for field, message in exc.errors.items()]
            bad_lines += 1
    if problems or dry_run:
        db.session.rollback()
    if problems:
        raise ImportRejected(problems, bad_lines)
    return count


def import_firms(text: str, center: Organisation, actor=None, dry_run=False) -> int:
    """Create a firm served by `center` per line; the caller commits. Returns the number of firms."""
    rows = _rows(text, FIRM_COLUMNS, REQUIRED["firms"])
    return _run(rows, lambda row: organisations.create_firm(row, center, actor), dry_run)


def import_users(text: str, center: Organisation, actor=None, dry_run=False, invite=True) -> int:
    """Create a person per line, at `center` or (column `firm`) at a firm it serves, by name; the
    caller commits. Returns the number of people."""
    firms = {name.lower(): firm_id for firm_id, name in db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.center_id == center.id,
                                                         Organisation.kind == OrganisationKind.EMPLOYER))}
    orgs = {center.id: center}

    def create(row):
        firm = row.pop("firm", "")
        if firm and firm.lower() not in firms:
            raise InvalidFields({"firm": f"no firm {firm!r} at {center.name}"})
        org_id = firms[firm.lower()] if firm else center.id
        if org_id not in orgs:
            orgs[org_id] = db.session.get(Organisation, org_id)
        people.create_person({**row, "organisation_id": str(org_id)}, orgs, actor, invite=invite)

    rows = _rows(text, USER_COLUMNS, REQUIRED["users"])
    return _run(rows, create, dry_run)


def count_firms(center: Organisation) -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation).where(
        Organisation.center_id == center.id, Organisation.kind == OrganisationKind.EMPLOYER)) or 0
