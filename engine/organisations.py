"""Welcome Centers and the employer firms they serve: create, edit, search, merge.

Every operation is callable without a request (web/admin, the CLI, the CSV import), checks its
input completely before changing anything (InvalidFields names each wrong field), and writes an
audit entry with the change. The caller commits.
"""
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from engine import audit, kreise
from engine.db import db
from engine.errors import InvalidFields
from engine.models import Case, HumanTask, Organisation, User
from engine.models.statuses import OrganisationKind

PAGE_SIZE = 25
CODE = re.compile(r"^[A-Z]{1,6}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTACT_FIELDS = ("street", "postcode", "city", "email", "phone")
FIRM_FIELDS = ("name", "legal_form", "kreis", "sector", "employees", *CONTACT_FIELDS)
CENTER_FIELDS = ("name", "code", "areas", *CONTACT_FIELDS)
LIMITS = {"name": 200, "legal_form": 50, "sector": 100, "street": 200, "postcode": 10, "city": 100,
          "email": 254, "phone": 50}


def _text(data: dict, field: str) -> str | None:
    value = data.get(field)
    value = "" if value is None else str(value).strip()
    return value or None


def _contact(data: dict, errors: dict) -> dict:
    values = {field: _text(data, field) for field in CONTACT_FIELDS}
    if values["email"] and not EMAIL.match(values["email"]):
        errors["email"] = _l("„%(value)s“ ist keine E-Mail-Adresse.", value=values["email"])
    return values


def _check_lengths(values: dict, errors: dict) -> None:
    for field, limit in LIMITS.items():
        if isinstance(values.get(field), str) and len(values[field]) > limit and field not in errors:
            errors[field] = _l("Höchstens %(count)s Zeichen.", count=limit)


def center_values(data: dict, center: Organisation | None = None) -> dict:
    """The checked values of a center from form data (`areas`: a list of names, or one text with
    names separated by ';'); InvalidFields if any is wrong."""
    errors = {}
    values = {"name": _text(data, "name"), "code": (_text(data, "code") or "").upper() or None}
    if not values["name"]:
        errors["name"] = _l("Bitte geben Sie einen Namen an.")
    if not values["code"] or not CODE.match(values["code"]):
        errors["code"] = _l("Das Kürzel besteht aus 1 bis 6 Buchstaben (z. B. AC).")
    else:
        taken = db.session.scalar(select(Organisation.id).where(Organisation.code == values["code"]))
        if taken is not None and taken != getattr(center, "id", None):
            errors["code"] = _l("Das Kürzel %(code)s hat schon ein anderes Welcome Center.", code=values["code"])
    raw = data.get("areas") or []
    names = [part.strip() for part in raw.split(";")] if isinstance(raw, str) else list(raw)
    areas, unknown = [], []
    for name in filter(None, names):
        found = kreise.canonical(name)
        (areas if found else unknown).append(found or name)
    if unknown:
        errors["areas"] = _l("Kein Kreis und keine kreisfreie Stadt in NRW: %(names)s", names=", ".join(unknown))
    values["areas"] = sorted(set(areas), key=kreise.ALL.index)
    values.update(_contact(data, errors))
    _check_lengths(values, errors)
    if errors:
        raise InvalidFields(errors)
    return values


def create_center(data: dict, actor=None) -> Organisation:
    values = center_values(data)
    center = Organisation(kind=OrganisationKind.CENTER, **values)
    db.session.add(center)
    audit.record(actor, center, "created", {k: {"old": None, "new": v} for k, v in values.items() if v})
    return center


def update_center(center: Organisation, data: dict, actor=None) -> dict:
    changes = audit.apply(center, center_values(data, center))
    if changes:
        audit.record(actor, center, "updated", changes)
    return changes


def centers() -> list[Organisation]:
    return db.session.scalars(select(Organisation).where(Organisation.kind == OrganisationKind.CENTER)
                              .order_by(Organisation.name)).all()


def center_by_code(code: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.kind == OrganisationKind.CENTER,
                                                        Organisation.code == (code or "").strip().upper()))


# --- firms ---------------------------------------------------------------------------------------

