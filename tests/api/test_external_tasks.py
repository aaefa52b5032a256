"""External tasks through the API with a client written to Camunda's documented shapes: a lock that
expires and is fetched by a second worker, failures with retries and an incident, extend lock, BPMN
error; service accounts limited to their topics and their center."""
import json
from datetime import timedelta
from pathlib import Path

import pytest

from engine import api_tokens, cases, clock
from engine.db import db
from engine.models import Case, ExternalTask, HumanTask, Incident
from tests.api.camunda_client import CamundaWorker

BPMN = Path(__file__).with_name("external.bpmn")


@pytest.fixture
def charge(ctx, people):
    from engine import deploy
    deploy.deploy([("external.bpmn", BPMN.read_bytes())])
    db.session.commit()

    def start(center="center", amount=120):
        case = cases.start_case("api_charge", center=people[center], subject="Gebühr",
                                data={"amount": amount, "currency": "EUR"}, actor=people["anna"])
        db.session.commit()
        return case
    return start


@pytest.fixture
def service(ctx, people):
    from engine import users
    admin = users.ensure_user("ada", "Ada Admin", organisation=people["center"], groups=["admin"])
    koeln_admin = users.ensure_user("kim", "Kim Admin", organisation=people["other_center"], groups=["admin"])
    db.session.commit()

    def make(topics="charge", koeln=False):
        return api_tokens.create_service_account(koeln_admin if koeln else admin, "payments", topics)[1]
    return make


def worker(ctx, token, name):
    return CamundaWorker(ctx.test_client(), "/api/v1", name, token)


def test_round_trip_with_a_lock_that_expires_and_a_second_worker(charge, service, ctx, people):
    case = charge()
    token = service()
    first, second = worker(ctx, token, "worker-1"), worker(ctx, token, "worker-2")

    fetched = first.fetch_and_lock("charge", 10_000, variables=["amount"])
    assert fetched.status_code == 200, fetched.get_data(as_text=True)
    [task] = fetched.get_json()
    assert task["topicName"] == "charge" and task["workerId"] == "worker-1" and task["activityId"] == "charge"
    assert task["variables"] == {"amount": {"value": 120, "type": "Integer", "valueInfo": {}}}
    assert task["processInstanceId"] == case.reference and task["processDefinitionKey"] == "api_charge"
    assert task["lockExpirationTime"].endswith("+0000")
    assert second.fetch_and_lock("charge", 10_000).get_json() == []          # locked

    assert first.extend_lock(task["id"], 20_000).status_code == 204
    clock.advance(timedelta(seconds=21))                                       # the lock runs out
    refetched = second.fetch_and_lock("charge", 10_000).get_json()
    assert [t["id"] for t in refetched] == [task["id"]] and refetched[0]["workerId"] == "worker-2"
    assert refetched[0]["variables"]["currency"] == {"value": "EUR", "type": "String", "valueInfo": {}}

    late = first.complete(task["id"], {"receipt": "R-1"})                      # the first worker lost it
    assert late.status_code == 400 and late.content_type == "application/problem+json"   # Camunda: 400
    assert "worker-2" in late.get_json()["message"]
    done = second.complete(task["id"], {"receipt": "R-2", "paid": True})
    assert done.status_code == 204, done.get_data(as_text=True)

    db.session.expire_all()
    assert db.session.get(ExternalTask, task["id"]).state == "completed"
    review = db.session.query(HumanTask).filter_by(case_id=case.id, state="open").one()
    assert review.element_id == "review"
    anna = api_tokens.create_personal(people["anna"], "x", 1)[1]
    data = ctx.test_client().get(f"/api/v1/cases/{case.reference}",
                                 headers={"Authorization": f"Bearer {anna}"}).get_json()["data"]
    assert data["receipt"] == "R-2" and data["paid"] is True


