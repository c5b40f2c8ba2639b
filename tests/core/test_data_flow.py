"""Deploy-time data checks: a due date, timer or letter must read what is set on every path to it."""
from __future__ import annotations

import json
from pathlib import Path

from hsm_workflow.services import deployment
from hsm_workflow.services.deployment import Library

ROOT = Path(__file__).resolve().parents[2]
ROLES = {"caseworker", "master", "senior_tutor", "mediator", "hr_director", "head_of_department",
         "dswss", "registrar", "investigator", "proctor", "review_panel", "gpc_secretary", "appeals_panel",
         "college_tutor", "dean", "pastoral_lead", "disciplinary_panel"}


def form(form_id: str, *components: dict) -> str:
    return json.dumps({"id": form_id, "type": "default", "components": list(components)})


def date(key: str, required: bool, **extra) -> dict:
    return {"type": "datetime", "subtype": "date", "key": key, "label": key, "validate": {"required": required},
            **extra}


def choice(key: str, *values: str) -> dict:
    return {"type": "radio", "key": key, "label": key, "values": [{"value": v, "label": v} for v in values],
            "validate": {"required": True}}


FORMS = {
    "start": form("start", {"type": "textfield", "key": "student", "label": "Student", "validate": {"required": True}},
                  date("received_on", True)),
    "decide": form("decide", choice("outcome", "extend", "close"), date("extended_until", False)),
    "decide_when": form("decide_when", choice("outcome", "extend", "close"),
                        date("extended_until", True, conditional={"hide": '=outcome != "extend"'})),
    "note": form("note", {"type": "textfield", "key": "note", "label": "Note"}),
}
LETTERS = {
    "plain": "Dear {{ student }}, extended until {{ extended_until }}.",
    "guarded": "Dear {{ student }}{% if extended_until is defined %}, until {{ extended_until }}{% endif %}.",
    "by_outcome": 'Dear {{ student }}{% if outcome == "extend" %}, until {{ extended_until }}{% endif %}.',
}


def diagram(*, start_form: str | None = "start", decide_form: str = "decide", due: str = "0 days from extended_until",
            after_extend: str = "", timer: str = "") -> bytes:
    """start -> Decide -> gateway -> (extend) Extended [due] -> end; (close) -> end."""
    form_ref = f' camunda:formRef="{start_form}"' if start_form else ""
    boundary = (f'<bpmn:boundaryEvent id="Lapse" name="Lapse" attachedToRef="Extended"><bpmn:outgoing>F_lapse</bpmn:outgoing>'
                f'<bpmn:timerEventDefinition><bpmn:timeDate>{timer}</bpmn:timeDate></bpmn:timerEventDefinition>'
                '</bpmn:boundaryEvent><bpmn:endEvent id="Lapsed" name="Lapsed"><bpmn:incoming>F_lapse</bpmn:incoming>'
                '</bpmn:endEvent><bpmn:sequenceFlow id="F_lapse" sourceRef="Lapse" targetRef="Lapsed" />') if timer else ""
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://hsm-workflow.org/bpmn">
  <bpmn:process id="probe" name="Probe" isExecutable="true">
    <bpmn:startEvent id="Opened" name="Opened"{form_ref}><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Decide" name="Decide" camunda:candidateGroups="master" camunda:formRef="{decide_form}" camunda:dueDate="10 working days from received_on">
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="Which" name="Which?"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F_extend</bpmn:outgoing><bpmn:outgoing>F_close</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:userTask id="Extended" name="Extended" camunda:candidateGroups="master" camunda:formRef="note" camunda:dueDate="{due}">
      <bpmn:incoming>F_extend</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>
    {boundary}
    <bpmn:serviceTask id="Letter" name="Letter">
      <bpmn:extensionElements><camunda:properties><camunda:property name="letter" value="{after_extend or 'guarded'}" /></camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>F3</bpmn:incoming><bpmn:incoming>F_close</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:endEvent id="Done" name="Done"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Opened" targetRef="Decide" />
    <bpmn:sequenceFlow id="F2" sourceRef="Decide" targetRef="Which" />
    <bpmn:sequenceFlow id="F_extend" sourceRef="Which" targetRef="Extended"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">outcome == "extend"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F_close" sourceRef="Which" targetRef="Letter"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">outcome == "close"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F3" sourceRef="Extended" targetRef="Letter" />
    <bpmn:sequenceFlow id="F4" sourceRef="Letter" targetRef="Done" />
  </bpmn:process>
