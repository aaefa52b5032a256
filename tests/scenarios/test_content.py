"""The bundled process content: diagrams, decision tables and forms are complete and consistent.

Everything is checked on what the engine deployed (`engine.deploy` of bpmn/ and forms/): the process
specs restored from their stored JSON, the form versions loaded by `engine.forms`, the decision tables
evaluated by the deployed business rule tasks in the engine's sandbox.
"""
import re
from types import SimpleNamespace

import pytest
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, IntermediateCatchEvent, ReceiveTask
from SpiffWorkflow.camunda.specs.user_task import UserTask
from sqlalchemy import select

from engine import deploy, sandbox, state
from engine.db import db
from engine.forms import FormDefinition
from engine.models import FormVersion
from engine.parsing import NOTICE_KINDS
from tests.conftest import empty_tables
from tests.scenarios.driver import ROOT, Journey, iso

PATH_BASE = dict(nationality_group="third_country", has_job_offer=True, qualification_type="academic",
                 degree_comparable=True, annual_salary=0.0, shortage_or_starter=False, contract_year=2026,
                 years_experience=0, foreign_qualification_state_recognised=False,
                 recognition_partnership_agreed=False, regulated_profession=False)
ACTORS = {"center", "employer", "worker", "authority"}
GROUPS = {"advisor", "supervisor", "employer", "worker"}
# the business rule task that evaluates each bundled decision table
DECISIONS = {"worker_path": ("worker_journey", "rule_path"), "recognition_body": ("worker_recognition", "rule_body"),
             "referral_partner": ("employer_referral_item", "rule_partner"),
             "residence_path_facts": ("worker_journey", "rule_path_facts")}
FORM_FILES = sorted(path.stem for path in (ROOT / "forms").glob("*.form"))


@pytest.fixture
def bundle(ctx):
    """Deploy bpmn/ and forms/ through the engine; {process key: (definition, spec)} as the engine runs them."""
    result = deploy.deploy(deploy.collect_files([ROOT / "bpmn", ROOT / "forms"]))
    db.session.commit()
    state.spec_cache.clear()            # restore every spec from the JSON stored at deploy
    return {d.key: (d, state.spec_cache.get(d.id)[0]) for d in result.created}


@pytest.fixture(scope="module")
def specs(app):
    """{process key: spec} of the bundle as the engine runs them (restored from the JSON stored at deploy),
    deployed once for the module's decision-table tests: they only evaluate the specs' tables and store
    nothing. The next test's `ctx` empties the database again."""
    with app.app_context():
        empty_tables(app)
        result = deploy.deploy(deploy.collect_files([ROOT / "bpmn", ROOT / "forms"]))
        db.session.commit()
        state.spec_cache.clear()
        restored = {d.key: state.spec_cache.get(d.id)[0] for d in result.created}
        state.spec_cache.clear()
        db.session.remove()
    return restored


def decide(specs, decision_id, **data):
    """Evaluate a bundled decision table as the deployed business rule task does, in the engine's sandbox."""
    key, element = DECISIONS[decision_id]
    rule = specs[key].task_specs[element]
    task = SimpleNamespace(data=dict(data), workflow=SimpleNamespace(script_engine=sandbox.script_engine))
    return dict(rule.dmnEngine.result(task))