def test_failure_with_retries_then_an_incident_and_a_retry(charge, service, ctx, people):
    case = charge()
    client = worker(ctx, service(), "w")
    [task] = client.fetch_and_lock("charge", 60_000).get_json()
    assert client.handle_failure(task["id"], "bank down", "trace", retries=1, retry_timeout=5_000).status_code == 204
    assert client.fetch_and_lock("charge", 60_000).get_json() == []             # waits out the timeout
    clock.advance(timedelta(seconds=6))
    [again] = client.fetch_and_lock("charge", 60_000).get_json()
    assert again["retries"] == 1 and again["errorMessage"] == "bank down" and again["errorDetails"] == "trace"
    assert client.handle_failure(again["id"], "still down", None, retries=0, retry_timeout=0).status_code == 204
    db.session.expire_all()
    assert db.session.get(Case, case.id).has_incident
    assert client.fetch_and_lock("charge", 60_000).get_json() == []

    anna = api_tokens.create_personal(people["anna"], "ops", 1)[1]
    http = ctx.test_client()
    [incident] = http.get("/api/v1/incidents", headers={"Authorization": f"Bearer {anna}"}).get_json()["items"]
    assert incident["task_id"] == task["id"]
    retried = http.post(f"/api/v1/incidents/{incident['id']}/retry", json={},
                        headers={"Authorization": f"Bearer {anna}"})
    assert retried.status_code == 200, retried.get_data(as_text=True)
    assert [t["id"] for t in client.fetch_and_lock("charge", 60_000).get_json()] == [task["id"]]


def test_bpmn_error_without_a_catching_event_is_an_incident(charge, service, ctx):
    case = charge()
    client = worker(ctx, service(), "w")
    [task] = client.fetch_and_lock("charge", 60_000).get_json()
    assert client.bpmn_error(task["id"], "BANK_CLOSED", "closed").status_code == 204
    db.session.expire_all()
    incident = db.session.query(Incident).filter_by(case_id=case.id).one()
    assert "BANK_CLOSED" in incident.message


def test_bpmn_error_caught_by_its_boundary_event_takes_that_path_with_the_variables(charge, service, ctx, people):
    case = charge()
    client = worker(ctx, service(), "w")
    [task] = client.fetch_and_lock("charge", 60_000).get_json()
    thrown = client._post(f"/external-task/{task['id']}/bpmnError", {
        "workerId": "w", "errorCode": "CARD_DECLINED", "errorMessage": "declined",
        "variables": {"declineReason": {"value": "expired", "type": "String"}}})
    assert thrown.status_code == 204, thrown.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(HumanTask).filter_by(case_id=case.id, state="open").one().element_id == "clarify"
    assert not db.session.get(Case, case.id).has_incident
    anna = api_tokens.create_personal(people["anna"], "x", 1)[1]
    data = ctx.test_client().get(f"/api/v1/cases/{case.reference}",
                                 headers={"Authorization": f"Bearer {anna}"}).get_json()["data"]
    assert data["declineReason"] == "expired"
    gone = client.complete(task["id"], {})                                      # Camunda: the task no longer exists
    assert gone.status_code == 404 and gone.get_json()["message"]


def test_service_accounts_reach_their_topics_at_their_center_only(charge, service, ctx, people):
    aachen, koeln = charge(), charge(center="other_center")
    other_topic = worker(ctx, service(topics="mail"), "w")
    assert other_topic.fetch_and_lock("charge", 60_000).get_json() == []
    koeln_worker = worker(ctx, service(koeln=True), "k")
    fetched = koeln_worker.fetch_and_lock("charge", 60_000, max_tasks=5).get_json()
    assert [t["processInstanceId"] for t in fetched] == [koeln.reference]
    aachen_task = db.session.query(ExternalTask).filter_by(case_id=aachen.id).one()
    assert koeln_worker.complete(aachen_task.id, {}).status_code == 404
    # a service account sees no case or task
    http, headers = ctx.test_client(), {"Authorization": f"Bearer {service()}"}
    assert http.get(f"/api/v1/cases/{aachen.reference}", headers=headers).status_code in (403, 404)
    assert http.get("/api/v1/tasks", headers=headers).status_code == 403
    # employers do not work external tasks
    jansen = api_tokens.create_personal(people["jansen"], "x", 1)[1]
    assert worker(ctx, jansen, "j").fetch_and_lock("charge", 1000).status_code == 403


def test_a_revoked_service_account_stops(charge, service, ctx, people):
    from engine import users
    charge()
    token = service()
    row = db.session.query(api_tokens.ApiToken).filter_by(kind="service").one()
    api_tokens.revoke_service_account(users.find_user("ada"), row.id)
    assert worker(ctx, token, "w").fetch_and_lock("charge", 1000).status_code == 401


def test_bad_requests_name_the_field(charge, service, ctx):
    client = worker(ctx, service(), "w")
    response = client._post("/external-task/fetchAndLock", {"workerId": "w", "maxTasks": 0,
                                                            "topics": [{"topicName": "charge"}]})
    assert response.status_code == 400                         # Camunda's InvalidRequestException is a 400
    problem = response.get_json()
    assert {e["field"] for e in problem["errors"]} == {"maxTasks", "topics.0.lockDuration"}
    assert problem["message"] == problem["detail"] and response.content_type == "application/problem+json"