</bpmn:definitions>'''.encode()


def problems(xml: bytes, forms=FORMS, letters=LETTERS) -> list[str]:
    _, found = deployment.validate({"probe.bpmn": xml}, Library(forms, letters), ROLES)
    return [str(p) for p in found]


def test_a_due_date_counting_from_an_optional_field_is_refused_naming_the_element():
    assert problems(diagram()) == [
        "probe.bpmn: Extended: due date of Extended counts from extended_until, "
        "which no required field or start datum provides on every path to it"]


def test_a_field_required_when_the_choice_the_flow_takes_is_made_is_enough():
    assert problems(diagram(decide_form="decide_when")) == []


def test_start_data_counts_and_a_due_date_from_an_unknown_variable_is_refused():
    assert problems(diagram(decide_form="decide_when", due="5 days from received_on")) == []
    [problem] = problems(diagram(decide_form="decide_when", due="5 days from decided_on"))
    assert "Extended: due date of Extended counts from decided_on" in problem


def test_a_letter_reading_a_value_not_set_on_every_path_is_refused_unless_it_guards_it():
    [problem] = problems(diagram(decide_form="decide_when", after_extend="plain"))
    assert problem.startswith("probe.bpmn: Letter: letter 'plain' of Letter reads extended_until, which no")
    assert problems(diagram(decide_form="decide_when", after_extend="guarded")) == []
    assert problems(diagram(decide_form="decide_when", after_extend="by_outcome")) == []
    [problem] = problems(diagram(decide_form="decide", due="1 day", after_extend="by_outcome"))
    assert "reads extended_until" in problem


def test_a_boundary_timer_gets_what_was_set_before_its_task():
    assert problems(diagram(decide_form="decide_when", timer="add_days(extended_until, 1)")) == []
    [problem] = problems(diagram(decide_form="decide_when", timer="add_days(note, 1)"))
    assert problem.startswith("probe.bpmn: Lapse: timer Lapse reads note, which no required field")


def test_the_start_form_must_exist_and_be_linked_with_form_ref():
    [problem] = problems(diagram(start_form="missing", decide_form="decide_when"))
    assert problem == "probe.bpmn: Opened: start form 'missing' not found in forms/"
    xml = diagram(decide_form="decide_when").replace(b'camunda:formRef="start"', b'camunda:formKey="start"')
    assert problems(xml) == [
        "probe.bpmn: Opened: start event uses camunda:formKey: link a Camunda Form with camunda:formRef"]


def test_without_a_start_form_nothing_can_be_said_of_the_data():
    assert problems(diagram(start_form=None)) == []


def test_the_shipped_diagrams_pass_and_staff_mediation_needs_its_conditional_date():
    library = Library.load(ROOT / "forms", ROOT / "letters")
    files = deployment.read_bpmn([ROOT / "processes"])
    assert deployment.validate(files, library, ROLES)[1] == []
    outcome = json.loads(library.forms["staff_mediation_outcome"])
    for component in outcome["components"]:
        component.pop("conditional", None)
        if component.get("key") == "staff_mediation_extended_until":
            component["validate"]["required"] = False
    weakened = Library({**library.forms, "staff_mediation_outcome": json.dumps(outcome)}, library.letters)
    found = [str(p) for p in deployment.validate(files, weakened, ROLES)[1]]
    assert ("staff_complaint.bpmn: Staff_MediationExtended: due date of Staff_MediationExtended counts from "
            "staff_mediation_extended_until, which no required field or start datum provides on every path to it"
            ) in found
