"""The conformance suite's cases: Camunda-dialect diagrams written elsewhere, what to do with them, what must come out.

Each case deploys its files (`diagrams/<source>/…`; sources and licences in `diagrams/SOURCES.md`),
then runs its steps through `lotse` commands, each a fresh app over the same database (so every
step reloads the case from it), and checks the outcome:

- `refused`: the deployment fails, and its messages contain each of the given texts (an element id and
  the feature), with no traceback;
- `completed` / `active`: the case ends in that status with the given data (a subset), no incident.

Steps: ("start", key, data), ("complete", task title, data), ("external", topic, variables) (a worker
fetches and completes the topic's task), ("error", topic, code) (a worker throws a BPMN error).
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
    note: str = ""


CASES = [
    Case("loan-granting (external tasks, JavaScript input mapping, Quartz cron start)",
         [f"{CAMUNDA}/loan-granting.bpmn"],
         refused=["[Task_1lvjtd4]", "scripts in javascript are not supported", "camunda:inputOutput",
                  "[StartEvent_1]", "cron cycle"]),
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
]
