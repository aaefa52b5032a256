"""The conformance suite's cases: Camunda-dialect diagrams written elsewhere, what to do with them, what must come out.

Each case deploys its files (`diagrams/<source>/…`; sources and licences in `diagrams/SOURCES.md`),
then runs its steps through `lotse` commands, each a fresh app over the same database (so every
step reloads the case from it), and checks the outcome:

- `refused`: the deployment fails, and its messages contain each of the given texts (an element id and
  the feature), with no traceback;
- `completed` / `active`: the case ends in that status with the given data (a subset), no incident;
- `incident`: the case stops at an incident containing that text (an error Camunda, too, meets only at run time).

Steps: ("start", key, data), ("complete", task title, data), ("external", topic, variables) (a worker
fetches and completes the topic's task), ("error", topic, code) (a worker throws a BPMN error),
("correlate", message, keys, data), ("sweep", seconds) (the sweeper runs that much later).
"""
from dataclasses import dataclass, field

CAMUNDA = "camunda-bpm-examples"
SPIFF = "spiffworkflow"
LOTSE = "lotse"


@dataclass
class Case:
    name: str
    files: list[str]
    steps: list = field(default_factory=list)
    refused: list[str] = field(default_factory=list)    # texts the refusal must contain
    status: str | None = None                             # expected end status of the case
    data: dict = field(default_factory=dict)              # expected subset of the case data at the end
    incident: str = ""                                    # text of the incident the case must stop at
    note: str = ""