def test_diagrams_parse_and_every_task_is_complete(bundle):
    # element ids unique across processes; user tasks: groups, due date, a deployed form, actor;
    # catch events: actor; milestones: label; every form is used by a user task; a boundary timer's
    # helper task leaves the escalation to the task it watches
    problems, seen, used_forms = [], {}, set()
    for key, (definition, spec) in bundle.items():
        for task_spec in spec.task_specs.values():
            element, props = task_spec.bpmn_id, state.properties(task_spec)
            if element is None:
                continue                          # the engine's own start/end specs
            if seen.setdefault(element, key) != key:
                problems.append(f"duplicate id {element} in {key} and {seen[element]}")
            if isinstance(task_spec, UserTask):
                ext = task_spec.extensions
                for attr in ("candidateGroups", "dueDate", "formRef"):
                    if not ext.get(attr):
                        problems.append(f"{element}: missing {attr}")
                if ext.get("formRef") and ext["formRef"] not in (definition.forms or {}):
                    problems.append(f"{element}: form {ext['formRef']} not deployed with {key}")
                used_forms.add(ext.get("formRef"))
                if props.get("actor") not in ACTORS:
                    problems.append(f"{element}: actor {props.get('actor')}")
                if set(ext.get("candidateGroups") or []) - GROUPS:
                    problems.append(f"{element}: unknown groups {set(ext['candidateGroups']) - GROUPS}")
            if isinstance(task_spec, (IntermediateCatchEvent, BoundaryEvent, ReceiveTask)) and not props.get("actor"):
                problems.append(f"{element}: catch event without actor")
            if props.get("milestone") and not props.get("milestone_label"):
                problems.append(f"{element}: milestone without label")
            if isinstance(task_spec, BoundaryEvent):      # its helper task is a notice: it does not escalate itself
                for helper in task_spec.outputs:
                    if isinstance(helper, UserTask) and "escalation" in helper.extensions.get("notices", NOTICE_KINDS):
                        problems.append(f"{helper.bpmn_id}: a helper task of {element} escalates itself")
    problems += [f"form {name} is not used by any user task" for name in FORM_FILES if name not in used_forms]
    assert problems == []


def test_forms_are_valid_form_js(bundle):
    """Each deployed form loads with the engine's form-js rules (types, unique ids and keys, options,
    conditions); the bundle's own conventions on top: named like its file, schema version 16, every
    input labelled, keys in snake case."""
    problems = []
    versions = db.session.scalars(select(FormVersion).order_by(FormVersion.key)).all()
    assert [v.key for v in versions] == FORM_FILES
    for version in versions:
        form = FormDefinition.from_json(version.schema)
        if form.raw.get("type") != "default" or form.schema_version != 16:
            problems.append(f"{version.key}: type/schemaVersion")
        for field in form.fields.values():
            if not field.label:
                problems.append(f"{version.key}: {field.key} has no label")
            if not re.match(r"^[a-z][a-z0-9_]*$", field.key):
                problems.append(f"{version.key}: bad key {field.key}")
    assert problems == []


def test_bundle_deploys_through_the_engine(ctx):
    result = deploy.deploy(deploy.collect_files([ROOT / "bpmn", ROOT / "forms"]))
    assert sorted(d.key for d in result.created) == [
        "employer_hire", "employer_journey", "employer_kuemmerer", "employer_referral", "employer_referral_item",
        "worker_arrival", "worker_fast_track", "worker_journey", "worker_journey_by_hire", "worker_recognition",
        "worker_settling", "worker_visa"]
    assert len(result.forms) == len(FORM_FILES)
    starts = {d.key: d.message_starts for d in result.created if d.message_starts}
    assert starts == {"worker_journey_by_hire": ["hire_confirmed"]}


@pytest.mark.parametrize("case, expected", [
    (dict(nationality_group="eu"), ("eu_free_movement", False, False)),
    (dict(nationality_group="eu", regulated_profession=True), ("eu_free_movement", True, False)),
    (dict(has_job_offer=False), ("opportunity_card", False, False)),
    (dict(annual_salary=50700.0), ("blue_card", False, False)),                      # exactly the 2026 threshold
    (dict(annual_salary=50699.0), ("skilled_worker_academic", False, True)),
    (dict(annual_salary=46000.0, shortage_or_starter=True), ("blue_card", False, True)),
    (dict(annual_salary=48300.0, contract_year=2025), ("blue_card", False, False)),
    (dict(annual_salary=43759.80, shortage_or_starter=True, contract_year=2025), ("blue_card", False, True)),
    (dict(annual_salary=60000.0, regulated_profession=True), ("blue_card", True, False)),   # e.g. a doctor
    (dict(qualification_type="vocational", degree_comparable=False, annual_salary=46000.0, years_experience=3,
          foreign_qualification_state_recognised=True), ("experience_based", False, True)),
    (dict(qualification_type="vocational", degree_comparable=False, annual_salary=40000.0,
          foreign_qualification_state_recognised=True, recognition_partnership_agreed=True),
     ("recognition_partnership", False, True)),
    (dict(qualification_type="vocational", degree_comparable=False, annual_salary=40000.0),
     ("skilled_worker_vocational", True, True)),
    (dict(degree_comparable=False, annual_salary=40000.0), ("skilled_worker_academic", True, True)),
    (dict(qualification_type="none", degree_comparable=False, annual_salary=30000.0), ("individual_review", False, True)),
])
def test_worker_path_table(specs, case, expected):
    result = decide(specs, "worker_path", **{**PATH_BASE, **case})
    assert (result["proposed_residence_path"], result["recognition_required"], result["ba_approval_required"]) == expected


