"""Letters: written notifications rendered from editable templates in a Jinja sandbox.

Undefined names are errors (StrictUndefined): a letter never goes out with a blank where a
name or date should be. A template tests an optional value with ``is defined`` or gives it
a ``default``; :func:`template_reads` lists the names it reads without such a guard, which
the deployment checks are set on every path to the letter.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from ..errors import StepFailed

_JINJA = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
#: Names the runtime gives every letter (services/progress.py ``_write_letter``).
RUNTIME_NAMES = frozenset({"case", "today"})
_DEFAULT_FILTERS = frozenset({"default", "d"})
_DEFINED_TESTS = frozenset({"defined", "undefined"})


@dataclass(frozen=True)
class RenderedLetter:
    title: str
    body: str


def template_problem(source: str) -> str | None:
    """Why a letter template would not render, if it would not."""
    try:
        _JINJA.parse(source)
    except TemplateSyntaxError as error:
        return f"line {error.lineno}: {error.message}"
    return None


Read = tuple[str, frozenset[tuple[str, str]]]  # (name, the (choice, value) tests it is read under)
ANY = "*"  # the value of an ``is defined`` test


def template_reads(source: str) -> set[Read]:
    """The process variables a (valid) template reads with no ``is defined``/``default`` guard of
    their own, each with the tests of the ``if`` it sits in: ``choice == "value"`` and
    ``choice is defined`` (value ``*``)."""
    tree = _JINJA.parse(source)
    free = meta.find_undeclared_variables(tree) - RUNTIME_NAMES
    return {read for read in _reads(tree, frozenset(), frozenset()) if read[0] in free}


def _reads(node: nodes.Node, guarded: frozenset[str], tests: frozenset[tuple[str, str]]) -> Iterator[Read]:
    """Names loaded outside a guard: ``x is defined`` guards x in what it decides, ``x | default``
    guards that use of x."""
    if isinstance(node, nodes.Name):
        if node.ctx == "load" and node.name not in guarded:
            yield node.name, tests
        return
    if isinstance(node, nodes.Test) and node.name in _DEFINED_TESTS and isinstance(node.node, nodes.Name):
        return
    if isinstance(node, nodes.Filter) and node.name in _DEFAULT_FILTERS and isinstance(node.node, nodes.Name):
        for child in (*node.args, *node.kwargs):
            yield from _reads(child, guarded, tests)
        return
    if isinstance(node, nodes.And):
        yield from _reads(node.left, guarded, tests)
        yield from _reads(node.right, guarded | _defined_by(node.left), tests | _tests_of(node.left))
        return
    if isinstance(node, (nodes.If, nodes.CondExpr)):
        yield from _reads(node.test, guarded, tests)
        inside, then_tests = guarded | _defined_by(node.test), tests | _tests_of(node.test)
        if isinstance(node, nodes.If):
            then, otherwise = node.body, [*node.elif_, *node.else_]
        else:
            then, otherwise = [node.expr1], [node.expr2] if node.expr2 is not None else []
        for child in then:
            yield from _reads(child, inside, then_tests)
        for child in otherwise:
            yield from _reads(child, guarded, tests)
        return
    for child in node.iter_child_nodes():
        yield from _reads(child, guarded, tests)


def _conjuncts(test: nodes.Node) -> Iterator[nodes.Node]:
    if isinstance(test, nodes.And):
        yield from _conjuncts(test.left)
        yield from _conjuncts(test.right)
    else:
        yield test


def _defined_by(test: nodes.Node) -> frozenset[str]:
    """The names a condition has found defined when it holds (``x is defined and ...``)."""
    return frozenset(choice for choice, value in _tests_of(test) if value == ANY)


def _tests_of(test: nodes.Node) -> frozenset[tuple[str, str]]:
    """(choice, value) of each ``x == "value"`` and (x, *) of each ``x is defined`` a condition requires."""
    found = set()
    for part in _conjuncts(test):
        if isinstance(part, nodes.Test) and part.name == "defined" and isinstance(part.node, nodes.Name):
            found.add((part.node.name, ANY))
        elif (isinstance(part, nodes.Compare) and isinstance(part.expr, nodes.Name) and len(part.ops) == 1
              and part.ops[0].op == "eq" and isinstance(part.ops[0].expr, nodes.Const)
              and isinstance(part.ops[0].expr.value, str)):
            found.add((part.expr.name, part.ops[0].expr.value))
    return frozenset(found)


def render_letter(template_id: str, source: str, variables: Mapping[str, Any]) -> RenderedLetter:
    """Render a template; a first line ``Subject: ...`` becomes the letter's title.

    Any failure (an undefined name above all) fails the step: StepFailed names the template.
    """
    try:
        text = _JINJA.from_string(source).render(**variables)
    except Exception as error:  # a template is its process owner's to fix: never a half-written letter
        raise StepFailed(f"letter {template_id!r} cannot be written: {error}") from error
    first, _, rest = text.partition("\n")
    if first.lower().startswith("subject:"):
        return RenderedLetter(first.split(":", 1)[1].strip(), rest.lstrip("\n"))
    return RenderedLetter(template_id.replace("_", " ").capitalize(), text)