CASES = [
    Case("loan-granting (external tasks, JavaScript input mapping, Quartz cron start)",
         [f"{CAMUNDA}/loan-granting.bpmn"],
         refused=["[Task_1lvjtd4]", "scripts in javascript are not supported"]),
    Case("synchronous service invocation (Java class)",
         [f"{CAMUNDA}/synchronousServiceInvocation.bpmn"],
         refused=["[ServiceTask_1]", "Java classes", "org.camunda.quickstart.servicetask.invocation.sync."
                                                     "SynchronousServiceTask"]),
    Case("invoice approval (Camunda Forms by app key, the forms not supplied)",
         [f"{CAMUNDA}/invoiceApproval.bpmn"],
         refused=["[UserTask_1]", "camunda-forms:app:task-form.form"]),
    Case("generated forms quickstart (formData, old Activiti namespace, assignee demo)",
         [f"{CAMUNDA}/loanApproval-generated.bpmn"],
         steps=[("start", "generatedFormsQuickstart", {"firstname": "Ana", "lastname": "Lima", "netIncome": 3000,
                                                      "loanAmount": 10000, "loanType": "mortage"}),
                ("complete", "Approve Request", {"approved": True})],
         status="completed", data={"approved": True, "loanAmount": 10000}),
    Case("message start process (started by a message)",
         [f"{CAMUNDA}/message_start_process.bpmn"],
         steps=[("correlate", "instantiationMessage", {}, {"orderId": "A-1"}),
                ("complete", "Wait in Message Process", {})],
         status="completed", data={"orderId": "A-1"}),
    Case("exclusive gateway with a decision on else (x = 1)",
         [f"{SPIFF}/ExclusiveGatewayIfElseAndDecision.bpmn", f"{SPIFF}/test_integer_decision_multi.dmn"],
         steps=[("start", "Process_1", {"x": 1})], status="completed", data={"x": 1}),
    Case("exclusive gateway with a decision on else (x = 2)",
         [f"{SPIFF}/ExclusiveGatewayIfElseAndDecision.bpmn", f"{SPIFF}/test_integer_decision_multi.dmn"],
         steps=[("start", "Process_1", {"x": 2})], status="completed", data={"x": 2}),
    Case("external message (a script format named 'reset')",
         [f"{SPIFF}/external_message.bpmn"],
         refused=["[Activity_1n8ighs]", "scripts in reset are not supported"]),
    Case("exclusive gateway with a decision on else (x = 3: the Python-dialect table)",
         [f"{SPIFF}/ExclusiveGatewayIfElseAndDecision.bpmn", f"{SPIFF}/test_integer_decision_multi.dmn"],
         steps=[("start", "Process_1", {"x": 3, "item": {"x": 3}})], status="completed",
         data={"item": {"x": 3, "y": "A"}}),
    Case("dinner decisions (a DRD: beverages require the dish; COLLECT; DMN 1.1)",
         [f"{LOTSE}/dinner.bpmn", f"{CAMUNDA}/dinnerDecisions.dmn"],
         steps=[("start", "dinner", {"season": "Spring", "guestCount": 6, "guestsWithChildren": True})],
         status="completed", data={"beverages": ["Pinot Noir", "Apple Juice", "Water"]}),
    Case("dinner decisions in winter without children",
         [f"{LOTSE}/dinner.bpmn", f"{CAMUNDA}/dinnerDecisions.dmn"],
         steps=[("start", "dinner", {"season": "Winter", "guestCount": 10, "guestsWithChildren": False})],
         status="completed", data={"beverages": ["Guiness", "Water"]}),
    Case("check order (DMN 1.3, two outputs, singleResult, JUEL on the result): silver over 1000",
         [f"{LOTSE}/order_check.bpmn", f"{CAMUNDA}/check-order.dmn"],
         steps=[("start", "order_check", {"status": "silver", "sum": 1500}),
                ("complete", "Explain the refusal", {})],
         status="completed", data={"checkResult": {"result": "notok",
                                                   "reason": "you took too much man, you took too much!"}}),
    Case("check order: gold",
         [f"{LOTSE}/order_check.bpmn", f"{CAMUNDA}/check-order.dmn"],
         steps=[("start", "order_check", {"status": "gold", "sum": 99}), ("complete", "Ship the order", {})],
         status="completed", data={"checkResult": {"result": "ok", "reason": "you get anything you want"}}),
    Case("order handling (cron timer start, external tasks in a subprocess, conditional boundary event)",
         [f"{CAMUNDA}/order-handling.bpmn"],
         steps=[("sweep", 6), ("external", "invoiceCreator", {"invoiceId": "I-1"}),
                ("external", "invoiceArchiver", {"archived": True})],
         status="completed", data={"invoiceId": "I-1", "archived": True}),
    Case("task assignment e-mail (a Java task listener)", [f"{CAMUNDA}/taskAssignmentEmail.bpmn"],
         refused=["[UserTask_1]", "camunda:taskListener", "org.camunda.bpm.quickstart.TaskAssignmentListener"]),
    Case("REST service (http-connector, JavaScript output script, Activiti namespace)",
         [f"{CAMUNDA}/invokeRestService.bpmn"],
         refused=["[ServiceTask_1]", "'http-connector'", "scripts in Javascript are not supported"]),
    Case("loan approval exported by Signavio (delegate expression, activiti: prefix)",
         [f"{CAMUNDA}/loanApproval-signavio.bpmn"],
         refused=["[ServiceTask_1]", 'camunda:delegateExpression="${calculateInterestService}"']),
    Case("call activity with custom script functions (SpiffWorkflow's my_custom_function)",
         [f"{SPIFF}/top_workflow.bpmn", f"{SPIFF}/common_workflow.bpmn"],
         refused=["[Activity_0gjyb1c]", "[Activity_0bt6ln9]", "it calls my_custom_function"]),
    Case("multi-instance array (formData constraints named min1/max10, a dotted field id)",
         [f"{SPIFF}/multi_instance_array.bpmn"],
         refused=["[Activity_FamSize]", "the constraint 'min1' is not supported"]),
    Case("a user task without a form (camunda:properties only)", [f"{SPIFF}/no_form.bpmn"],
         steps=[("start", "no_form", {}), ("complete", "Empty User Task", {})], status="completed"),
    Case("token trial: Python conditions on a generated boolean field, yes branch", [f"{SPIFF}/token_trial.bpmn"],
         steps=[("start", "token", {}), ("complete", "First", {"do_step": True}), ("complete", "FormA", {"A": "a"}),
                ("complete", "FormB", {"B": "b"}), ("complete", "FormC", {"C": "c"})],
         status="completed", data={"do_step": True, "A": "a", "B": "b", "C": "c"}),
    Case("token trial: no branch (a formField without a type)", [f"{SPIFF}/token_trial.bpmn"],
         steps=[("start", "token", {}), ("complete", "First", {"do_step": False}), ("complete", "FormC", {"C": "c"})],
         status="completed", data={"do_step": False, "C": "c"}),
    Case("parallel tasks behind a skip gateway (formField type 'textarea', camunda:property by id)",
         [f"{SPIFF}/token_trial_parallel_simple.bpmn"],
         steps=[("start", "token_trial_parallel_simple", {}), ("complete", "Set data", {"skipParallel": False}),
                ("complete", "Task P1", {"nterviews": True, "FaceToFaceInteractions": 2}),
                ("complete", "Task P2", {"ClientPPE": True, "ClientPPE_Resupply": "weeks_1to2"})],
         status="completed", data={"FaceToFaceInteractions": 2, "ClientPPE_Resupply": "weeks_1to2"}),
    Case("parallel tasks skipped", [f"{SPIFF}/token_trial_parallel_simple.bpmn"],
         steps=[("start", "token_trial_parallel_simple", {}), ("complete", "Set data", {"skipParallel": True})],
         status="completed", data={"skipParallel": True}),
    Case("multi-instance user task with a cardinality and a collection, behind a gateway (no)",
         [f"{SPIFF}/exclusive_gateway_pmi.bpmn"],
         refused=["[GetMoreStuff]", "'stuff.addstuff' must be a plain name"]),
    Case("random fact (a script naming a service object the diagram never defines: stops at an incident)",
         [f"{SPIFF}/random_fact.bpmn"],
         steps=[("start", "Process_1ds61df", {}), ("complete", "Set Type", {"type": "cat"})],
         incident="name 'scripts' is not defined", data={"type": "cat"}),
    Case("message boundary event between two pools (a throw with camunda:expression)",
         [f"{SPIFF}/MessageBoundary.bpmn"],
         steps=[("start", "Process_1kjyavs", {}), ("complete", "Interrupt Work?", {"interrupt_task": "Yes"})],
         status="completed", data={"interrupt_task": "Yes"}),
    Case("multi-instance user task behind a default flow (the same dotted field id)",
         [f"{SPIFF}/default_gateway_pmi.bpmn"],
         refused=["[GetMoreStuff]", "'stuff.addstuff' must be a plain name"]),
    Case("an embedded subprocess of three generated forms", [f"{SPIFF}/token_trial_subprocess.bpmn"],
         steps=[("start", "token", {}), ("complete", "First", {"do_step": True}), ("complete", "FormA1", {"A1": "1"}),
                ("complete", "FormA2", {"A2": "2"}), ("complete", "FormA3", {"A3": "3"}),
                ("complete", "FormD", {"D": "4"})],
         status="completed", data={"A1": "1", "A3": "3", "D": "4"}),
    Case("call activity with a tenant resolved by a Java bean (multi-tenancy example)",
         [f"{CAMUNDA}/mainProcess.bpmn", f"{CAMUNDA}/subProcess.bpmn"],
         refused=["[CallActivity_0ahffuc]", "camunda:calledElementTenantId"]),
    Case("Spring Boot starter sample (bpmn2: prefix, async delegate expression)", [f"{CAMUNDA}/sample.bpmn"],
         refused=["[ServiceTask_1]", 'camunda:delegateExpression="${sayHelloDelegate}"']),
    Case("failed-job retry profiles (four Java classes, camunda:properties)", [f"{CAMUNDA}/retry-example.bpmn"],
         refused=["[service-fetch-data]", "[service-add-address]", "org.camunda.bpm.example.delegate."
                                                                      "ServiceTaskOneDelegate"]),
    Case("the called sub-process on its own (a plain user task)", [f"{CAMUNDA}/subProcess.bpmn"],
         steps=[("start", "subProcess", {}), ("complete", "task in default subprocess", {})], status="completed"),
    Case("embedded forms quickstart (embedded:app: HTML forms, assignee demo)",
         [f"{CAMUNDA}/loanApproval-embedded.bpmn"],
         steps=[("start", "embeddedFormsQuickstart", {"amount": 500}), ("complete", "Approve Request", {})],
         status="completed", data={"amount": 500}),
    Case("customer data as JSON (Spin prop() in a condition, a Java delegate)",
         [f"{CAMUNDA}/customerDataProcess.bpmn"],
         refused=["[Task_0n2pfas]", "org.camunda.bpm.example.JsonJavaDelegate", "[SequenceFlow_4]"]),
    Case("XSLT script task (scriptFormat xslt from a resource, Java execution listeners)",
         [f"{CAMUNDA}/xslt-example.bpmn"],
         refused=["[ScriptTask_1]", "scripts in xslt are not supported", "[StartEvent_1]",
                  "org.camunda.bpm.example.xsltexample.PrepareInput"]),
    Case("the process that sends the start message (a Java delegate)", [f"{CAMUNDA}/instantiating_process.bpmn"],
         refused=["[ServiceTask_1]", "InstantiateProcessByMessageDelegate"]),
    Case("the JavaScript SDK's working process (no camunda namespace at all, a nameless user task)",
         [f"{CAMUNDA}/Working.bpmn"],
         steps=[("start", "Process_1", {}), ("complete", "UserTask_1v6k3bs", {})], status="completed"),
    Case("external task client with a request interceptor (one external task)",
         [f"{CAMUNDA}/request-interceptor-process.bpmn"],
         steps=[("start", "process", {}), ("external", "my-topic", {"done": True})],
         status="completed", data={"done": True}),
    Case("job announcement publication (bean method calls as service expressions, #{} conditions)",
         [f"{CAMUNDA}/job-announcement-publication.bpmn"],
         refused=["[publish_announcement_website]", "jobAnnouncementService.postToWebsite"]),
    Case("two pools talking by messages (a message start, SpiffWorkflow's payload expression and result variable)",
         [f"{SPIFF}/message_test.bpmn"],
         steps=[("start", "Process_05r9nfx", {}), ("complete", "Enter Plan", {"plan_details": "a plan"}),
                ("complete", "Approved?", {"approved": "Yes"}), ("complete", "Enable Plan", {"Done": "yes"})],
         status="completed", data={"ApprovalResult": "Yes", "Done": "yes"}),
]