@pytest.mark.parametrize("group, qualification, regulated, body", [
    ("nursing", "vocational", True, "bezreg_health"),
    ("medicine", "academic", True, "bezreg_approbation"),
    ("teaching", "academic", True, "bezreg_teaching"),
    ("engineering", "academic", True, "ingenieurkammer"),
    ("engineering", "academic", False, "zab"),
    ("crafts", "vocational", False, "hwk"),
    ("it", "vocational", False, "ihk_fosa"),
    ("commercial_industrial", "vocational", False, "ihk_fosa"),
    ("other", "none", False, "other"),
])
def test_recognition_body_table(specs, group, qualification, regulated, body):
    result = decide(specs, "recognition_body", occupation_group=group, qualification_type=qualification,
                            regulated_profession=regulated)
    assert result["proposed_recognition_body"] == body


@pytest.mark.parametrize("topic, craft, partner", [
    ("recruitment_abroad", False, "ba_ag_service"), ("recognition", True, "hwk"), ("recognition", False, "ihk"),
    ("residence_law", False, "abh_central"), ("qualification", False, "iq_netzwerk"), ("language", False, "bamf_vhs"),
    ("funding", False, "ba_funding"), ("housing", False, "municipality_housing"),
    ("labour_rights", False, "fair_work"), ("something_else", False, "welcome_center"),
])
def test_referral_partner_table(specs, topic, craft, partner):
    assert decide(specs, "referral_partner", referral={"topic": topic}, firm_is_craft=craft)["referral_partner"] == partner


@pytest.mark.parametrize("path, ba_approval, label, legal_basis", [
    ("blue_card", False, "Blaue Karte EU", "§ 18g Abs. 1 AufenthG"),
    ("blue_card", True, "Blaue Karte EU (Engpassberuf/Berufsanfänger)", "§ 18g Abs. 1 Satz 2 AufenthG"),
    ("skilled_worker_vocational", True, "Fachkraft mit Berufsausbildung", "§ 18a AufenthG"),
    ("recognition_measures", True, "Anerkennungsmaßnahmen", "§ 16d Abs. 1 AufenthG"),
    ("individual_review", True, "Einzelfallprüfung", ""),
])
def test_residence_path_facts_table(specs, path, ba_approval, label, legal_basis):
    result = decide(specs, "residence_path_facts", residence_path=path, ba_approval_required=ba_approval)
    assert (result["residence_path_label"], result["legal_basis"]) == (label, legal_basis)


def test_every_path_the_proposal_table_names_has_its_facts(specs):
    """What `worker_path` proposes, `residence_path_facts` labels the same way (one source after a change)."""
    for case in ({}, dict(nationality_group="eu"), dict(has_job_offer=False), dict(annual_salary=60000.0),
                 dict(annual_salary=46000.0, shortage_or_starter=True),
                 dict(qualification_type="vocational", degree_comparable=False, annual_salary=40000.0)):
        proposal = decide(specs, "worker_path", **{**PATH_BASE, **case})
        facts = decide(specs, "residence_path_facts", **proposal, residence_path=proposal["proposed_residence_path"])
        assert (facts["residence_path_label"], facts["legal_basis"]) == (
            proposal["residence_path_label"], proposal["legal_basis"])