def firm_values(data: dict, center: Organisation | None, firm: Organisation | None = None) -> dict:
    """The checked values of a firm served by `center` (required); InvalidFields if any is wrong."""
    errors = {}
    values = {"name": _text(data, "name"), "legal_form": _text(data, "legal_form"),
              "sector": _text(data, "sector")}
    if not values["name"]:
        errors["name"] = _l("Bitte geben Sie einen Namen an.")
    if center is None or center.kind != OrganisationKind.CENTER:
        errors["center"] = _l("Jede Firma braucht ein Welcome Center, das sie betreut.")
    kreis = _text(data, "kreis")
    values["kreis"] = kreise.canonical(kreis) if kreis else None
    if kreis and values["kreis"] is None:
        errors["kreis"] = _l("„%(value)s“ ist kein Kreis und keine kreisfreie Stadt in NRW.", value=kreis)
    employees = _text(data, "employees")
    values["employees"] = None
    if employees is not None:
        if employees.isdigit():
            values["employees"] = int(employees)
        else:
            errors["employees"] = _l("Die Zahl der Beschäftigten ist eine ganze Zahl ab 0.")
    values.update(_contact(data, errors))
    _check_lengths(values, errors)
    if "kuemmerer_id" in data:
        values["kuemmerer_id"] = _kuemmerer(data.get("kuemmerer_id"), firm, errors)
    if errors:
        raise InvalidFields(errors)
    values["center_id"] = center.id
    return values


def _kuemmerer(value, firm, errors) -> int | None:
    if value in (None, ""):
        return None
    person = db.session.get(User, int(value)) if str(value).isdigit() else None
    if person is None or firm is None or person.organisation_id != firm.id:
        errors["kuemmerer_id"] = _l("Die Kümmerer:in muss eine Person dieser Firma sein.")
        return None
    return person.id


def create_firm(data: dict, center: Organisation | None, actor=None) -> Organisation:
    values = firm_values(data, center)
    firm = Organisation(kind=OrganisationKind.EMPLOYER, **values)
    db.session.add(firm)
    audit.record(actor, firm, "created", {k: {"old": None, "new": v} for k, v in values.items()
                                          if v is not None and k != "center_id"})
    return firm


def update_firm(firm: Organisation, data: dict, actor=None) -> dict:
    changes = audit.apply(firm, firm_values(data, firm.center, firm))
    if changes:
        audit.record(actor, firm, "updated", changes)
    return changes


def firms_query(center_id: int | None, search: str = ""):
    """Firms served by a center (every center's with None), by name; `search` matches name, city or Kreis."""
    query = select(Organisation).where(Organisation.kind == OrganisationKind.EMPLOYER)
    if center_id is not None:
        query = query.where(Organisation.center_id == center_id)
    search = (search or "").strip()
    if search:
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(*(func.lower(column).like(pattern, escape="\\") for column in
                                  (Organisation.name, Organisation.city, Organisation.kreis))))
    return query.order_by(func.lower(Organisation.name), Organisation.id)


def firms_page(center_id: int | None, search: str = "", page: int = 1):
    """(firms, has_next) of one page."""
    rows = db.session.scalars(firms_query(center_id, search).offset((page - 1) * PAGE_SIZE)
                              .limit(PAGE_SIZE + 1)).all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def case_count(firm: Organisation) -> int:
    return db.session.scalar(select(func.count()).select_from(Case).where(Case.employer_id == firm.id)) or 0


def merge_firms(keep: Organisation, duplicate: Organisation, actor=None) -> int:
    """Fold `duplicate` into `keep`: its cases, open tasks and people move over, then it is removed.
    Both must be firms of the same center. Returns the number of cases moved."""
    if keep.id == duplicate.id or keep.kind != OrganisationKind.EMPLOYER or duplicate.kind != OrganisationKind.EMPLOYER:
        raise InvalidFields({"duplicate": _l("Bitte wählen Sie eine andere Firma zum Zusammenführen.")})
    if keep.center_id != duplicate.center_id:
        raise InvalidFields({"duplicate": _l("Nur Firmen desselben Welcome Centers lassen sich zusammenführen.")})
    moved = db.session.execute(update(Case).where(Case.employer_id == duplicate.id)
                               .values(employer_id=keep.id)).rowcount
    db.session.execute(update(HumanTask).where(HumanTask.employer_id == duplicate.id).values(employer_id=keep.id))
    db.session.execute(update(User).where(User.organisation_id == duplicate.id).values(organisation_id=keep.id))
    changes = {"merged": {"old": duplicate.name, "new": keep.name}, "cases": {"old": None, "new": moved}}
    if keep.kuemmerer_id is None and duplicate.kuemmerer_id is not None:
        changes["kuemmerer_id"] = {"old": None, "new": duplicate.kuemmerer_id}
        keep.kuemmerer_id = duplicate.kuemmerer_id
    for field in FIRM_FIELDS:          # keep what only the duplicate knew
        if getattr(keep, field) in (None, "") and getattr(duplicate, field) not in (None, ""):
            changes[field] = {"old": None, "new": getattr(duplicate, field)}
            setattr(keep, field, getattr(duplicate, field))
    audit.record(actor, keep, "merged", changes)
    duplicate.kuemmerer_id = None
    db.session.flush()
    db.session.delete(duplicate)
    db.session.flush()
    return moved
