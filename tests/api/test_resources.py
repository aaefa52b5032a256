"""The JSON API through HTTP: every resource, each role's reach (two firms, two Welcome Centers), tokens,
problems, ETags. The engine runs for real; rows are read back from the database between steps."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import api_tokens, clock, users
from engine.db import db
from engine.models import Case, HumanTask
from tests.conftest import fixture_files

PROBLEM = "application/problem+json"


def open_task(case, element_id):
    return db.session.query(HumanTask).filter_by(case_id=case.id, element_id=element_id, state="open").one()


# --- authentication ---------------------------------------------------------------------------------

def test_no_token_a_wrong_token_and_a_session_cookie_get_401(ws, api, client_for):
    for client in (api(), api(token="lotse_not-a-token")):
        response = client.get("/api/v1/cases")
        assert response.status_code == 401 and response.content_type == PROBLEM
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["status"] == 401
    browser = client_for("anna")                       # logged in: the API ignores the cookie
    assert browser.http.get("/api/v1/cases").status_code == 401


def test_a_revoked_or_expired_token_stops_working(ws, api, people):
    row, secret = api_tokens.create_personal(people["anna"], "crm", 1)
    client = api(token=secret)
    assert client.get("/api/v1/cases").status_code == 200
    clock.advance(timedelta(days=1, seconds=1))
    assert client.get("/api/v1/cases").status_code == 401
    row2, secret2 = api_tokens.create_personal(people["anna"], "crm 2", 5)
    assert api(token=secret2).get("/api/v1/cases").status_code == 200
    api_tokens.revoke_personal(people["anna"], row2.id)
    assert api(token=secret2).get("/api/v1/cases").status_code == 401
    with pytest.raises(Exception):                 # another's token is not theirs to revoke
        api_tokens.revoke_personal(people["ben"], row.id)


def test_a_token_of_a_deactivated_person_stops_working(ws, api, people):
    client = api("ben")
    assert client.get("/api/v1/tasks").status_code == 200
    people["ben"].active = False
    db.session.commit()
    assert client.get("/api/v1/tasks").status_code == 401


def test_a_persons_changed_groups_count_from_their_next_request(ws, api, people):
    body = {"process": "ws_permit", "subject": "X", "data": {"worker_name": "X", "country": "IN"}}
    client = api("anna")
    assert client.post("/api/v1/cases", json=body).status_code == 201
    people["anna"].groups = [group for group in people["anna"].groups if group.name != "advisor"]
    db.session.commit()
    assert client.post("/api/v1/cases", json=body).status_code == 403


def test_only_the_hash_is_stored(ws, people):
    row, secret = api_tokens.create_personal(people["anna"], "crm", 30)
    assert secret.startswith("lotse_") and secret not in (row.token_hash, row.prefix) and len(row.token_hash) == 64


def test_too_many_requests_get_429(ws, api, ctx):
    ctx.config["API_REQUESTS_PER_MINUTE"] = 3
    try:
        client = api("anna")
        statuses = [client.get("/api/v1/tasks").status_code for _ in range(3)]
        response = client.get("/api/v1/tasks")
    finally:
        ctx.config["API_REQUESTS_PER_MINUTE"] = 1200
    assert statuses == [200, 200, 200] and response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1 and response.content_type == PROBLEM


def test_no_csrf_token_is_needed_with_a_bearer_token(ws, api):
    case = ws["cases"][0]
    response = api("anna").post(f"/api/v1/tasks/{open_task(case, 'check_docs').id}/claim")
    assert response.status_code == 200, response.get_data(as_text=True)


# --- cases --------------------------------------------------------------------------------------------

def test_cases_of_another_center_or_firm_are_404(ws, api):
    aachen, _other_firm, koeln = ws["cases"]
    assert api("anna").get(f"/api/v1/cases/{aachen.reference}").status_code == 200
    assert api("kai").get(f"/api/v1/cases/{aachen.reference}").status_code == 404
    assert api("anna").get(f"/api/v1/cases/{koeln.reference}").status_code == 404
    assert api("schmitz").get(f"/api/v1/cases/{aachen.reference}").status_code == 404   # another firm's
    own = api("jansen").get(f"/api/v1/cases/{aachen.reference}")
    assert own.status_code == 200 and own.get_json()["data"] is None                   # no case data for firms
    listed = api("kai").get("/api/v1/cases?status=all").get_json()["items"]
    assert [c["reference"] for c in listed] == [koeln.reference]
    assert api("jansen").get(f"/api/v1/cases/{aachen.reference}/events").status_code == 404
    assert api("jansen").post(f"/api/v1/cases/{aachen.reference}/cancel").status_code == 403   # sees it, may not
    assert api("kai").post(f"/api/v1/cases/{aachen.reference}/cancel").status_code == 404


def test_start_list_get_and_cancel_a_case(ws, api, people):
    anna = api("anna")
    response = anna.post("/api/v1/cases", json={"process": "ws_permit", "business_key": "CRM-4711",
                                                 "employer_id": people["firm"].id,
                                                 "data": {"worker_name": "Ada Lovelace", "country": "IN"}})
    assert response.status_code == 201, response.get_data(as_text=True)
    reference = response.get_json()["reference"]
    db.session.expire_all()
    case = db.session.query(Case).filter_by(reference=reference).one()
    assert case.subject == "CRM-4711" and case.center_id == people["center"].id

    detail = anna.get(f"/api/v1/cases/{reference}")
    body = detail.get_json()
    assert body["business_key"] == "CRM-4711" and body["data"]["worker_name"] == "Ada Lovelace"
    assert [t["element_id"] for t in body["tasks"]] == ["check_docs"]
    assert any(m["key"] == "docs_checked" for m in body["milestones"])
    etag = detail.headers["ETag"]

    listed = anna.get("/api/v1/cases?q=CRM-4711").get_json()
    assert [c["reference"] for c in listed["items"]] == [reference] and listed["next_cursor"] is None

    events = anna.get(f"/api/v1/cases/{reference}/events").get_json()["items"]
    assert [e["kind"] for e in events][:2] == ["case_started", "task_created"]

    done = anna.post(f"/api/v1/tasks/{open_task(case, 'check_docs').id}/complete",     # the case moves on
                     json={"data": {"passport_no": "AB123456", "salary": 1}})
    assert done.status_code == 200, done.get_data(as_text=True)
    stale = anna.post(f"/api/v1/cases/{reference}/cancel", json={"reason": "x"}, headers={"If-Match": etag})
    assert stale.status_code == 409 and stale.content_type == PROBLEM
    fresh = anna.get(f"/api/v1/cases/{reference}").headers["ETag"]
    cancelled = anna.post(f"/api/v1/cases/{reference}/cancel", json={"reason": "duplicate"},
                          headers={"If-Match": fresh})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    again = anna.post(f"/api/v1/cases/{reference}/cancel", json={})
    assert again.status_code == 409


def test_case_paging_by_cursor(ws, api, people):
    from engine import cases
    for n in range(52):
        cases.start_case("ws_permit", center=people["center"], subject=f"Bulk {n}",
                         data={"worker_name": f"W{n}", "country": "IN"}, actor=people["anna"])
    db.session.commit()
    first = api("anna").get("/api/v1/cases?q=Bulk").get_json()
    assert len(first["items"]) == 50 and first["next_cursor"]
    second = api("anna").get(f"/api/v1/cases?q=Bulk&cursor={first['next_cursor']}").get_json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    assert not {c["reference"] for c in first["items"]} & {c["reference"] for c in second["items"]}
    bad = api("anna").get("/api/v1/cases?cursor=zzz")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "cursor"


def test_invalid_bodies_get_422_naming_the_field(ws, api):
    response = api("anna").post("/api/v1/cases", json={"data": "not an object", "surprise": 1})
    assert response.status_code == 422 and response.content_type == PROBLEM
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert {"process", "data", "surprise"} <= fields
    assert api("anna").post("/api/v1/cases", json={"process": "nope"}).status_code == 404


def test_who_may_start_cases(ws, api, people):
    body = {"process": "ws_permit", "subject": "X", "data": {"worker_name": "X", "country": "IN"}}
    assert api("jansen").post("/api/v1/cases", json=body).status_code == 403
    foreign_firm = api("kai").post("/api/v1/cases", json={**body, "employer_id": people["firm"].id})
    assert foreign_firm.status_code == 422 and foreign_firm.get_json()["errors"][0]["field"] == "employer_id"


def test_oversized_bodies_get_413(ws, api, ctx):
    response = api("anna").post("/api/v1/cases", json={"process": "ws_permit",
                                                       "data": {"x": "a" * (ctx.config["MAX_CONTENT_LENGTH"] + 10)}})
    assert response.status_code == 413 and response.content_type == PROBLEM


# --- tasks --------------------------------------------------------------------------------------------

def test_task_lists_follow_the_inbox(ws, api):
    aachen, other_firm, koeln = ws["cases"]
    group = api("anna").get("/api/v1/tasks?view=group").get_json()["items"]
    assert {t["case_reference"] for t in group} == {aachen.reference, other_firm.reference}
    assert api("anna").get("/api/v1/tasks?view=mine").get_json()["items"] == []
    assert {t["case_reference"] for t in api("kai").get("/api/v1/tasks?view=group").get_json()["items"]} == \
        {koeln.reference}
    filtered = api("anna").get(f"/api/v1/tasks?view=group&q={aachen.reference}").get_json()["items"]
    assert [t["case_reference"] for t in filtered] == [aachen.reference]
    assert api("anna").get("/api/v1/tasks?view=bogus").status_code == 422


def test_task_of_another_center_is_404_everywhere(ws, api):
    task = open_task(ws["cases"][2], "check_docs")
    anna = api("anna")
    assert anna.get(f"/api/v1/tasks/{task.id}").status_code == 404
    for action in ("claim", "unclaim", "complete", "draft"):
        assert anna.post(f"/api/v1/tasks/{task.id}/{action}", json={}).status_code == 404, action
    assert api("jansen").get(f"/api/v1/tasks/{task.id}").status_code == 404


def test_get_claim_draft_complete_with_form_validation_and_next_task(ws, api):
    case = ws["cases"][0]
    task = open_task(case, "check_docs")
    anna = api("anna")
    detail = anna.get(f"/api/v1/tasks/{task.id}")
    body = detail.get_json()
    assert body["form"]["components"][0]["key"] == "passport_no" and body["data"]["worker_name"] == "Ravi Kumar"
    etag = detail.headers["ETag"]

    claimed = anna.post(f"/api/v1/tasks/{task.id}/claim", headers={"If-Match": etag})
    assert claimed.status_code == 200 and claimed.get_json()["assignee"] == "Anna Berger"
    assert anna.post(f"/api/v1/tasks/{task.id}/draft", json={"data": {"passport_no": "X1"}},
                     headers={"If-Match": etag}).status_code == 409          # stale: claimed since
    assert api("ben").post(f"/api/v1/tasks/{task.id}/claim").status_code == 409
    draft = anna.post(f"/api/v1/tasks/{task.id}/draft", json={"data": {"passport_no": "X1"}})
    assert draft.status_code == 200 and draft.get_json()["has_draft"]

    invalid = anna.post(f"/api/v1/tasks/{task.id}/complete", json={"data": {"passport_no": "x", "salary": -1}})
    assert invalid.status_code == 422 and invalid.content_type == PROBLEM
    assert {e["field"] for e in invalid.get_json()["errors"]} == {"data.passport_no", "data.salary"}
    db.session.expire_all()
    assert open_task(case, "check_docs").id == task.id                         # nothing changed

    done = anna.post(f"/api/v1/tasks/{task.id}/complete",
                     json={"data": {"passport_no": "AB123456", "salary": 4200}})
    assert done.status_code == 200, done.get_data(as_text=True)
    result = done.get_json()
    assert result["case"]["reference"] == case.reference
    assert result["next_task"]["element_id"] == "inform_employer"
    db.session.expire_all()
    row = db.session.get(HumanTask, task.id)
    assert row.state == "completed" and row.completed_by_id == ws["anna"].id
    again = anna.post(f"/api/v1/tasks/{task.id}/complete", json={"data": {"passport_no": "AB123456", "salary": 1}})
    assert again.status_code == 409 and "already completed" in again.get_json()["detail"]


def test_a_task_completed_through_the_api_without_a_claim_counts_for_its_group_until_then(ws, api, client_for):
    """Completed straight from its group: the log has the change of hands at the completion (a claim, what the
    supervisors' workload reads), the case page one entry for it, and the workload counts the task for its group
    while it was open, not for the person who completed it."""
    import re
    from engine import workload
    case = ws["cases"][0]
    task = open_task(case, "check_docs")
    clock.advance(timedelta(weeks=2))
    ben = api("ben")
    done = ben.post(f"/api/v1/tasks/{task.id}/complete", json={"data": {"passport_no": "AB123456", "salary": 4200}})
    assert done.status_code == 200, done.get_data(as_text=True)

    events = ben.get(f"/api/v1/cases/{case.reference}/events").get_json()["items"]
    assert [(e["kind"], e["actor"]) for e in events if e["element_id"] == "check_docs" and e["kind"].startswith("task")] == [
        ("task_created", None), ("task_claimed", "ben"), ("task_completed", "ben")]
    page = client_for("ben").get(f"/cases/{case.reference}").get_data(as_text=True)
    timeline = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split('<ol class="timeline">')[1].split("</ol>")[0]))
    assert "Aufgabe übernommen" not in timeline and timeline.count("Aufgabe erledigt : Unterlagen prüfen") == 1

    load = workload.workload(ws["sara"])
    assert load.people_open["Ben Okafor"] == [0] * workload.WEEKS
    assert load.groups_open["advisor"][-3:-1] == [2, 2]        # with Maria's check, at the last two weeks' ends
    assert sum(load.completed_by_week["Ben Okafor"]) == 1


def test_assign_is_for_supervisors_of_the_center(ws, api):
    task = open_task(ws["cases"][0], "check_docs")
    assert api("anna").post(f"/api/v1/tasks/{task.id}/assign", json={"username": "ben"}).status_code == 403
    assert api("sara").post(f"/api/v1/tasks/{task.id}/assign", json={"username": "kai"}).status_code == 422
    response = api("sara").post(f"/api/v1/tasks/{task.id}/assign", json={"username": "ben"})
    assert response.status_code == 200 and response.get_json()["assignee"] == "Ben Okafor"
    assert api("ben").post(f"/api/v1/tasks/{task.id}/unclaim").status_code == 200


# --- definitions, deployments -------------------------------------------------------------------------

def test_definitions_and_deployments_by_role(ws, api, people):
    owner = users.ensure_user("paul", "Paul Prozess", organisation=people["center"], groups=["process_owner"])
    db.session.commit()
    listed = api("anna").get("/api/v1/process-definitions").get_json()
    assert "ws_permit" in [d["key"] for d in listed]
    assert api("jansen").get("/api/v1/process-definitions").status_code == 403
    detail = api("anna").get("/api/v1/process-definitions/ws_permit").get_json()
    assert detail["version"] == 1 and [v["version"] for v in detail["versions"]] == [1]
    assert api("anna").get("/api/v1/process-definitions/nope").status_code == 404

    files = [{"name": name, "content": content.decode()} for name, content in fixture_files("callee.bpmn")]
    assert api("anna").post("/api/v1/deployments", json={"files": files}).status_code == 403
    secret = api_tokens.create_personal(owner, "ci", 30)[1]
    deployed = api(token=secret).post("/api/v1/deployments", json={"files": files})
    assert deployed.status_code == 201, deployed.get_data(as_text=True)
    assert deployed.get_json()["definitions"][0]["version"] == 1
    broken = api(token=secret).post("/api/v1/deployments", json={"files": [{"name": "x.bpmn", "content": "<nope"}]})
    assert broken.status_code == 422 and broken.get_json()["errors"][0]["file"] == "x.bpmn"
    # a process owner has no cases or tasks
    assert api(token=secret).get(f"/api/v1/cases/{ws['cases'][0].reference}").status_code == 404
    assert api(token=secret).get("/api/v1/cases").get_json()["items"] == []


# --- messages, incidents ------------------------------------------------------------------------------

def test_messages_reach_only_the_callers_center(ws, api, deploy_fixture, people):
    from engine import cases
    deploy_fixture("msg_employer.bpmn")
    case = cases.start_case("msg_employer", center=people["center"], employer=people["firm"], subject="M",
                            actor=people["anna"], data={"hire_id": "H-1", "worker_name": "Ravi"})
    db.session.commit()
    # the diagram's correlation property reads hire_id from the message itself, so the payload carries it too
    message = {"name": "worker_arrived", "correlation_keys": {"hire_id": "H-1"},
               "data": {"hire_id": "H-1", "entry_date": "2026-12-01"}}
    assert api("kai").post("/api/v1/messages", json=message).status_code == 404      # Köln: no such case there
    assert api("jansen").post("/api/v1/messages", json=message).status_code == 403
    wrong_key = api("anna").post("/api/v1/messages", json={**message, "correlation_keys": {"hire_id": "H-2"}})
    assert wrong_key.status_code == 404
    delivered = api("anna").post("/api/v1/messages", json=message)
    assert delivered.status_code == 200, delivered.get_data(as_text=True)
    assert delivered.get_json()["reference"] == case.reference
    db.session.expire_all()
    assert open_task(case, "welcome").candidate_groups == ["employer"]


def test_a_message_start_event_starts_a_case_at_the_callers_center(ws, api, deploy_fixture, people):
    deploy_fixture("msg_worker.bpmn")
    started = api("kai").post("/api/v1/messages", json={"name": "hire_confirmed", "data": {"hire_id": "H-9"}})
    assert started.status_code == 200, started.get_data(as_text=True)
    db.session.expire_all()
    case = db.session.query(Case).filter_by(reference=started.get_json()["reference"]).one()
    assert case.center_id == people["other_center"].id and case.definition.key == "msg_worker"


def test_incidents_list_and_retry_with_corrected_data(ws, api, deploy_fixture, people):
    from engine import cases
    deploy_fixture("divide.bpmn")
    case = cases.start_case("divide", center=people["center"], subject="D", actor=people["anna"],
                            data={"total": 1, "parts": 0})
    db.session.commit()
    incidents = api("anna").get("/api/v1/incidents").get_json()["items"]
    if not incidents:
        pytest.fail("divide.bpmn should fail on parts = 0")
    assert api("kai").get("/api/v1/incidents").get_json()["items"] == []
    assert api("jansen").get("/api/v1/incidents").get_json()["items"] == []
    incident = incidents[0]
    assert api("kai").post(f"/api/v1/incidents/{incident['id']}/retry", json={}).status_code == 404
    retried = api("anna").post(f"/api/v1/incidents/{incident['id']}/retry", json={"data": {"parts": 2}})
    assert retried.status_code == 200, retried.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(Case, case.id).has_incident
    assert api("anna").get("/api/v1/incidents").get_json()["items"] == []


def test_completion_answers_the_next_task_as_the_inbox_would_choose_it(people, api):
    """The answer's next task is taken from the rows the completion left open: a new row kept with the caller
    (named as assignee); her own task opened before this completion ahead of a new one of the pool."""
    from engine import cases, deploy, inbox
    deploy.deploy(fixture_files("keep_assignee.bpmn"))
    case = cases.start_case("keep_assignee", center=people["center"], subject="Kim", actor=people["sara"])
    sara = api("sara")

    def open_row(title):
        db.session.expire_all()
        return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.title == title,
                                                          HumanTask.state == "open")).one()

    first = sara.post(f"/api/v1/tasks/{open_row('Erstgespräch').id}/complete", json={"data": {}}).get_json()
    # two rows opened together, both kept with her: the same choice as the inbox's query
    assert first["next_task"]["title"] in ("Unterlagen prüfen", "Freigeben")
    assert first["next_task"]["assignee"] == "Sara Klein"
    assert first["next_task"]["id"] == inbox.next_task_for(people["sara"], case.id).id
    assert first["case"]["process_key"] == "keep_assignee" and first["case"]["status"] == "active"

    second = sara.post(f"/api/v1/tasks/{open_row('Unterlagen prüfen').id}/complete", json={"data": {}}).get_json()
    db.session.expire_all()
    assert second["next_task"]["title"] == "Freigeben"        # hers, opened before; "Abschluss prüfen" is the pool's
    assert second["next_task"]["assignee"] == "Sara Klein"
    assert second["next_task"]["id"] == inbox.next_task_for(people["sara"], case.id).id


# --- what the lists filter, and how they page ----------------------------------------------------------

def test_the_task_list_has_the_inboxs_follow_up_filter_and_supervisors_view(ws, api):
    aachen = ws["cases"][0]
    row = open_task(aachen, "check_docs")
    row.follow_up_at = clock.now() + timedelta(days=3)           # put aside until then, as on the task page
    db.session.commit()
    group = {t["id"] for t in api("anna").get("/api/v1/tasks?view=group").get_json()["items"]}
    assert row.id not in group
    later = api("anna").get("/api/v1/tasks?view=group&followup=true").get_json()["items"]
    assert row.id in {t["id"] for t in later}
    assert api("anna").get("/api/v1/tasks?view=all&followup=true").get_json()["items"] == []   # advisors: no "all"
    center = {t["case_reference"] for t in api("sara").get("/api/v1/tasks?view=all&followup=true").get_json()["items"]}
    assert center == {aachen.reference, ws["cases"][1].reference}


def test_the_case_list_filters_by_status_process_and_firm(ws, api, people):
    aachen, other_firm, _koeln = ws["cases"]
    anna = api("anna")
    assert anna.post(f"/api/v1/cases/{other_firm.reference}/cancel", json={"reason": "x"}).status_code == 200

    def references(query):
        response = anna.get(f"/api/v1/cases?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return [c["reference"] for c in response.get_json()["items"]]
    assert references("") == [aachen.reference]                             # active by default
    assert references("status=cancelled") == [other_firm.reference]
    assert set(references("status=all")) == {aachen.reference, other_firm.reference}
    assert references(f"status=all&firm={people['firm'].id}") == [aachen.reference]
    assert references("status=all&process=nope") == []
    assert references("incident=true") == []


def test_the_event_log_pages_with_after(ws, api):
    reference = ws["cases"][0].reference
    anna = api("anna")
    everything = anna.get(f"/api/v1/cases/{reference}/events?limit=500").get_json()
    assert everything["next_cursor"] is None and len(everything["items"]) >= 2
    first = anna.get(f"/api/v1/cases/{reference}/events?limit=1").get_json()
    assert [e["id"] for e in first["items"]] == [everything["items"][0]["id"]] and first["next_cursor"]
    rest = anna.get(f"/api/v1/cases/{reference}/events?limit=500&after={first['next_cursor']}").get_json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in everything["items"]]


def test_a_second_version_through_the_api_lists_both_and_keeps_the_note(ws, api, people):
    from engine.models import Deployment
    owner = users.ensure_user("paul", "Paul Prozess", organisation=people["center"], groups=["process_owner"])
    db.session.commit()
    client = api(token=api_tokens.create_personal(owner, "ci", 30)[1])
    [(name, content)] = fixture_files("callee.bpmn")
    for note, title in (("first", "Teilprozess"), ("second", "Teilprozess, neu")):
        files = [{"name": name, "content": content.decode().replace('name="Teilprozess"', f'name="{title}"')}]
        deployed = client.post("/api/v1/deployments", json={"files": files, "note": note})
        assert deployed.status_code == 201, deployed.get_data(as_text=True)
    detail = api("anna").get("/api/v1/process-definitions/callee").get_json()
    assert detail["version"] == 2 and [v["version"] for v in detail["versions"]] == [2, 1]
    assert db.session.scalars(select(Deployment.note).order_by(Deployment.id.desc())).first() == "second"
