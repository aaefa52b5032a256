"""What the admin pages read and the unit of work around each admin change.

The operations themselves live where their subject does (`engine.organisations`, `engine.people`,
`engine.invitations`) and leave the commit to their caller; `save` is that caller for web/admin: it
commits what one operation did and only then hands its mail over, or rolls everything back.
Lookups by id answer None for an object the admin does not administer (the page is a 404 then).
"""
from engine import access, mail, organisations, people
from engine.db import db
from engine.errors import InvalidFields
from engine.models import Organisation, User
from engine.models.statuses import OrganisationKind


def save(operation, *args, **kwargs):
    """Run `operation(*args, **kwargs)`, commit, send the mail it queued and return its result.
    On InvalidFields nothing of it is stored and the error goes on to the caller."""
    try:
        result = operation(*args, **kwargs)
    except InvalidFields:
        db.session.rollback()
        raise
    db.session.commit()
    mail.after_commit_send_mail()
    return result


def center_of(admin: User) -> Organisation | None:
    """The center `admin` administers, read whole (the session's user has only part of it: engine.users)."""
    center_id = access.administered_center_id(admin)
    return None if center_id is None else db.session.get(Organisation, center_id, populate_existing=True)


def firm(admin: User, firm_id: int) -> Organisation | None:
    found = db.session.get(Organisation, firm_id, populate_existing=True)     # read whole, as center_of
    if found is None or found.kind != OrganisationKind.EMPLOYER or not access.administers(admin, found):
        return None
    return found


def person(admin: User, user_id: int) -> User | None:
    found = db.session.get(User, user_id)
    return found if found is not None and access.administers(admin, found) else None


def assignable_organisations(admin: User) -> dict[int, Organisation]:
    """The organisations `admin` may put people in: their center and the firms it serves."""
    center = center_of(admin)
    if center is None:
        return {}
    return {org.id: org for org in [center, *db.session.scalars(organisations.firms_query(center.id))]}


def firm_staff(found_firm: Organisation) -> list[User]:
    return list(db.session.scalars(people.people_query([found_firm.id])))


def people_page(admin: User, search: str, page: int) -> tuple[list[User], bool]:
    """(people, has_next) of one page of the people in the admin's organisations."""
    orgs = assignable_organisations(admin)
    rows = db.session.scalars(people.people_query(list(orgs), search).offset((page - 1) * people.PAGE_SIZE)
                              .limit(people.PAGE_SIZE + 1)).all()
    return rows[:people.PAGE_SIZE], len(rows) > people.PAGE_SIZE