def test_the_employer_journey_reaches_its_first_tasks_and_starts_a_worker_case(people):
    j = Journey(people)
    case = j.start("employer_journey")
    j.complete(case, "task_first_consultation", dict(firm_name="X", positions_planned=1, continue_cooperation="yes",
                                                     firm_location="kreis_dueren", contact_name="A",
                                                     contact_email="a@example.org"))
    assert j.open_ids(case) == ["task_nominate", "task_referral_needs", "task_report_hire"]
    j.complete(case, "task_report_hire", dict(hire_status="hired", worker_name="Luca", worker_nationality="IT",
                                              hire_occupation="Elektroniker", employment_start=iso(j.today())))
    [worker] = j.children(case)
    assert worker.definition.key == "worker_journey_by_hire"
    assert j.open_ids(worker) == ["task_intake"]
    assert j.outbox()[0][0] == "hire_confirmed"


def _prefilled(spec):
    """{variable: [(element, value or None)]} a process writes before anyone answers: a decision table's outputs
    (None: any value) and the constants its scripts assign."""
    import ast
    from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
    from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
    written = {}
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, BusinessRuleTaskMixin):
            for output in task_spec.dmnEngine.decision_table.outputs:
                written.setdefault(output.name, []).append((task_spec.bpmn_id, None))
        elif isinstance(task_spec, ScriptTask):
            for node in ast.walk(ast.parse(task_spec.script)):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            written.setdefault(target.id, []).append((task_spec.bpmn_id, node.value.value))
    return written


def _forms_reached(bundle, key, seen=None):
    """The forms of a process's user tasks and of the processes it calls (they start with a copy of its data)."""
    from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
    seen = seen if seen is not None else set()
    if key in seen or key not in bundle:
        return set()
    seen.add(key)
    definition, spec = bundle[key]
    forms = {(task_spec.bpmn_id, task_spec.extensions["formRef"]) for task_spec in spec.task_specs.values()
             if isinstance(task_spec, UserTask) and task_spec.extensions.get("formRef")}
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, CallActivity) and task_spec.spec != task_spec.bpmn_id:
            forms |= _forms_reached(bundle, task_spec.spec, seen)
    return forms


def test_no_table_or_script_answers_a_required_field(bundle):
    """A task's form shows the case's data: a decision table's output or a script's constant under the key of a
    required field would answer it before the person does (issue 15, item 8). A proposal has a name of its own
    (`proposed_residence_path`); a placeholder is no option of the field (`not_required`)."""
    forms = {v.key: FormDefinition.from_json(v.schema) for v in db.session.scalars(select(FormVersion))}
    problems = []
    for key, (_definition, spec) in bundle.items():
        written = _prefilled(spec)
        for element, form_key in sorted(_forms_reached(bundle, key)):
            for field in forms[form_key].fields.values():
                for writer, value in written.get(field.key, []) if field.required else []:
                    options = {option.token for option in field.options or []}
                    answers = value is None or (value is True if field.type == "checkbox" else
                                                value not in ("", []) and (not options or str(value) in options))
                    if answers:
                        problems.append(f"{key}: {writer} fills {field.key}, required in {form_key} ({element})")
    assert problems == []


def test_instructions_name_no_table_form_or_process_by_its_id(bundle):
    # a task's documentation is what the person working on it reads: "the table worker_path" means nothing there
    ids = set(DECISIONS) | set(FORM_FILES) | set(bundle)
    found = []
    for key, (_definition, spec) in bundle.items():
        for task_spec in spec.task_specs.values():
            if not isinstance(task_spec, UserTask):
                continue                        # only a user task's documentation is shown (its instructions)
            text = task_spec.documentation or ""
            found += [f"{key} {task_spec.bpmn_id}: {name}" for name in sorted(ids)
                      if re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])", text)]
    assert found == []
