"""Letters written by a case: an unset name fails the step, and "today" is the London date."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from hsm_workflow.db.models import CaseEvent, Letter
from hsm_workflow.errors import StepFailed
from hsm_workflow.services import access, cases, deployment, tasks
from conftest import TESTER, as_user

LETTER_PROCESS = b'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://hsm-workflow.org/bpmn">
  <bpmn:process id="letter_probe" name="Letter probe" isExecutable="true">
    <bpmn:startEvent id="Opened" name="Opened"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Note" name="Note" camunda:candidateGroups="master" camunda:formRef="note">
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:serviceTask id="Write" name="Write the letter">
      <bpmn:extensionElements><camunda:properties><camunda:property name="letter" value="greeting" /></camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:endEvent id="Done" name="Done"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Opened" targetRef="Note" />
    <bpmn:sequenceFlow id="F2" sourceRef="Note" targetRef="Write" />
    <bpmn:sequenceFlow id="F3" sourceRef="Write" targetRef="Done" />
  </bpmn:process>
</bpmn:definitions>'''
NOTE = json.dumps({"id": "note", "components": [{"type": "textfield", "key": "note", "label": "Note"}]})


def start(runtime, letter: str, data: dict) -> tuple[str, int]:
    library = deployment.Library({"note": NOTE}, {"greeting": letter})
    deployment.deploy(runtime, {"letter_probe.bpmn": LETTER_PROCESS}, by="tester", library=library)
    reference = cases.start_case(runtime, TESTER, "letter_probe", data).reference
    [task] = access.case_file(runtime, TESTER, reference).tasks
    return reference, task.id


def counts(runtime) -> tuple[int, int]:
    with runtime.reading() as session:
        return session.scalar(select(func.count(Letter.id))), session.scalar(select(func.count(CaseEvent.id)))


def test_a_letter_reading_an_unset_name_fails_the_step_and_changes_nothing(runtime):
    reference, task_id = start(runtime, "Dear {{ student }},\n", {})
    before = counts(runtime)
    with pytest.raises(StepFailed, match="letter 'greeting' cannot be written: 'student' is undefined"):
        tasks.complete(runtime, as_user(runtime, "master"), task_id, {"note": "done"})
    assert counts(runtime) == before
    [task] = access.case_file(runtime, TESTER, reference).tasks
    assert (task.id, task.status) == (task_id, "open")


def test_a_letter_with_its_names_set_is_written(runtime):
    _, task_id = start(runtime, "Dear {{ student }},\n", {"student": "Sam"})
    tasks.complete(runtime, as_user(runtime, "master"), task_id, {})
    with runtime.reading() as session:
        assert session.scalar(select(Letter.body)) == "Dear Sam,\n"


def test_today_in_a_letter_is_the_london_date(runtime, clock):
    half_past_midnight_bst = datetime(2026, 6, 1, 23, 30, tzinfo=timezone.utc)
    clock.set(half_past_midnight_bst)
    _, task_id = start(runtime, "Date: {{ today }}\n", {})
    tasks.complete(runtime, as_user(runtime, "master"), task_id, {})
    with runtime.reading() as session:
        body = session.scalar(select(Letter.body))
    assert body == "Date: 2026-06-02\n"
    assert half_past_midnight_bst.date().isoformat() == "2026-06-01"