def test_camunda_typed_variables_both_ways(charge, service, ctx, people):
    """Camunda's value/type shapes: what fetchAndLock sends for each kind of case value, and what complete
    takes (Json and Object values as their serialized text; localVariables become case data too)."""
    case = cases.start_case("api_charge", center=people["center"], subject="Typen", actor=people["anna"],
                            data={"big": 2**40, "ratio": 0.5, "none": None, "ok": True, "address": {"city": "Aachen"}})
    db.session.commit()
    client = worker(ctx, service(), "w")
    [task] = client.fetch_and_lock("charge", 60_000).get_json()
    assert task["variables"]["big"] == {"value": 2**40, "type": "Long", "valueInfo": {}}
    assert task["variables"]["ratio"] == {"value": 0.5, "type": "Double", "valueInfo": {}}
    assert task["variables"]["none"] == {"value": None, "type": "Null", "valueInfo": {}}
    assert task["variables"]["ok"] == {"value": True, "type": "Boolean", "valueInfo": {}}
    assert task["variables"]["address"]["type"] == "Json"
    assert json.loads(task["variables"]["address"]["value"]) == {"city": "Aachen"}
    assert all(set(v) == {"value", "type", "valueInfo"} for v in task["variables"].values())

    done = client._post(f"/external-task/{task['id']}/complete", {
        "workerId": "w",
        "variables": {"receipt": {"value": "R-9", "type": "String"},
                      "booking": {"value": "{\"id\": 7}", "type": "Json", "valueInfo": {}},
                      "paidAt": {"value": "2026-12-06T10:00:00.000+0100", "type": "Date"}},
        "localVariables": {"attempt": {"value": 1, "type": "Integer"}}})
    assert done.status_code == 204, done.get_data(as_text=True)
    anna = api_tokens.create_personal(people["anna"], "x", 1)[1]
    data = ctx.test_client().get(f"/api/v1/cases/{case.reference}",
                                 headers={"Authorization": f"Bearer {anna}"}).get_json()["data"]
    assert data["receipt"] == "R-9" and data["booking"] == {"id": 7} and data["attempt"] == 1
    assert data["paidAt"] == "2026-12-06T10:00:00.000+0100"

    bad = client._post(f"/external-task/{task['id']}/complete", {
        "workerId": "w", "variables": {"x": {"value": "{not json", "type": "Json"}}})
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "variables.x"


def test_lock_errors_answer_as_camunda_does(charge, service, ctx):
    """Another worker's task or an expired lock: 400 with Camunda's `message`; an unknown task: 404;
    extendLock moves lockExpirationTime; unlock hands the task to any worker."""
    charge()
    token = service()
    first, second = worker(ctx, token, "w1"), worker(ctx, token, "w2")
    [task] = first.fetch_and_lock("charge", 10_000).get_json()
    for response in (second.complete(task["id"], {}), second.extend_lock(task["id"], 5_000),
                     second.handle_failure(task["id"], "x", None, 1, 0), second.bpmn_error(task["id"], "CARD_DECLINED")):
        assert response.status_code == 400 and "'w1'" in response.get_json()["message"], response.get_json()
    assert first.complete("no-such-task", {}).status_code == 404

    before = task["lockExpirationTime"]
    clock.advance(timedelta(seconds=5))
    assert first.extend_lock(task["id"], 60_000).status_code == 204
    db.session.expire_all()
    assert db.session.get(ExternalTask, task["id"]).lock_expires_at > clock.now() + timedelta(seconds=59)
    assert before != db.session.get(ExternalTask, task["id"]).lock_expires_at
    clock.advance(timedelta(seconds=61))
    expired = first.extend_lock(task["id"], 60_000)
    assert expired.status_code == 400 and "expired" in expired.get_json()["message"]

    assert first._post(f"/external-task/{task['id']}/unlock", {}).status_code == 204
    assert [t["workerId"] for t in second.fetch_and_lock("charge", 10_000).get_json()] == ["w2"]


