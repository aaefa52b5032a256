"""Administration in the engine: each bad input named by field or line with nothing stored, the password
rule, single-use expiring links, deactivation handing tasks back, merging firms, the audit log."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import cases, clock, csv_import, invitations, organisations, passwords, people, users
from engine.db import db
from engine.errors import InvalidFields
from engine.models import AuditEntry, Case, CaseEvent, HumanTask, MailMessage, Organisation, User, UserSession
from engine.models.organisation import size_class
from tests.web.conftest import ws  # noqa: F401  (cases with open tasks)


def _orgs(people_fixture):
    center = people_fixture["center"]
    return {center.id: center, people_fixture["firm"].id: people_fixture["firm"]}


def _new_person(people_fixture, **overrides):
    data = {"username": "neu", "display_name": "Nora Neu", "email": "nora@wc.example",
            "organisation_id": str(people_fixture["center"].id), "groups": ["advisor"], **overrides}
    return people.create_person(data, _orgs(people_fixture), actor=people_fixture["sara"])


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_duplicate_username_and_email_are_named_and_nothing_is_stored(people):
    before = _count(User)
    with pytest.raises(InvalidFields) as error:
        _new_person(people, username="ANNA", email="x@wc.example")
    assert set(error.value.errors) == {"username"} and "anna" in str(error.value.errors["username"])
    people["anna"].email = "anna@wc.example"
    db.session.commit()
    with pytest.raises(InvalidFields) as error:
        _new_person(people, email="Anna@WC.example")
    assert set(error.value.errors) == {"email"}
    db.session.rollback()
    assert _count(User) == before and _count(AuditEntry) == 0 and _count(MailMessage) == 0


def test_roles_must_fit_the_organisation_and_groups_must_exist(people):
    with pytest.raises(InvalidFields) as error:
        _new_person(people, groups=["employer"])
    assert "groups" in error.value.errors
    with pytest.raises(InvalidFields) as error:
        _new_person(people, groups=["advisor", "no_such_team"])
    assert "no_such_team" in str(error.value.errors["groups"])
    person = _new_person(people, new_group="recognition_team")
    assert person.group_names == {"advisor", "recognition_team"}


def test_a_person_of_another_center_cannot_be_placed(people):
    with pytest.raises(InvalidFields) as error:
        _new_person(people, organisation_id=str(people["other_center"].id))
    assert set(error.value.errors) == {"organisation_id"}


def test_firm_without_center_and_unknown_kreis(people):
    with pytest.raises(InvalidFields) as error:
        organisations.create_firm({"name": "Ohne Center GmbH", "kreis": "Kreis Düren"}, None)
    assert set(error.value.errors) == {"center"}
    with pytest.raises(InvalidFields) as error:
        organisations.create_firm({"name": "Berlin GmbH", "kreis": "Berlin", "employees": "viele"}, people["center"])
    assert set(error.value.errors) == {"kreis", "employees"} and "Berlin" in str(error.value.errors["kreis"])
    db.session.rollback()
    assert db.session.scalar(select(Organisation).where(Organisation.name.in_(["Ohne Center GmbH", "Berlin GmbH"]))) \
        is None
    firm = organisations.create_firm({"name": "Düren GmbH", "kreis": "  kreis DÜREN ", "employees": "49"},
                                     people["center"])
    assert (firm.kreis, firm.size_class) == ("Kreis Düren", "small")


def test_center_areas_only_from_the_nrw_list(ctx):
    with pytest.raises(InvalidFields) as error:
        organisations.create_center({"name": "WC Test", "code": "TT", "areas": "Kreis Düren; Landkreis Harburg"})
    assert "Landkreis Harburg" in str(error.value.errors["areas"])
    center = organisations.create_center({"name": "WC Test", "code": "tt", "areas": ["Köln", "Kreis Düren"]})
    assert center.code == "TT" and center.areas == ["Kreis Düren", "Köln"]
    with pytest.raises(InvalidFields) as error:
        organisations.create_center({"name": "WC Zwei", "code": "TT"})
    assert "code" in error.value.errors


def test_eu_sme_size_classes():
    assert [size_class(n) for n in (None, 0, 9, 10, 49, 50, 249, 250)] == \
        [None, "micro", "micro", "small", "small", "medium", "medium", "large"]


def test_password_rule():
    assert passwords.problem("kurz") is not None
    for common in ("password123456", "qwertyuiop12", "1qaz2wsx3edc", "123456789012", "Password1234!"):
        assert passwords.problem(common) is not None, common
    assert passwords.problem("Rheinufer-bei-Nacht") is None


def test_invitation_link_works_once_and_expires(people, app):
    person = _new_person(people)
    db.session.commit()
    mail = db.session.scalar(select(MailMessage).where(MailMessage.user_id == person.id))
    token = mail.body.split("/password/set/")[1].split()[0]
    assert person.password_hash is None
    with pytest.raises(InvalidFields) as error:
        invitations.redeem(token, "password123456", "password123456")
    assert set(error.value.errors) == {"password"}
    invitations.redeem(token, "Rheinufer-bei-Nacht", "Rheinufer-bei-Nacht")
    db.session.commit()
    assert users.authenticate("neu", "Rheinufer-bei-Nacht") is not None
    with pytest.raises(InvalidFields) as error:
        invitations.redeem(token, "Noch-ein-Passwort", "Noch-ein-Passwort")
    assert "token" in error.value.errors

    second = invitations.issue(person, "reset")
    db.session.commit()
    clock.advance(invitations.LIFETIME["reset"] + timedelta(seconds=1))
    with pytest.raises(InvalidFields) as error:
        invitations.valid(second)
    assert "abgelaufen" in str(error.value.errors["token"])


def test_a_new_link_voids_the_older_one_and_forgot_password_tells_nothing(people):
    person = _new_person(people)
    first = invitations.issue(person, "invitation")
    second = invitations.issue(person, "invitation")
    db.session.commit()
    with pytest.raises(InvalidFields):
        invitations.valid(first)
    assert invitations.valid(second).user_id == person.id
    mails = _count(MailMessage)
    invitations.request_reset("nobody@nowhere.example")
    assert _count(MailMessage) == mails
    invitations.request_reset("NORA@wc.example")
    assert _count(MailMessage) == mails + 1


def test_deactivation_ends_sessions_and_hands_claimed_tasks_back(ws):
    anna, sara = ws["anna"], ws["sara"]
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == ws["cases"][0].id,
                                                     HumanTask.state == "open"))
    cases.claim_task(task.id, anna)
    users.log_in("anna", "pw-anna", "127.0.0.1")
    responsible = people.deactivate(anna, actor=sara)
    db.session.expire_all()
    assert [case.id for case in responsible] == [ws["cases"][0].id]
    assert not db.session.get(User, anna.id).active
    assert _count(UserSession) == 0
    assert db.session.get(HumanTask, task.id).assignee_id is None
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == task.case_id,
                                                      CaseEvent.kind == "task_unclaimed"))
    assert event.actor_id == sara.id and event.details["reason"] == "deactivated" and event.details["from"] == "anna"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "deactivated"))
    assert (entry.actor_id, entry.center_id, entry.changes) == (sara.id, ws["center"].id,
                                                                {"active": {"old": True, "new": False}})
    with pytest.raises(InvalidFields):
        people.deactivate(sara, actor=sara)


def test_merging_a_duplicate_firm_keeps_all_its_cases(ws):
    keep, duplicate = ws["firm"], ws["other_firm"]
    duplicate.kreis = "Kreis Heinsberg"
    db.session.commit()
    moved = organisations.merge_firms(keep, duplicate, actor=ws["sara"])
    db.session.commit()
    assert moved == 1
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.employer_id == keep.id)) == 2
    assert db.session.get(User, ws["schmitz"].id).organisation_id == keep.id
    assert keep.kreis == "Kreis Heinsberg"
    assert db.session.get(Organisation, duplicate.id) is None
    with pytest.raises(InvalidFields):
        organisations.merge_firms(keep, keep)


def test_updates_are_audited_with_old_and_new_values(people):
    firm = people["firm"]
    organisations.update_firm(firm, {"name": firm.name, "employees": "300", "kreis": "Köln"}, actor=people["sara"])
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "updated"))
    assert entry.changes == {"employees": {"old": None, "new": 300}, "kreis": {"old": None, "new": "Köln"}}
    assert (entry.actor_id, entry.center_id, entry.object_kind) == (people["sara"].id, people["center"].id, "firm")


def _firms_csv(count, bad_line=None):
    lines = ["name,kreis,employees,city"]
    for number in range(2, count + 2):
        kreis = "Atlantis" if number == bad_line else "Kreis Düren"
        lines.append(f"Firma {number} GmbH,{kreis},{number % 300},Düren")
    return "\n".join(lines) + "\n"


def test_csv_of_500_firms_with_one_bad_line_imports_nothing(people):
    before = _count(Organisation)
    with pytest.raises(csv_import.ImportRejected) as error:
        csv_import.import_firms(_firms_csv(500, bad_line=377), people["center"])
    assert [(line, field) for line, field, _message in error.value.problems] == [(377, "kreis")]
    assert _count(Organisation) == before and _count(AuditEntry) == 0
    assert csv_import.import_firms(_firms_csv(500), people["center"], dry_run=True) == 500
    assert _count(Organisation) == before
    assert csv_import.import_firms(_firms_csv(500), people["center"]) == 500
    db.session.commit()
    assert _count(Organisation) == before + 500


def test_csv_with_a_wrong_column_is_refused_by_name(people):
    with pytest.raises(csv_import.ImportRejected) as error:
        csv_import.import_firms("name;kreiss\nA GmbH;Köln\n", people["center"])
    assert error.value.problems[0][:2] == (1, "kreiss")
    with pytest.raises(csv_import.ImportRejected) as error:
        csv_import.import_users("username,display_name,email\nx1,X,x1@wc.example\nx1,X2,x2@wc.example\n",
                                people["center"])
    assert [(line, field) for line, field, _m in error.value.problems] == [(3, "username")]
    assert db.session.scalar(select(User).where(User.username == "x1")) is None
