"""Deploying process definitions: validated, all or nothing, versioned by content."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hsm_workflow.db.models import ProcessVersion
from hsm_workflow.errors import DeploymentRefused
from hsm_workflow.services import access, cases, deployment
from conftest import FIXTURES, TESTER

LOOP = (FIXTURES / "processes" / "review_loop.bpmn").read_bytes()


def deploy(runtime, **files):
    return deployment.deploy(runtime, {f"{name}.bpmn": xml for name, xml in files.items()}, by="tester")


def versions(runtime) -> int:
    with runtime.reading() as session:
        return session.scalar(select(func.count(ProcessVersion.id)))


def refused(runtime, xml: bytes, name="broken"):
    with pytest.raises(DeploymentRefused) as caught:
        deploy(runtime, **{name: xml})
    return [str(p) for p in caught.value.problems]


def test_first_deployment_stores_version_one_with_source_and_author(runtime):
    [result] = deploy(runtime, review_loop=LOOP)
    assert (result.process_id, result.version, result.changed) == ("review_loop", 1, True)
    with runtime.reading() as session:
        stored = session.scalar(select(ProcessVersion))
        assert stored.source_xml == LOOP and stored.deployed_by == "tester"
        assert set(stored.assets["forms"]) == {"review_decision"}
        assert len(stored.content_hash) == 64


def test_deploying_identical_content_is_a_no_op(runtime):
    deploy(runtime, review_loop=LOOP)
    [again] = deploy(runtime, review_loop=LOOP)
    assert (again.version, again.changed) == (1, False)
    assert versions(runtime) == 1


def test_a_changed_file_makes_a_new_version_and_running_cases_stay_on_theirs(runtime):
    deploy(runtime, review_loop=LOOP)
    old_case = cases.start_case(runtime, TESTER, "review_loop", {})
    [result] = deploy(runtime, review_loop=LOOP.replace(b'name="Review the measure"', b'name="Review it"'))
    assert (result.version, result.changed) == (2, True)
    new_case = cases.start_case(runtime, TESTER, "review_loop", {})
    assert access.case_file(runtime, TESTER, old_case.reference).summary.version == 1
    assert access.case_file(runtime, TESTER, old_case.reference).tasks[0].name == "Review the measure"
    assert access.case_file(runtime, TESTER, new_case.reference).tasks[0].name == "Review it"


def test_unknown_role_is_refused_naming_file_element_and_reason(runtime):
    problems = refused(runtime, LOOP.replace(b'candidateGroups="master"', b'candidateGroups="wizard"'))
    assert problems == ["broken.bpmn: Review: unknown role 'wizard'"]
    assert versions(runtime) == 0


def test_missing_form_is_refused(runtime):
    problems = refused(runtime, LOOP.replace(b'formRef="review_decision"', b'formRef="nowhere"'))
    assert problems == ["broken.bpmn: Review: form 'nowhere' not found in forms/"]


def test_user_task_without_role_or_form_is_refused(runtime):
    xml = LOOP.replace(b' camunda:candidateGroups="master" camunda:formRef="review_decision"', b"")
    problems = refused(runtime, xml)
    assert "broken.bpmn: Review: user task has no role (camunda:candidateGroups)" in problems
    assert "broken.bpmn: Review: user task has no form (camunda:formRef)" in problems


def test_unreadable_due_date_is_refused(runtime):
    [problem] = refused(runtime, LOOP.replace(b'dueDate="21 days"', b'dueDate="soonish"'))
    assert problem.startswith("broken.bpmn: Review: cannot read due date 'soonish'")


def test_timer_expression_that_is_not_a_duration_is_refused(runtime):
    [problem] = refused(runtime, LOOP.replace(b'"P21D"', b'"three weeks"'))
    assert problem.startswith("broken.bpmn: PeriodEnds: timer expression '\"three weeks\"' does not give a valid duration")


def test_missing_letter_template_is_refused(runtime):
    [problem] = refused(runtime, LOOP.replace(b'value="test_lifted"', b'value="no_such_letter"'))
    assert problem == "broken.bpmn: Letter: letter template 'no_such_letter' not found in letters/"


def test_call_activity_to_an_unknown_process_is_refused(runtime):
    xml = LOOP.replace(b'<bpmn:serviceTask id="Letter" name="Send lifting letter">',
                       b'<bpmn:callActivity id="Letter" name="Review" calledElement="nowhere">') \
        .replace(b"</bpmn:serviceTask>", b"</bpmn:callActivity>")
    [problem] = refused(runtime, xml)
    assert problem.startswith("broken.bpmn: ") and "nowhere" in problem


def test_malformed_xml_is_refused(runtime):
    [problem] = refused(runtime, LOOP[:-40])
    assert problem.startswith("broken.bpmn: not well-formed XML")


def test_schema_invalid_bpmn_is_refused_with_the_element(runtime):
    xml = LOOP.replace(b'<bpmn:exclusiveGateway id="Decision"', b'<bpmn:exclusiveGateway id="Decision" bogus="1"')
    [problem] = refused(runtime, xml)
    assert problem.startswith("broken.bpmn: Decision: ") and "bogus" in problem


@pytest.mark.parametrize("attack", [
    b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
])
def test_xml_with_dtds_or_entities_is_refused(runtime, attack):
    xml = LOOP.replace(b'<?xml version="1.0" encoding="UTF-8"?>\n', b'<?xml version="1.0"?>\n' + attack + b"\n")
    [problem] = refused(runtime, xml)
    assert problem.startswith("broken.bpmn: unsafe XML refused")


def test_one_broken_file_refuses_the_whole_deployment(runtime):
    broken = LOOP.replace(b'id="review_loop"', b'id="other_loop"').replace(b'candidateGroups="master"',
                                                                           b'candidateGroups="wizard"')
    with pytest.raises(DeploymentRefused):
        deploy(runtime, review_loop=LOOP, other=broken)
    assert versions(runtime) == 0


# --- refused before the engine sees them (findings, "Attacked": these were 500s) -------

@pytest.mark.parametrize("declaration, reason", [
    (b'encoding="UTF-7"', "XML must be encoded in UTF-8, not 'UTF-7'"),
    (b'encoding="x-no-such-encoding"', "XML must be encoded in UTF-8, not 'x-no-such-encoding'"),
    (b'encoding="UTF-16"', "XML must be encoded in UTF-8, not 'UTF-16'"),
    (b'encoding="ISO-8859-1"', "XML must be encoded in UTF-8, not 'ISO-8859-1'"),
])
def test_an_xml_declaration_other_than_utf8_is_refused(runtime, declaration, reason):
    assert refused(runtime, LOOP.replace(b'encoding="UTF-8"', declaration)) == [f"broken.bpmn: {reason}"]


def test_a_file_in_another_encoding_is_refused(runtime):
    [with_bom] = refused(runtime, LOOP.decode().encode("utf-16"))
    assert with_bom == ("broken.bpmn: XML must be encoded in UTF-8 "
                        "(this file starts with a UTF-16 or UTF-32 byte order mark)")
    [latin1] = refused(runtime, LOOP.replace(b"Review the measure", "Révision".encode("latin-1")))
    assert latin1.startswith("broken.bpmn: XML must be encoded in UTF-8 (byte ")
    [result] = deploy(runtime, review_loop=b"\xef\xbb\xbf" + LOOP)  # a UTF-8 byte order mark is fine
    assert result.changed


@pytest.mark.parametrize("element, reserved", [
    (b"MeasureImposed", "Start"), (b"MeasureLifted", "End"), (b"TimerNoted", "Root"),
    (b"TimerNoted", "review_loop.EndJoin"),
])
def test_an_id_the_engine_gives_its_own_task_specs_is_refused_naming_it(runtime, element, reserved):
    problems = refused(runtime, LOOP.replace(b'"' + element + b'"', b'"' + reserved.encode() + b'"'))
    assert problems == [f"broken.bpmn: {reserved}: the id {reserved!r} is reserved by the workflow engine; "
                        "rename the element"]


def test_a_huge_timer_expression_is_refused_with_a_clear_problem(runtime):
    [problem] = refused(runtime, LOOP.replace(b'"P21D"', b"7**(25*10**6)"))
    assert problem == "broken.bpmn: PeriodEnds: timer expression '7**(25*10**6)' would make a number over 100,000 bits"


def counting_evaluations(monkeypatch) -> list[str]:
    """The expressions evaluated from now on (deployment probes timer expressions)."""
    from hsm_workflow.engine.sandbox import SandboxEnvironment
    evaluated, evaluate = [], SandboxEnvironment.evaluate

    def counted(self, expression, context, external_context=None):
        evaluated.append(expression)
        return evaluate(self, expression, context, external_context)

    monkeypatch.setattr(SandboxEnvironment, "evaluate", counted)
    return evaluated


PROBE = (FIXTURES / "processes" / "deadline_probe.bpmn").read_bytes()


def test_deploying_evaluates_only_the_new_files_expressions_not_those_of_deployed_versions(runtime, monkeypatch):
    deploy(runtime, review_loop=LOOP, deadline_probe=PROBE)
    evaluated = counting_evaluations(monkeypatch)
    deploy(runtime, review_loop=LOOP.replace(b'"P21D"', b'"P22D"'))
    assert evaluated == ['"P22D"']
    evaluated.clear()
    deploy(runtime, review_loop=LOOP.replace(b'"P21D"', b'"P22D"'), deadline_probe=PROBE)  # both as deployed
    assert evaluated == []


def test_a_version_deployed_with_a_huge_timer_expression_does_not_slow_later_deployments(runtime, monkeypatch):
    deploy(runtime, review_loop=LOOP)
    with runtime.transaction() as session:  # as deployed before expressions had limits
        session.scalar(select(ProcessVersion)).source_xml = LOOP.replace(b'"P21D"', b"7**(25*10**6)")
    evaluated = counting_evaluations(monkeypatch)
    [result] = [r for r in deploy(runtime, deadline_probe=PROBE) if r.process_id == "deadline_probe"]
    assert result.changed
    assert not any("7**" in expression for expression in evaluated)