def test_a_filter_lotse_does_not_apply_is_refused_not_ignored(charge, service, ctx):
    """Camunda's topic filters (businessKey, processVariables, …) would narrow what is locked: ignored, a
    worker would lock tasks it did not ask for. Sent as null (Camunda's client, when unset) they are fine."""
    charge()
    client = worker(ctx, service(), "w")
    topic = {"topicName": "charge", "lockDuration": 1000, "businessKey": None, "processVariables": None,
             "tenantIdIn": None, "withoutTenantId": False, "includeExtensionProperties": True}
    asked = {"workerId": "w", "maxTasks": 1, "usePriority": True, "asyncResponseTimeout": None}
    refused = client._post("/external-task/fetchAndLock",
                           {**asked, "topics": [{**topic, "businessKey": "CRM-1", "processVariables": {"a": 1}}]})
    assert refused.status_code == 400
    assert {e["field"] for e in refused.get_json()["errors"]} == {"topics.0.businessKey", "topics.0.processVariables"}
    assert db.session.query(ExternalTask).filter(ExternalTask.worker_id.isnot(None)).count() == 0
    fetched = client._post("/external-task/fetchAndLock", {**asked, "topics": [topic]})
    assert fetched.status_code == 200 and len(fetched.get_json()) == 1


def test_a_failure_keeps_its_variables_as_camunda_does(charge, service, ctx, people):
    case = charge()
    client = worker(ctx, service(), "w")
    [task] = client.fetch_and_lock("charge", 60_000).get_json()
    failed = client._post(f"/external-task/{task['id']}/failure", {
        "workerId": "w", "errorMessage": "bank down", "retries": 2, "retryTimeout": 0,
        "variables": {"lastAttempt": {"value": "2026-12-06", "type": "String"}},
        "localVariables": {"attempts": {"value": 1, "type": "Integer"}}})
    assert failed.status_code == 204, failed.get_data(as_text=True)
    [again] = client.fetch_and_lock("charge", 60_000, variables=["lastAttempt", "attempts"]).get_json()
    assert again["retries"] == 2 and again["variables"] == {
        "lastAttempt": {"value": "2026-12-06", "type": "String", "valueInfo": {}},
        "attempts": {"value": 1, "type": "Integer", "valueInfo": {}}}
    gave_up = client._post(f"/external-task/{task['id']}/failure", {
        "workerId": "w", "errorMessage": "still down", "retries": 0,
        "variables": {"attempts": {"value": 2, "type": "Integer"}}})
    assert gave_up.status_code == 204
    db.session.expire_all()
    assert db.session.get(Case, case.id).has_incident
    anna = api_tokens.create_personal(people["anna"], "x", 1)[1]
    data = ctx.test_client().get(f"/api/v1/cases/{case.reference}",
                                 headers={"Authorization": f"Bearer {anna}"}).get_json()["data"]
    assert data["attempts"] == 2


# --- reading and administering them: Camunda's query, count, one task, retries, priority ----------------------

DTO = {"activityId", "activityInstanceId", "errorMessage", "executionId", "id", "lockExpirationTime", "createTime",
       "processDefinitionId", "processDefinitionKey", "processDefinitionVersionTag", "processInstanceId", "tenantId",
       "retries", "suspended", "workerId", "topicName", "priority", "businessKey"}


