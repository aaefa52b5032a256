"""Admin pages. Thin: web/permissions.py and engine/access.py decide who may act; each view calls one
engine operation through `engine.admin.save` (which commits) and reads through `engine.admin`.
A person or firm of another center is a 404, as if it did not exist."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from engine import admin, audit, invitations, kreise, organisations, people
from engine.errors import InvalidFields
from engine.models import Organisation, User
from web.admin import bp
from web.permissions import admin_required, audit_required



def _center() -> Organisation:
    return admin.center_of(current_user)


def _firm(firm_id) -> Organisation:
    return admin.firm(current_user, firm_id) or abort(404)


def _person(user_id) -> User:
    return admin.person(current_user, user_id) or abort(404)


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int))


SIZE_LABELS = {"micro": _l("Kleinstunternehmen"), "small": _l("Kleines Unternehmen"),
               "medium": _l("Mittleres Unternehmen"), "large": _l("Großunternehmen")}
AUDIT_ACTIONS = {"created": _l("Angelegt"), "updated": _l("Geändert"), "merged": _l("Zusammengeführt"),
                 "deactivated": _l("Deaktiviert"), "reactivated": _l("Wieder aktiviert"),
                 "invited": _l("Eingeladen"), "reset_link_sent": _l("Link für neues Passwort verschickt"),
                 "password_set": _l("Passwort festgelegt"), "deploy": _l("Bereitgestellt"),
                 "case_migrated": _l("Fall auf andere Prozessversion umgestellt"),
                 "process_rolled_back": _l("Ältere Prozessversion erneut bereitgestellt")}

FIELD_LABELS = {"name": _l("Name"), "code": _l("Kürzel"), "areas": _l("Betreute Kreise und kreisfreie Städte"),
                "legal_form": _l("Rechtsform"), "kreis": _l("Kreis"), "sector": _l("Branche"),
                "employees": _l("Beschäftigte"), "street": _l("Straße und Hausnummer"), "postcode": _l("PLZ"),
                "city": _l("Ort"), "email": _l("E-Mail"), "phone": _l("Telefon"), "kuemmerer_id": _l("Kümmerer:in"),
                "username": _l("Benutzername"), "display_name": _l("Name"), "language": _l("Sprache"),
                "organisation_id": _l("Organisation"), "groups": _l("Rollen und Gruppen"), "active": _l("Aktiv"),
                "merged": _l("Zusammengeführt"), "cases": _l("Fälle"), "versions": _l("Neue Versionen"),
                "note": _l("Änderungsnotiz")}


def _audit_value(value) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, bool):
        return _("Ja") if value else _("Nein")
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


@bp.app_context_processor
def _admin_globals():
    return {"size_label": lambda key: SIZE_LABELS.get(key, "—"),
            "audit_action": lambda key: AUDIT_ACTIONS.get(key, key),
            "audit_field": lambda key: FIELD_LABELS.get(key, key),
            "audit_value": _audit_value}


# --- the center ----------------------------------------------------------------------------------

@bp.route("/admin/center", methods=["GET", "POST"])
@admin_required
def center():
    center, errors = _center(), {}
    if request.method == "POST":
        data = {**request.form, "areas": request.form.getlist("areas")}
        try:
            admin.save(organisations.update_center, center, data, current_user)
        except InvalidFields as exc:
            errors = exc.errors
        else:
            flash(_("Die Angaben des Welcome Centers sind gespeichert."), "success")
            return redirect(url_for("admin.center"))
    return render_template("admin/center.html", center=center, form=request.form if errors else None,
                           errors=errors, kreise=kreise.ALL), 422 if errors else 200


# --- firms ---------------------------------------------------------------------------------------

@bp.route("/admin/firms")
@admin_required
def firms():
    search = request.args.get("q", "")
    rows, has_next = organisations.firms_page(_center().id, search, _page())
    return render_template("admin/firms.html", firms=rows, has_next=has_next, page=_page(), q=search)


@bp.route("/admin/firms/new", methods=["GET", "POST"])
@admin_required
def firm_new():
    errors = {}
    if request.method == "POST":
        try:
            firm = admin.save(organisations.create_firm, request.form, _center(), current_user)
        except InvalidFields as exc:
            errors = exc.errors
        else:
            flash(_("Die Firma %(name)s ist angelegt.", name=firm.name), "success")
            return redirect(url_for("admin.firm", firm_id=firm.id))
    return render_template("admin/firm.html", firm=None, form=request.form, errors=errors,
                           kreise=kreise.ALL), 422 if errors else 200


@bp.route("/admin/firms/<int:firm_id>", methods=["GET", "POST"])
@admin_required
def firm(firm_id):
    firm, errors = _firm(firm_id), {}
    if request.method == "POST":
        try:
            admin.save(organisations.update_firm, firm, request.form, current_user)
        except InvalidFields as exc:
            errors = exc.errors
        else:
            flash(_("Die Angaben der Firma sind gespeichert."), "success")
            return redirect(url_for("admin.firm", firm_id=firm.id))
    return render_template("admin/firm.html", firm=firm, form=request.form if errors else None, errors=errors,
                           kreise=kreise.ALL, people=admin.firm_staff(firm), cases=organisations.case_count(firm)), \
        422 if errors else 200


@bp.route("/admin/firms/<int:firm_id>/merge", methods=["POST"])
@admin_required
def firm_merge(firm_id):
    keep = _firm(firm_id)
    duplicate_id = request.form.get("duplicate_id", type=int)
    duplicate = _firm(duplicate_id) if duplicate_id else None
    try:
        if duplicate is None:
            raise InvalidFields({"duplicate": _("Bitte wählen Sie die doppelte Firma aus.")})
        name = duplicate.name
        moved = admin.save(organisations.merge_firms, keep, duplicate, current_user)
    except InvalidFields as exc:
        for message in exc.errors.values():
            flash(str(message), "error")
        return redirect(url_for("admin.firm", firm_id=keep.id))
    flash(_("%(name)s ist mit dieser Firma zusammengeführt; %(count)s Fälle gehören jetzt hierher.",
            name=name, count=moved), "success")
    return redirect(url_for("admin.firm", firm_id=keep.id))


# --- people --------------------------------------------------------------------------------------

@bp.route("/admin/people")
@admin_required
def people_list():
    search = request.args.get("q", "")
    rows, has_next = admin.people_page(current_user, search, _page())
    return render_template("admin/people.html", people=rows, has_next=has_next, page=_page(), q=search)


def _person_form(person, errors):
    return render_template("admin/person.html", person=person, errors=errors,
                           form=request.values if errors or person is None else None,
                           organisations=list(admin.assignable_organisations(current_user).values()), roles=people.ROLES,
                           groups=people.candidate_groups(),
                           responsible=people.responsible_cases(person) if person else []), 422 if errors else 200


@bp.route("/admin/people/new", methods=["GET", "POST"])
@admin_required
def person_new():
    errors = {}
    if request.method == "POST":
        data = {**request.form, "groups": request.form.getlist("groups")}
        try:
            person = admin.save(people.create_person, data, admin.assignable_organisations(current_user),
                                current_user)
        except InvalidFields as exc:
            errors = exc.errors
        else:
            created = _("%(name)s ist angelegt.", name=person.display_name)
            flash(f"{created} {_('Die Einladung ist verschickt.')}" if person.email else created, "success")
            return redirect(url_for("admin.person", user_id=person.id))
    return _person_form(None, errors)


@bp.route("/admin/people/<int:user_id>", methods=["GET", "POST"])
@admin_required
def person(user_id):
    person, errors = _person(user_id), {}
    if request.method == "POST":
        data = {**request.form, "groups": request.form.getlist("groups")}
        try:
            admin.save(people.update_person, person, data, admin.assignable_organisations(current_user),
                       current_user)
        except InvalidFields as exc:
            errors = exc.errors
        else:
            flash(_("Die Angaben sind gespeichert."), "success")
            return redirect(url_for("admin.person", user_id=person.id))
    return _person_form(person, errors)


@bp.route("/admin/people/<int:user_id>/deactivate", methods=["POST"])
@admin_required
def person_deactivate(user_id):
    person = _person(user_id)
    try:
        admin.save(people.deactivate, person, current_user)
    except InvalidFields as exc:
        flash(str(exc.errors.get("user", exc)), "error")
    else:
        flash(_("%(name)s ist deaktiviert; alle Anmeldungen sind beendet und übernommene Aufgaben "
                "zurück in der Gruppe.", name=person.display_name), "success")
    return redirect(url_for("admin.person", user_id=person.id))


@bp.route("/admin/people/<int:user_id>/reactivate", methods=["POST"])
@admin_required
def person_reactivate(user_id):
    person = _person(user_id)
    admin.save(people.reactivate, person, current_user)
    flash(_("%(name)s ist wieder aktiv.", name=person.display_name), "success")
    return redirect(url_for("admin.person", user_id=person.id))


@bp.route("/admin/people/<int:user_id>/reset", methods=["POST"])
@admin_required
def person_reset(user_id):
    person = _person(user_id)
    try:
        admin.save(people.reset_password, person, current_user)
    except InvalidFields as exc:
        flash(str(next(iter(exc.errors.values()))), "error")
    else:
        flash(_("Das Passwort ist zurückgesetzt; %(name)s hat einen Link für ein neues bekommen.",
                name=person.display_name), "success")
    return redirect(url_for("admin.person", user_id=person.id))


@bp.route("/admin/people/<int:user_id>/invite", methods=["POST"])
@admin_required
def person_invite(user_id):
    person = _person(user_id)
    try:
        admin.save(invitations.issue, person, "invitation", current_user)
    except InvalidFields as exc:
        flash(str(next(iter(exc.errors.values()))), "error")
    else:
        flash(_("Die Einladung ist verschickt."), "success")
    return redirect(url_for("admin.person", user_id=person.id))


# --- the audit log -------------------------------------------------------------------------------

@bp.route("/admin/audit")
@audit_required
def audit_log():
    rows, has_next = audit.entries(current_user.organisation_id, _page())
    return render_template("admin/audit.html", entries=rows, has_next=has_next, page=_page())
