"""Camunda 7 files as their users write them: JUEL, service and external tasks, forms, refusals by name."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import cases, clock, deploy, external_tasks, juel, messages, state
from engine.db import db
from engine.errors import Conflict, DeploymentRejected, InvalidData, NotFound
from engine.external_tasks import Topic
from engine.models import Case, ExternalTask, FormVersion, HumanTask, Incident

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'id="defs" targetNamespace="http://bpmn.io/schema/bpmn">\n')


def diagram(process_id, body, extra=""):
    return f'{HEAD}<bpmn:process id="{process_id}" isExecutable="true">{body}</bpmn:process>{extra}</bpmn:definitions>'


def flow(flow_id, source, target, condition=None):
    if condition is None:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>'
    return (f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
            '</bpmn:sequenceFlow>')


PAYMENT = diagram("payment", "".join([
    '<bpmn:startEvent id="start"/>', flow("f1", "start", "charge"),
    '<bpmn:serviceTask id="charge" name="Charge card" camunda:type="external" camunda:topic="charge" '
    'camunda:taskPriority="5"/>',
    '<bpmn:boundaryEvent id="declined" attachedToRef="charge"><bpmn:errorEventDefinition errorRef="err"/>'
    '</bpmn:boundaryEvent>', flow("f5", "declined", "call"),
    '<bpmn:userTask id="call" name="Call the customer" camunda:candidateGroups="${team}"/>', flow("f6", "call", "end2"),
    '<bpmn:endEvent id="end2"/>',
    flow("f2", "charge", "gw"), '<bpmn:exclusiveGateway id="gw"/>',
    flow("big", "gw", "double", "${charged &amp;&amp; amount &gt; 100}"),
    flow("small", "gw", "end", "#{!charged || amount le 100}"),
    '<bpmn:serviceTask id="double" name="Double" camunda:expression="${amount * 2}" camunda:resultVariable="twice"/>',
    flow("f7", "double", "end"), '<bpmn:endEvent id="end"/>']),
    '<bpmn:error id="err" name="Card declined" errorCode="DECLINED"/>')


def deploy_text(*files):
    result = deploy.deploy([(name, text.encode()) for name, text in files])
    db.session.commit()
    return result


def refusal(*files) -> str:
    with pytest.raises(DeploymentRejected) as caught:
        deploy.deploy([(name, text.encode()) for name, text in files])
    return "\n".join(str(problem) for problem in caught.value.problems)


def reloaded(case_id) -> Case:
    db.session.expire_all()
    state.spec_cache.clear()
    return db.session.get(Case, case_id)


def data(case_id) -> dict:
    from engine import casedata
    return casedata.current(state.load(reloaded(case_id)))


# --- JUEL ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, python", [
    ("${amount > 100 && !empty name}", "((amount > 100) and (not (name is None or name in ('', [], {}))))"),
    ("#{approved}", "approved"),
    ("${customer.address.city eq 'Aachen' or not vip}", "((customer['address']['city'] == 'Aachen') or (not vip))"),
    ("${x div 2 mod 3 ge 1 ? 'a' : 'b'}", "('a' if (((x / 2) % 3) >= 1) else 'b')"),
    ("${items[0].price * 1.19}", "(items[0]['price'] * 1.19)"),
    ("${null == x}", "(None == x)"),
])
def test_juel_becomes_a_sandbox_expression(text, python):
    assert juel.translate(text) == python


@pytest.mark.parametrize("text, message", [
    ("${orderService.isValid(order)}", "JUEL method calls are not supported (orderService.isValid(…))"),
    ("${execution.getVariable('x')}", "'execution' is Camunda's engine object"),
    ("${dateTime().plusDays(1)}", "JUEL method calls are not supported (dateTime(…))"),
    ("${a >}", "unexpected 'the end'"),
    ("Hello ${name}", "mixed text"),
])
def test_juel_beyond_the_subset_is_refused_with_the_reason(text, message):
    with pytest.raises(juel.JuelError) as caught:
        juel.translate(text)
    assert message in str(caught.value)
    assert "SyntaxError" not in str(caught.value)


def test_a_juel_method_call_is_refused_at_deploy_naming_the_sequence_flow(ctx):
    text = diagram("p", '<bpmn:startEvent id="s"/>' + flow("f1", "s", "gw") + '<bpmn:exclusiveGateway id="gw"/>'
                   + flow("checked", "gw", "e", "${orderService.isValid(order)}") + flow("other", "gw", "e", "${true}")
                   + '<bpmn:endEvent id="e"/>')
    message = refusal(("p.bpmn", text))
    assert "[checked]" in message and "JUEL method calls are not supported" in message
    assert "SyntaxError" not in message


# --- service tasks, external tasks ---------------------------------------------------------------------

def test_an_external_task_waits_for_a_worker_who_completes_it(people):
    deploy_text(("payment.bpmn", PAYMENT))
    case = cases.start_case("payment", center=people["center"], data={"amount": 150, "team": "advisor"})
    case_id = case.id
    assert reloaded(case_id).status == "active" and not reloaded(case_id).has_incident
    row = db.session.scalar(select(ExternalTask))
    assert (row.topic, row.element_id, row.state, row.priority) == ("charge", "charge", "open", 5)

    [locked] = external_tasks.fetch_and_lock("worker-1", [Topic("charge", 30_000, ["amount"])])
    assert (locked.id, locked.variables, locked.case_reference) == (row.id, {"amount": 150}, case.reference)
    assert locked.lock_expires_at == clock.now() + timedelta(seconds=30)
    assert external_tasks.fetch_and_lock("worker-2", [Topic("charge", 30_000)]) == []     # locked
    with pytest.raises(Conflict, match="locked by worker 'worker-1'"):
        external_tasks.complete(row.id, "worker-2", {"charged": True})

    external_tasks.complete(row.id, "worker-1", {"charged": True})
    assert reloaded(case_id).status == "completed"
    assert data(case_id)["twice"] == 300                            # ${amount * 2} into camunda:resultVariable
    assert db.session.get(ExternalTask, row.id).state == "completed"


def test_an_expired_lock_lets_another_worker_fetch_the_task(people):
    deploy_text(("payment.bpmn", PAYMENT))
    cases.start_case("payment", center=people["center"], data={"amount": 50, "team": "advisor"})
    [first] = external_tasks.fetch_and_lock("worker-1", [Topic("charge", 1_000)])
    external_tasks.extend_lock(first.id, "worker-1", 5_000)
    clock.advance(timedelta(seconds=4))
    assert external_tasks.fetch_and_lock("worker-2", [Topic("charge", 1_000)]) == []
    clock.advance(timedelta(seconds=2))
    with pytest.raises(Conflict, match="expired"):
        external_tasks.extend_lock(first.id, "worker-1", 5_000)
    [second] = external_tasks.fetch_and_lock("worker-2", [Topic("charge", 1_000)])
    assert second.id == first.id and second.worker_id == "worker-2"


def test_failures_with_retries_and_an_incident_when_they_run_out(people):
    deploy_text(("payment.bpmn", PAYMENT))
    case_id = cases.start_case("payment", center=people["center"], data={"amount": 50, "team": "advisor"}).id
    [task] = external_tasks.fetch_and_lock("w", [Topic("charge", 60_000)])
    external_tasks.handle_failure(task.id, "w", "gateway timeout", "stack", retries=1, retry_timeout_ms=10_000)
    assert external_tasks.fetch_and_lock("w", [Topic("charge", 60_000)]) == []          # waits for the timeout
    clock.advance(timedelta(seconds=11))
    [again] = external_tasks.fetch_and_lock("w", [Topic("charge", 60_000)])
    assert (again.retries, again.error_message) == (1, "gateway timeout")
    external_tasks.handle_failure(task.id, "w", "still down", retries=0)
    assert reloaded(case_id).has_incident
    incident = db.session.scalar(select(Incident).where(Incident.case_id == case_id))
    assert incident.element_id == "charge" and "still down" in incident.message
    assert external_tasks.fetch_and_lock("w", [Topic("charge", 60_000)]) == []          # no retries left

    external_tasks.set_retries(task.id, 2)
    assert not reloaded(case_id).has_incident
    [fetched] = external_tasks.fetch_and_lock("w", [Topic("charge", 60_000)])
    external_tasks.complete(fetched.id, "w", {"charged": False})
    assert reloaded(case_id).status == "completed" and "twice" not in data(case_id)


def test_a_bpmn_error_is_caught_by_the_boundary_event_with_its_code(people):
    deploy_text(("payment.bpmn", PAYMENT))
    case_id = cases.start_case("payment", center=people["center"], data={"amount": 50, "team": "advisor"}).id
    [task] = external_tasks.fetch_and_lock("w", [Topic("charge", 60_000)])
    external_tasks.bpmn_error(task.id, "w", "DECLINED", "card expired", {"reason": "expired"})
    assert db.session.get(ExternalTask, task.id).state == "cancelled"
    [call] = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id)).all()
    assert call.title == "Call the customer" and call.candidate_groups == ["advisor"]    # ${team}
    assert data(case_id)["reason"] == "expired"


def test_an_uncaught_bpmn_error_is_an_incident(people):
    deploy_text(("payment.bpmn", PAYMENT))
    case_id = cases.start_case("payment", center=people["center"], data={"amount": 50, "team": "advisor"}).id
    [task] = external_tasks.fetch_and_lock("w", [Topic("charge", 60_000)])
    external_tasks.bpmn_error(task.id, "w", "FRAUD")
    assert reloaded(case_id).has_incident and reloaded(case_id).status == "active"
    assert "FRAUD" in db.session.scalar(select(Incident.message).where(Incident.case_id == case_id))


def test_bad_worker_input_is_refused_by_name(people):
    deploy_text(("payment.bpmn", PAYMENT))
    cases.start_case("payment", center=people["center"], data={"amount": 50, "team": "advisor"})
    with pytest.raises(InvalidData, match="workerId"):
        external_tasks.fetch_and_lock("", [Topic("charge", 1000)])
    with pytest.raises(InvalidData, match="lockDuration"):
        external_tasks.fetch_and_lock("w", [Topic("charge", -1)])
    with pytest.raises(NotFound):
        external_tasks.complete("00000000-0000-0000-0000-000000000000", "w")
    [task] = external_tasks.fetch_and_lock("w", [Topic("charge", 1000)])
    with pytest.raises(InvalidData):
        external_tasks.complete(task.id, "w", {"typename": "x"})


def test_a_cancelled_case_cancels_its_external_task(people):
    deploy_text(("payment.bpmn", PAYMENT))
    case = cases.start_case("payment", center=people["center"], data={"amount": 50, "team": "advisor"})
    cases.cancel_case(case.id, people["sara"], "test")
    assert db.session.scalar(select(ExternalTask.state)) == "cancelled"
    assert external_tasks.fetch_and_lock("w", [Topic("charge", 1000)]) == []


# --- refusals by name, at any depth -------------------------------------------------------------------

def test_what_lotse_cannot_run_is_refused_naming_element_and_feature(ctx):
    inner = "".join([
        '<bpmn:startEvent id="in_start"/>', flow("i1", "in_start", "groovy"),
        '<bpmn:scriptTask id="groovy" scriptFormat="groovy"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>',
        flow("i2", "groovy", "java"),
        '<bpmn:serviceTask id="java" camunda:delegateExpression="${mailDelegate}"/>', flow("i3", "java", "bare"),
        '<bpmn:sendTask id="bare"/>', flow("i4", "bare", "in_end"), '<bpmn:endEvent id="in_end"/>',
        '<bpmn:dataStoreReference id="crm"/>',
        '<bpmn:businessRuleTask id="undecided"/>',
        '<bpmn:scriptTask id="returns" camunda:resultVariable="r"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>',
        '<bpmn:boundaryEvent id="undo" attachedToRef="groovy"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>',
        '<bpmn:userTask id="listened"><bpmn:extensionElements><camunda:taskListener event="create" '
        'class="org.example.Notify"/></bpmn:extensionElements></bpmn:userTask>'])
    text = diagram("p", '<bpmn:startEvent id="s"/>' + flow("f1", "s", "sub") + f'<bpmn:subProcess id="sub">{inner}'
                   '</bpmn:subProcess>' + flow("f2", "sub", "e") + '<bpmn:endEvent id="e"/>')
    message = refusal(("p.bpmn", text))
    for expected in ("[groovy]", "scripts in groovy are not supported",
                     "[java]", "camunda:delegateExpression=\"${mailDelegate}\"",
                     "[bare]", "names no implementation",
                     "[crm]", "data stores are not supported",
                     "[undecided]", "names no decision", "[returns]", "camunda:resultVariable is not supported",
                     "[undo]", "compensation is not supported",
                     "[listened]", "camunda:taskListener", 'class="org.example.Notify"'):
        assert expected in message
    assert "Traceback" not in message


def test_a_javascript_script_task_no_longer_runs_as_python(ctx):
    text = diagram("p", '<bpmn:startEvent id="s"/>' + flow("f1", "s", "js")
                   + '<bpmn:scriptTask id="js" scriptFormat="javascript"><bpmn:script>x = 1</bpmn:script>'
                   '</bpmn:scriptTask>' + flow("f2", "js", "e") + '<bpmn:endEvent id="e"/>')
    assert "[js]" in refusal(("p.bpmn", text)) and "javascript" in refusal(("p.bpmn", text))


# --- timers as Camunda writes them ---------------------------------------------------------------------

@pytest.mark.parametrize("text, python", [("P7D", "'P7D'"), ("2027-03-01T09:00", "'2027-03-01T09:00'"),
                                          ("R3/PT1H", "'R3/PT1H'"), ("${reminder}", "reminder"),
                                          ('"P14D"', '"P14D"'), ("followup_at", "followup_at")])
def test_timer_texts_as_camunda_and_lotse_write_them(text, python):
    from engine import dialect
    assert dialect.timer(text) == python


def test_a_duration_literal_timer_fires(people):
    text = diagram("wait", '<bpmn:startEvent id="s"/>' + flow("f1", "s", "t")
                   + '<bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition><bpmn:timeDuration '
                   'xsi:type="bpmn:tFormalExpression">P7D</bpmn:timeDuration></bpmn:timerEventDefinition>'
                   '</bpmn:intermediateCatchEvent>' + flow("f2", "t", "e") + '<bpmn:endEvent id="e"/>')
    deploy_text(("wait.bpmn", text))
    case_id = cases.start_case("wait", center=people["center"]).id
    assert reloaded(case_id).next_timer_at == clock.now() + timedelta(days=7)
    clock.advance(timedelta(days=7, seconds=1))
    cases.wake(case_id)
    assert reloaded(case_id).status == "completed"


# --- forms ----------------------------------------------------------------------------------------------

FORM_DATA = diagram("loan", "".join([
    '<bpmn:startEvent id="s"/>', flow("f1", "s", "approve"),
    '<bpmn:userTask id="approve" name="Approve" camunda:candidateGroups="advisor"><bpmn:extensionElements>'
    '<camunda:formData>'
    '<camunda:formField id="amount" label="Amount" type="long" defaultValue="1000"><camunda:validation>'
    '<camunda:constraint name="required"/><camunda:constraint name="max" config="50000"/></camunda:validation>'
    '</camunda:formField>'
    '<camunda:formField id="kind" label="Kind" type="enum"><camunda:value id="a" name="A"/>'
    '<camunda:value id="b" name="B"/></camunda:formField>'
    '<camunda:formField id="ok" label="Approve?" type="boolean"/>'
    '<camunda:formField id="due" label="Due" type="date"/>'
    '<camunda:formField id="note" label="Note" type="string"><camunda:validation>'
    '<camunda:constraint name="maxlength" config="20"/></camunda:validation></camunda:formField>'
    '</camunda:formData></bpmn:extensionElements></bpmn:userTask>', flow("f2", "approve", "embedded"),
    '<bpmn:userTask id="embedded" name="Check" camunda:formKey="embedded:app:forms/check.html" '
    'camunda:assignee="demo"><bpmn:documentation>Check the documents.</bpmn:documentation></bpmn:userTask>',
    flow("f3", "embedded", "e"), '<bpmn:endEvent id="e"/>']))


def test_form_data_becomes_a_form_and_other_keys_a_generic_page(people):
    from engine.forms import validate_submission
    from engine.pages import load_form
    result = deploy_text(("loan.bpmn", FORM_DATA))
    messages_ = [str(w) for w in result.warnings]
    assert any("[embedded]" in m and "camunda:formKey 'embedded:app:forms/check.html'" in m for m in messages_)
    assert any("[embedded]" in m and "'demo'" in m and "no active user" in m for m in messages_)
    form = db.session.scalar(select(FormVersion).where(FormVersion.key == "loan.approve"))
    assert [c["type"] for c in form.schema["components"]] == ["number", "select", "checkbox", "datetime", "textfield"]
    case_id = cases.start_case("loan", center=people["center"]).id
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case_id))
    definition = load_form(task.form_version_id)
    values, errors = validate_submission(definition, {"amount": "60000", "kind": "c", "note": "x" * 21})
    assert set(errors) == {"amount", "kind", "note"}
    values, errors = validate_submission(definition, {"amount": "2000", "kind": "a", "ok": "on", "due": "2027-01-02"})
    assert not errors
    cases.complete_task(task.id, values, actor=people["anna"])
    generic = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "open"))
    assert generic.form_version_id is None and generic.candidate_groups == ["advisor"]     # no user 'demo'
    cases.complete_task(generic.id, {}, actor=people["ben"])
    assert reloaded(case_id).status == "completed" and data(case_id)["amount"] == 2000


def test_a_camunda_forms_key_names_a_deployed_form_file(people):
    form = ('{"id": "approval", "type": "default", "components": [{"type": "checkbox", "key": "approved", '
            '"label": "Approved", "id": "f1"}]}')
    text = diagram("inv", '<bpmn:startEvent id="s"/>' + flow("f1", "s", "t")
                   + '<bpmn:userTask id="t" camunda:formKey="camunda-forms:deployment:approval.form" '
                   'camunda:candidateGroups="advisor"/>' + flow("f2", "t", "e") + '<bpmn:endEvent id="e"/>')
    deploy_text(("inv.bpmn", text), ("approval.form", form))
    case_id = cases.start_case("inv", center=people["center"]).id
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case_id))
    assert task.form_key == "approval" and task.form_version_id is not None


# --- correlation from outside ---------------------------------------------------------------------------

WAITS = diagram("order", '<bpmn:startEvent id="s"/>' + flow("f1", "s", "paid")
                + '<bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="m"/>'
                '</bpmn:intermediateCatchEvent>' + flow("f2", "paid", "e") + '<bpmn:endEvent id="e"/>',
                '<bpmn:message id="m" name="PaymentReceived"/>')
STARTS = diagram("refund", '<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="r"/></bpmn:startEvent>'
                 + flow("f1", "s", "t") + '<bpmn:userTask id="t" name="Refund" camunda:candidateGroups="advisor"/>'
                 + flow("f2", "t", "e") + '<bpmn:endEvent id="e"/>', '<bpmn:message id="r" name="RefundRequested"/>')


def test_a_message_from_outside_reaches_the_case_its_keys_name(people):
    deploy_text(("order.bpmn", WAITS), ("refund.bpmn", STARTS))
    first = cases.start_case("order", center=people["center"], data={"orderId": "A-1"}).id
    second = cases.start_case("order", center=people["center"], data={"orderId": "A-2"}).id
    with pytest.raises(Conflict, match="2 cases wait"):
        messages.correlate("PaymentReceived")
    case = messages.correlate("PaymentReceived", {"orderId": "A-2"}, {"paidAt": "2027-01-01"})
    assert case.id == second and reloaded(second).status == "completed" and reloaded(first).status == "active"
    assert data(second)["paidAt"] == "2027-01-01"
    with pytest.raises(NotFound, match="no case waits"):
        messages.correlate("PaymentReceived", {"orderId": "A-9"})

    started = messages.correlate("RefundRequested", {"orderId": "A-1"}, {"amount": 10}, center=people["center"])
    assert started.definition.key == "refund" and data(started.id) == {"orderId": "A-1", "amount": 10}
    assert db.session.scalar(select(HumanTask.title).where(HumanTask.case_id == started.id)) == "Refund"


# --- cron cycles and timer start events -------------------------------------------------------------------

def test_quartz_cron_cycles_read_as_camunda_writes_them():
    from datetime import datetime, timezone
    from engine import cron
    assert cron.quartz_to_croniter("0 0 9 ? * 2-6") == "0 0 9 * * 1-5"          # Quartz: 1 is Sunday
    monday_nine_berlin = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)
    assert cron.next_after("0 0 9 ? * MON-FRI", datetime(2026, 12, 5, 12, tzinfo=timezone.utc)) == monday_nine_berlin
    with pytest.raises(cron.CronError, match="names years"):
        cron.quartz_to_croniter("0 0 9 * * ? 2027")


def test_a_cron_boundary_timer_repeats(people):
    text = diagram("remind", '<bpmn:startEvent id="s"/>' + flow("f1", "s", "work")
                   + '<bpmn:userTask id="work" name="Work" camunda:candidateGroups="advisor"/>'
                   '<bpmn:boundaryEvent id="nag" cancelActivity="false" attachedToRef="work"><bpmn:timerEventDefinition>'
                   '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">0 0 9 * * ?</bpmn:timeCycle>'
                   '</bpmn:timerEventDefinition></bpmn:boundaryEvent>' + flow("f3", "nag", "log")
                   + '<bpmn:scriptTask id="log"><bpmn:script>nagged = True</bpmn:script></bpmn:scriptTask>' + flow("f4", "log", "e2") + '<bpmn:endEvent id="e2"/>'
                   + flow("f2", "work", "e") + '<bpmn:endEvent id="e"/>')
    deploy_text(("remind.bpmn", text))
    clock.freeze(datetime(2026, 12, 7, 7, 0, tzinfo=timezone.utc))           # 08:00 in Berlin
    case_id = cases.start_case("remind", center=people["center"]).id
    assert reloaded(case_id).next_timer_at == datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)
    clock.advance(timedelta(hours=1, seconds=1))
    cases.wake(case_id)
    assert reloaded(case_id).next_timer_at == datetime(2026, 12, 8, 8, 0, tzinfo=timezone.utc)
    assert reloaded(case_id).status == "active" and not reloaded(case_id).has_incident
    assert data(case_id)["nagged"] is True


START_DAILY = diagram("daily", '<bpmn:startEvent id="every_morning"><bpmn:timerEventDefinition><bpmn:timeCycle '
                      'xsi:type="bpmn:tFormalExpression">0 0 9 * * ?</bpmn:timeCycle></bpmn:timerEventDefinition>'
                      '</bpmn:startEvent>' + flow("f1", "every_morning", "t")
                      + '<bpmn:userTask id="t" name="Morning check" camunda:candidateGroups="advisor"/>'
                      + flow("f2", "t", "e") + '<bpmn:endEvent id="e"/>')


def test_a_timer_start_event_starts_one_case_per_center_each_time_exactly_once(people):
    from engine import timer_starts, timers
    from engine.models import TimerStart
    clock.freeze(datetime(2026, 12, 7, 7, 0, tzinfo=timezone.utc))
    deploy_text(("daily.bpmn", START_DAILY))
    row = db.session.scalar(select(TimerStart))
    assert (row.kind, row.next_at, row.remaining) == ("cron", datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc), -1)
    with pytest.raises(InvalidData, match="its timer fires"):
        cases.start_case("daily", center=people["center"])
    assert timers.start_timer_cases() == 0
    clock.advance(timedelta(hours=1, seconds=1))
    assert timer_starts.claim_due() == 1
    assert timer_starts.claim_due() == 0                                     # claimed once, by one sweeper
    assert timers.start_timer_cases() == 2                                   # one per center (Aachen, Köln)
    started = db.session.scalars(select(Case).order_by(Case.id)).all()
    assert [(c.center_id, c.status) for c in started] == [(people["center"].id, "active"),
                                                          (people["other_center"].id, "active")]
    tasks = db.session.scalars(select(HumanTask)).all()
    assert {t.title for t in tasks} == {"Morning check"}
    aachen = next(t for t in tasks if t.case_id == started[0].id)      # anna works at Aachen only
    cases.complete_task(aachen.id, {}, actor=people["anna"])
    assert reloaded(aachen.case_id).status == "completed"
    assert timers.start_timer_cases() == 0
    assert db.session.scalar(select(TimerStart.next_at)) == datetime(2026, 12, 8, 8, 0, tzinfo=timezone.utc)


class WorkerCrashed(BaseException):
    """A worker dying (not an error the sweep catches): nothing after it runs in that worker."""


@pytest.mark.parametrize("crash_at_start", [1, 2])          # before any case of the round, or after the first
def test_a_round_claimed_by_a_worker_that_crashes_is_started_by_the_next_sweep_exactly_once(
        people, monkeypatch, crash_at_start):
    from engine import timers
    from engine.models import TimerStart, TimerStartRound
    clock.freeze(datetime(2026, 12, 7, 7, 0, tzinfo=timezone.utc))
    deploy_text(("daily.bpmn", START_DAILY))
    clock.advance(timedelta(hours=1, seconds=1))
    real_start, calls = cases.start_case, []

    def crashing_start(*args, **kwargs):
        calls.append(kwargs["center"])
        if len(calls) == crash_at_start:
            raise WorkerCrashed()
        return real_start(*args, **kwargs)
    monkeypatch.setattr(cases, "start_case", crashing_start)
    with pytest.raises(WorkerCrashed):
        timers.sweep()
    db.session.rollback()
    monkeypatch.setattr(cases, "start_case", real_start)
    db.session.expire_all()
    assert db.session.scalar(select(TimerStart.next_at)) == datetime(2026, 12, 8, 8, 0, tzinfo=timezone.utc)  # claimed
    assert len(db.session.scalars(select(Case)).all()) == crash_at_start - 1
    assert timers.sweep()["timer_starts"] == 3 - crash_at_start              # the next sweep completes the round
    assert timers.sweep()["timer_starts"] == 0
    started = db.session.scalars(select(Case).order_by(Case.center_id)).all()
    assert sorted(c.center_id for c in started) == sorted([people["center"].id, people["other_center"].id])
    rounds = db.session.scalars(select(TimerStartRound).order_by(TimerStartRound.center_id)).all()
    assert [(r.done, r.case_id, r.fired_at) for r in rounds] == [
        (True, c.id, datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)) for c in started]


def test_a_new_version_replaces_the_schedule_and_a_date_start_fires_once(people):
    from engine import timers
    from engine.models import TimerStart
    deploy_text(("daily.bpmn", START_DAILY))
    once = START_DAILY.replace('<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">0 0 9 * * ?</bpmn:timeCycle>',
                               '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">2027-03-01T09:00</bpmn:timeDate>')
    deploy_text(("daily.bpmn", once))
    [row] = db.session.scalars(select(TimerStart)).all()
    assert (row.kind, row.next_at) == ("date", datetime(2027, 3, 1, 8, 0, tzinfo=timezone.utc))
    clock.freeze(datetime(2027, 3, 1, 8, 0, 1, tzinfo=timezone.utc))
    assert timers.start_timer_cases() == 2 and db.session.scalar(select(TimerStart)) is None
    assert timers.start_timer_cases() == 0


def test_a_timer_start_that_needs_case_data_is_refused(ctx):
    text = START_DAILY.replace("0 0 9 * * ?", "${first_day}")
    message = refusal(("daily.bpmn", text))
    assert "[every_morning]" in message and "cannot be evaluated without case data" in message


# --- mappings -------------------------------------------------------------------------------------------

MAPPED = diagram("mapped", "".join([
    '<bpmn:startEvent id="s"/>', flow("f1", "s", "calc"),
    '<bpmn:scriptTask id="calc" scriptFormat="python"><bpmn:extensionElements><camunda:inputOutput>'
    '<camunda:inputParameter name="rate">0.19</camunda:inputParameter>'
    '<camunda:inputParameter name="net">${order.amount}</camunda:inputParameter>'
    '<camunda:inputParameter name="greeting">Dear ${customer}</camunda:inputParameter>'
    '<camunda:inputParameter name="tags"><camunda:list><camunda:value>a</camunda:value>'
    '<camunda:value>${customer}</camunda:value></camunda:list></camunda:inputParameter>'
    '<camunda:outputParameter name="gross">${total}</camunda:outputParameter>'
    '<camunda:outputParameter name="summary"><camunda:map><camunda:entry key="who">${greeting}</camunda:entry>'
    '<camunda:entry key="tags">${tags}</camunda:entry></camunda:map></camunda:outputParameter>'
    '</camunda:inputOutput></bpmn:extensionElements>'
    '<bpmn:script>total = net * (1 + float(rate))</bpmn:script></bpmn:scriptTask>',
    flow("f2", "calc", "call"),
    '<bpmn:callActivity id="call" calledElement="child"><bpmn:extensionElements>'
    '<camunda:in source="gross" target="amount"/><camunda:in sourceExpression="${customer}" target="who"/>'
    '<camunda:in businessKey="#{execution.processBusinessKey}"/>'
    '<camunda:out source="receipt" target="receiptNo"/></bpmn:extensionElements></bpmn:callActivity>',
    flow("f3", "call", "e"), '<bpmn:endEvent id="e"/>']))
CHILD = diagram("child", '<bpmn:startEvent id="cs"/>' + flow("c1", "cs", "issue")
                + '<bpmn:scriptTask id="issue"><bpmn:script>receipt = "R-" + who\nsecret = amount\ntry:\n    seen = '
                'customer\nexcept NameError:\n    seen = "nothing"\nif seen != "nothing":\n    raise ValueError(seen)'
                '</bpmn:script></bpmn:scriptTask>' + flow("c2", "issue", "ce")
                + '<bpmn:endEvent id="ce"/>')


def test_input_output_mappings_and_call_activity_in_out(people):
    deploy_text(("mapped.bpmn", MAPPED), ("child.bpmn", CHILD))
    case_id = cases.start_case("mapped", center=people["center"],
                               data={"order": {"amount": 100}, "customer": "Ana"}).id
    assert reloaded(case_id).status == "completed", db.session.scalars(select(Incident.message)).all()
    result = data(case_id)
    assert result["gross"] == pytest.approx(119.0)
    assert result["summary"] == {"who": "Dear Ana", "tags": ["a", "Ana"]}
    assert result["receiptNo"] == "R-Ana"
    for local in ("rate", "net", "greeting", "tags", "secret", "receipt", "amount", "who", "seen"):
        assert local not in result            # inputs stay local; only camunda:out comes back


def test_a_call_activity_without_mappings_passes_all_and_the_deploy_says_camunda_would_not(people):
    plain = diagram("plain_caller", '<bpmn:startEvent id="s"/>' + flow("f1", "s", "call")
                    + '<bpmn:callActivity id="call" calledElement="child"/>' + flow("f2", "call", "e")
                    + '<bpmn:endEvent id="e"/>')
    result = deploy_text(("plain.bpmn", plain), ("child.bpmn", CHILD))
    warnings = [str(w) for w in result.warnings]
    assert any("[call]" in w and "names no camunda:in and no camunda:out" in w and "Camunda 7 passes none" in w
               for w in warnings), warnings
    case_id = cases.start_case("plain_caller", center=people["center"],
                               data={"who": "Ana", "amount": 5}).id
    assert reloaded(case_id).status == "completed"
    assert data(case_id)["receipt"] == "R-Ana"      # everything went in, what changed came back
    stated = plain.replace('<bpmn:callActivity id="call" calledElement="child"/>',
                           '<bpmn:callActivity id="call" calledElement="child"><bpmn:extensionElements>'
                           '<camunda:in variables="all"/><camunda:out variables="all"/></bpmn:extensionElements>'
                           '</bpmn:callActivity>').replace('"plain_caller"', '"stated_caller"')
    result = deploy_text(("stated.bpmn", stated), ("child.bpmn", CHILD))
    assert not [w for w in result.warnings if "call activity" in str(w)]


INPUTS_AT_START = diagram("inputs_at_start", "".join([
    '<bpmn:startEvent id="s"/>', flow("f1", "s", "review"),
    '<bpmn:userTask id="review" name="Review" camunda:candidateGroups="advisor"><bpmn:extensionElements>'
    '<camunda:inputOutput><camunda:inputParameter name="shown">${amount}</camunda:inputParameter>'
    '<camunda:outputParameter name="seen">${shown}</camunda:outputParameter></camunda:inputOutput>'
    '</bpmn:extensionElements></bpmn:userTask>', flow("f2", "review", "charge"),
    '<bpmn:serviceTask id="charge" camunda:type="external" camunda:topic="charge"><bpmn:extensionElements>'
    '<camunda:inputOutput><camunda:inputParameter name="cents">${amount * 100}</camunda:inputParameter>'
    '</camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>', flow("f3", "charge", "e"),
    '<bpmn:endEvent id="e"/>']))


def test_input_mappings_apply_when_the_task_opens_and_a_worker_sees_them(people):
    from engine import snapshot
    deploy_text(("inputs.bpmn", INPUTS_AT_START))
    case_id = cases.start_case("inputs_at_start", center=people["center"], data={"amount": 5}).id
    task = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id)).one()
    assert snapshot.task_data(reloaded(case_id), task.id)["shown"] == 5       # the form sees its input
    cases.complete_task(task.id, {"amount": 7})
    assert data(case_id)["seen"] == 5            # evaluated when the task opened, as Camunda does
    assert "shown" not in data(case_id)
    [locked] = external_tasks.fetch_and_lock("w", [Topic("charge", 60_000)])
    assert locked.variables["cents"] == 700 and locked.variables["amount"] == 7
    external_tasks.complete(locked.id, "w", {})
    assert reloaded(case_id).status == "completed" and "cents" not in data(case_id)


def test_scripts_in_mappings_and_incomplete_call_mappings_are_refused(ctx):
    text = MAPPED.replace('<camunda:inputParameter name="rate">0.19</camunda:inputParameter>',
                          '<camunda:inputParameter name="rate"><camunda:script scriptFormat="python">0.19'
                          '</camunda:script></camunda:inputParameter>').replace(
        '<camunda:out source="receipt" target="receiptNo"/>', '<camunda:out source="receipt"/>')
    message = refusal(("mapped.bpmn", text), ("child.bpmn", CHILD))
    assert "scripts in input/output mappings are not supported" in message
    assert "camunda:out needs variables=\"all\"" in message and "[call]" in message


# --- listeners ------------------------------------------------------------------------------------------

LISTENED = diagram("listened", "".join([
    '<bpmn:startEvent id="s"/>', flow("f1", "s", "calc"),
    '<bpmn:scriptTask id="calc"><bpmn:extensionElements>'
    '<camunda:executionListener event="start"><camunda:script scriptFormat="python">steps = ["start"]'
    '</camunda:script></camunda:executionListener>'
    '<camunda:executionListener event="end"><camunda:script scriptFormat="python">steps = steps + ["end"]'
    '</camunda:script></camunda:executionListener></bpmn:extensionElements>'
    '<bpmn:script>steps = steps + ["run"]</bpmn:script></bpmn:scriptTask>', flow("f2", "calc", "review"),
    '<bpmn:userTask id="review" name="Review" camunda:candidateGroups="${team}"><bpmn:extensionElements>'
    '<camunda:taskListener event="create"><camunda:script scriptFormat="python">team_seen = team\n'
    'opened = True</camunda:script></camunda:taskListener>'
    '<camunda:taskListener event="complete"><camunda:script scriptFormat="python">verdict = "ok" if approved '
    'else "no"</camunda:script></camunda:taskListener>'
    '<camunda:executionListener event="end" expression="${approved}"/>'
    '</bpmn:extensionElements></bpmn:userTask>', flow("f3", "review", "e"), '<bpmn:endEvent id="e"/>']))


def test_listeners_written_as_python_scripts_or_expressions_run(people):
    deploy_text(("listened.bpmn", LISTENED))
    case_id = cases.start_case("listened", center=people["center"], data={"team": "advisor"}).id
    assert data(case_id)["steps"] == ["start", "run", "end"]
    assert data(case_id)["opened"] is True and data(case_id)["team_seen"] == "advisor"
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case_id))
    cases.complete_task(task.id, {"approved": True}, actor=people["anna"])
    assert reloaded(case_id).status == "completed" and data(case_id)["verdict"] == "ok"


def test_listeners_lotse_cannot_run_are_refused_naming_the_element(ctx):
    text = LISTENED.replace('<camunda:script scriptFormat="python">steps = ["start"]',
                            '<camunda:script scriptFormat="groovy">steps = ["start"]').replace(
        '<camunda:executionListener event="end" expression="${approved}"/>',
        '<camunda:executionListener event="end" expression="${audit.log(execution)}"/>'
        '<camunda:taskListener event="assignment" class="org.example.Mail"/>')
    message = refusal(("listened.bpmn", text))
    assert "[calc]" in message and "scripts in groovy are not supported" in message
    assert "[review]" in message and "JUEL method calls are not supported" in message
    assert 'class="org.example.Mail"' in message


def test_a_bpmn_send_task_sends_and_a_receive_task_waits(people):
    from engine.models import OutboxMessage
    text = diagram("sender", '<bpmn:startEvent id="s"/>' + flow("f1", "s", "send")
                   + '<bpmn:sendTask id="send" messageRef="m"/>' + flow("f2", "send", "recv")
                   + '<bpmn:receiveTask id="recv" messageRef="m2"/>' + flow("f3", "recv", "e") + '<bpmn:endEvent id="e"/>',
                   '<bpmn:message id="m" name="Ping"/><bpmn:message id="m2" name="Pong"/>')
    deploy_text(("sender.bpmn", text))
    case_id = cases.start_case("sender", center=people["center"]).id
    assert db.session.scalar(select(OutboxMessage.name)) == "Ping"
    messages.correlate("Pong", data={"pong": 1})
    assert reloaded(case_id).status == "completed" and data(case_id)["pong"] == 1


# --- Lotse's connectors ---------------------------------------------------------------------------------

NOTIFY = diagram("notify", '<bpmn:startEvent id="s"/>' + flow("f1", "s", "tell") + (
    '<bpmn:serviceTask id="tell" name="Tell the supervisors"><bpmn:extensionElements><camunda:connector>'
    '<camunda:connectorId>lotse-notify-group</camunda:connectorId><camunda:inputOutput>'
    '<camunda:inputParameter name="group">supervisor</camunda:inputParameter>'
    '<camunda:inputParameter name="subject">New hire</camunda:inputParameter>'
    '<camunda:inputParameter name="message">${worker} starts on ${start}</camunda:inputParameter>'
    '</camunda:inputOutput></camunda:connector></bpmn:extensionElements></bpmn:serviceTask>')
    + flow("f2", "tell", "e") + '<bpmn:endEvent id="e"/>')


def test_the_notify_group_connector_tells_the_group_of_the_case_s_center(people):
    from engine.models import Notification
    deploy_text(("notify.bpmn", NOTIFY))
    case = cases.start_case("notify", center=people["center"], data={"worker": "Ana", "start": "2027-03-01"})
    assert reloaded(case.id).status == "completed" and not reloaded(case.id).has_incident
    notes = db.session.scalars(select(Notification)).all()
    assert [(n.user_id, n.title, n.body) for n in notes] == [
        (people["sara"].id, f"{case.reference}: New hire", "Ana starts on 2027-03-01")]     # not Köln's


def test_a_connector_lotse_does_not_have_or_missing_parameters_are_refused(ctx):
    message = refusal(("notify.bpmn", NOTIFY.replace("lotse-notify-group", "mail-send")))
    assert "[tell]" in message and "'mail-send'" in message and "lotse-notify-group" in message
    message = refusal(("notify.bpmn", NOTIFY.replace('<camunda:inputParameter name="group">supervisor'
                                                     '</camunda:inputParameter>', "")))
    assert "[tell]" in message and "missing: group" in message


def test_a_pinned_version_of_a_decision_or_called_process_is_refused_naming_the_attribute(ctx):
    pinned = diagram("p", '<bpmn:startEvent id="s"/>' + flow("f1", "s", "rule")
                     + '<bpmn:businessRuleTask id="rule" camunda:decisionRef="d" camunda:decisionRefBinding="version" '
                       'camunda:decisionRefVersion="3"/>' + flow("f2", "rule", "e") + '<bpmn:endEvent id="e"/>')
    message = refusal(("p.bpmn", pinned))
    assert "[rule]" in message and 'camunda:decisionRefBinding="version" is not supported' in message