def _ids(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [task["id"] for task in response.get_json()]


def test_the_query_answers_camunda_shapes_with_each_filter_paging_and_the_count(charge, service, ctx, people):
    first = charge()
    clock.advance(timedelta(seconds=1))                  # one after the other: the oldest first
    second = charge(amount=80)
    clock.advance(timedelta(seconds=1))
    keyed = cases.start_case("api_charge", center=people["center"], subject="CRM-7", actor=people["anna"],
                             data={"amount": 10, "businessKey": "CRM-7"})
    charge(center="other_center")
    db.session.commit()
    client = worker(ctx, service(), "w1")
    task_of = {c.reference: db.session.query(ExternalTask).filter_by(case_id=c.id).one().id
               for c in (first, second, keyed)}
    a, b, k = task_of[first.reference], task_of[second.reference], task_of[keyed.reference]
    assert client.set_priority(k, 50).status_code == 204
    [locked] = client.fetch_and_lock("charge", 60_000).get_json()             # the highest priority first
    assert locked["id"] == k
    clock.advance(timedelta(seconds=1))
    assert client.handle_failure(a, "x", None, 0, 0).status_code == 400      # not locked by w1: refused
    [then] = client.fetch_and_lock("charge", 60_000).get_json()
    assert then["id"] == a and client.handle_failure(a, "bank down", "trace", 0, 0).status_code == 204

    every = client.query()
    assert _ids(every) == [a, b, k]                                           # the oldest first
    by_id = {task["id"]: task for task in every.get_json()}
    assert all(set(task) == DTO for task in by_id.values())
    assert by_id[k] == {**by_id[k], "workerId": "w1", "topicName": "charge", "activityId": "charge",
                        "processInstanceId": keyed.reference, "processDefinitionId": "api_charge",
                        "processDefinitionKey": "api_charge", "executionId": k, "priority": 50, "retries": None,
                        "errorMessage": None, "tenantId": None, "suspended": False, "businessKey": "CRM-7"}
    assert by_id[k]["lockExpirationTime"].endswith("+0000") and by_id[b]["lockExpirationTime"] is None
    assert (by_id[a]["retries"], by_id[a]["errorMessage"], by_id[a]["businessKey"]) == (0, "bank down", None)
    assert client.task(k).get_json() == by_id[k]

    expected = {
        (("locked", "true"),): [k], (("notLocked", "true"),): [a, b], (("locked", "false"),): [a, b, k],
        (("workerId", "w1"),): [k], (("topicName", "charge"),): [a, b, k], (("topicName", "mail"),): [],
        (("noRetriesLeft", "true"),): [a], (("withRetriesLeft", "true"),): [b, k],
        (("processInstanceId", second.reference),): [b], (("processInstanceIdIn", f"{first.reference},{keyed.reference}"),): [a, k],
        (("externalTaskIdIn", f"{a},{b}"), ("externalTaskId", b)): [b], (("executionId", k),): [k],
        (("activityId", "charge"),): [a, b, k], (("activityIdIn", "review,other"),): [],
        (("processDefinitionId", "api_charge"),): [a, b, k], (("priorityHigherThanOrEquals", "1"),): [k],
        (("priorityLowerThanOrEquals", "0"),): [a, b], (("tenantIdIn", "t1"),): [], (("suspended", "true"),): [],
        (("lockExpirationAfter", (clock.now() + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")),): [k],
        (("lockExpirationBefore", "2100-01-01T00:00:00.000+0100"),): [k],
        (("sortBy", "taskPriority"), ("sortOrder", "desc")): [k, a, b],
        (("sortBy", "processInstanceId"), ("sortOrder", "desc")): [k, b, a],
        (("firstResult", "1"), ("maxResults", "1")): [b], (("firstResult", "2"),): [k], (("maxResults", "0"),): []}
    for params, ids in expected.items():
        assert _ids(client.query(**dict(params))) == ids, params
        counted = client.count(**{name: value for name, value in params if not name.startswith(("sort", "first", "max"))})
        if not any(name.startswith(("first", "max")) for name, _ in params):
            assert counted.get_json() == {"count": len(ids)}, params


def test_bad_query_parameters_get_camundas_400_naming_them(charge, service, ctx):
    charge()
    client = worker(ctx, service(), "w")
    for params, field in (({"sortBy": "id"}, "sortOrder"), ({"sortBy": "name", "sortOrder": "asc"}, "sortBy"),
                          ({"maxResults": "-1"}, "maxResults"), ({"locked": "maybe"}, "locked"),
                          ({"lockExpirationAfter": "yesterday"}, "lockExpirationAfter"),
                          ({"lockExpirationBefore": "2026-12-06T10:00:00"}, "lockExpirationBefore"),       # no offset
                          ({"lockExpirationAfter": "9999-12-31T23:00:00.000-1400"}, "lockExpirationAfter"),
                          ({"priorityHigherThanOrEquals": str(2**40)}, "priorityHigherThanOrEquals")):
        response = client.query(**params)
        assert response.status_code == 400 and response.content_type == "application/problem+json", params
        assert [e["field"] for e in response.get_json()["errors"]] == [field] and response.get_json()["message"]
    assert client.count(noRetriesLeft="x").status_code == 400


def test_reads_and_retries_reach_the_accounts_topics_at_its_center_only(charge, service, ctx, people):
    aachen, koeln = charge(), charge(center="other_center")
    aachen_task = db.session.query(ExternalTask).filter_by(case_id=aachen.id).one().id
    koeln_task = db.session.query(ExternalTask).filter_by(case_id=koeln.id).one().id
    koeln_worker = worker(ctx, service(koeln=True), "k")
    assert _ids(koeln_worker.query()) == [koeln_task] and koeln_worker.count().get_json() == {"count": 1}
    for response in (koeln_worker.task(aachen_task), koeln_worker.set_retries(aachen_task, 0),
                     koeln_worker.set_priority(aachen_task, 9)):
        assert response.status_code == 404 and response.get_json()["message"]
    other_topic = worker(ctx, service(topics="mail"), "m")
    assert _ids(other_topic.query()) == [] and other_topic.count().get_json() == {"count": 0}
    assert other_topic.task(aachen_task).status_code == 404 and other_topic.set_retries(aachen_task, 3).status_code == 404
    # center staff: every topic of their center; employers: none
    anna = worker(ctx, api_tokens.create_personal(people["anna"], "x", 1)[1], "a")
    assert _ids(anna.query()) == [aachen_task] and anna.task(aachen_task).get_json()["id"] == aachen_task
    jansen = worker(ctx, api_tokens.create_personal(people["jansen"], "x", 1)[1], "j")
    assert jansen.query().status_code == 403 and jansen.count().status_code == 403
    assert jansen.task(aachen_task).status_code == 404 and jansen.set_retries(aachen_task, 1).status_code == 404
    db.session.expire_all()
    unchanged = db.session.get(ExternalTask, aachen_task)
    assert (unchanged.retries, unchanged.priority) == (None, 0) and not db.session.get(Case, aachen.id).has_incident
    # an ended task no longer exists, as in Camunda
    aachen_worker = worker(ctx, service(), "w")
    [task] = aachen_worker.fetch_and_lock("charge", 60_000).get_json()
    assert aachen_worker.complete(task["id"], {}).status_code == 204
    assert aachen_worker.task(task["id"]).status_code == 404 and aachen_worker.set_retries(task["id"], 1).status_code == 404
    assert _ids(aachen_worker.query()) == []


def test_retries_to_0_raise_an_incident_and_more_resolve_it(charge, service, ctx, people):
    """Set Retries as Camunda defines it: 0 is an incident and the task is no longer fetched; retries on a task
    with an incident resolve it and workers fetch it again; on a task still running they only change the count."""
    case = charge()
    client = worker(ctx, service(), "w")
    [task] = client.fetch_and_lock("charge", 60_000).get_json()
    assert client.set_retries(task["id"], 3).status_code == 204               # running: its lock stays
    assert client.task(task["id"]).get_json()["retries"] == 3 and client.fetch_and_lock("charge", 60_000).get_json() == []
    assert client.extend_lock(task["id"], 60_000).status_code == 204

    assert client.set_retries(task["id"], 0).status_code == 204
    db.session.expire_all()
    assert db.session.get(Case, case.id).has_incident
    [incident] = db.session.query(Incident).filter_by(case_id=case.id, resolved_at=None).all()
    assert incident.task_id == task["id"] and "0" in incident.message
    assert client.fetch_and_lock("charge", 60_000).get_json() == []
    assert client.task(task["id"]).get_json()["retries"] == 0
    assert _ids(client.query(noRetriesLeft="true")) == [task["id"]]
    assert client.set_retries(task["id"], 0).status_code == 204               # none left already: no second incident
    assert db.session.query(Incident).filter_by(case_id=case.id).count() == 1

    for body in ({"retries": -1}, {"retries": None}, {"retries": "2"}, {}):
        refused = client._send("put", f"/external-task/{task['id']}/retries", json=body)
        assert refused.status_code == 400 and refused.get_json()["errors"][0]["field"] == "retries", body
    assert client.set_retries("no-such-task", 1).status_code == 404

    assert client.set_retries(task["id"], 2).status_code == 204
    db.session.expire_all()
    assert not db.session.get(Case, case.id).has_incident
    assert db.session.get(Incident, incident.id).resolved_at is not None
    [again] = client.fetch_and_lock("charge", 60_000).get_json()
    assert again["id"] == task["id"] and again["retries"] == 2
    assert client.complete(task["id"], {"receipt": "R-3"}).status_code == 204
    db.session.expire_all()
    assert db.session.query(HumanTask).filter_by(case_id=case.id, state="open").one().element_id == "review"


def test_retries_after_a_worker_gave_up_make_the_task_fetchable_again(charge, service, ctx):
    case = charge()
    client = worker(ctx, service(), "w")
    [task] = client.fetch_and_lock("charge", 60_000).get_json()
    assert client.handle_failure(task["id"], "bank down", None, retries=0, retry_timeout=0).status_code == 204
    assert _ids(client.query(withRetriesLeft="true")) == [] and client.count(noRetriesLeft="true").get_json() == {"count": 1}
    assert client.set_retries(task["id"], 1).status_code == 204
    db.session.expire_all()
    assert not db.session.get(Case, case.id).has_incident
    assert [t["id"] for t in client.fetch_and_lock("charge", 60_000).get_json()] == [task["id"]]
