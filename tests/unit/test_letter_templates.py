"""Letter templates: an undefined name is an error, and what a template reads unguarded."""
from __future__ import annotations

import pytest

from hsm_workflow.errors import StepFailed
from hsm_workflow.services.letters import render_letter, template_reads


def test_an_undefined_name_fails_instead_of_rendering_a_blank():
    with pytest.raises(StepFailed, match="letter 'greeting' cannot be written: 'student' is undefined"):
        render_letter("greeting", "Dear {{ student }},", {})


def test_an_undefined_name_in_a_condition_fails_too():
    with pytest.raises(StepFailed):
        render_letter("greeting", "{% if note %}{{ note }}{% endif %}", {})


def test_guards_and_defaults_render_optional_values():
    source = "Dear {{ student }}{% if note is defined and note %} ({{ note }}){% endif %}, {{ extra | default('none') }}"
    assert render_letter("greeting", source, {"student": "Sam"}).body == "Dear Sam, none"
    assert render_letter("greeting", source, {"student": "Sam", "note": "n"}).body == "Dear Sam (n), none"


def test_reads_leave_out_guarded_names_and_runtime_names_and_keep_the_tests_around_them():
    source = ('{{ case.reference }} {{ today }} {{ student }} {{ a | default("") }}'
              '{% if b is defined %}{{ b }} {{ c }}{% endif %}'
              '{% if kind == "x" %}{{ d }}{% elif e %}{{ f }}{% else %}{{ g }}{% endif %}'
              '{% for item in items %}{{ item }}{% endfor %}')
    assert template_reads(source) == {
        ("student", frozenset()), ("c", frozenset({("b", "*")})), ("kind", frozenset()),
        ("d", frozenset({("kind", "x")})), ("e", frozenset()), ("f", frozenset()), ("g", frozenset()),
        ("items", frozenset())}
