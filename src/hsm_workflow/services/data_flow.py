"""Which process variables are set for certain where a diagram reads them.

A must-analysis over a process's sequence flows. The variables definitely set at an
element are the intersection, over the paths into it, of what was set before plus what
each step sets for certain: the start form's required fields, a user task form's required
fields, the names a script assigns on every run, a caught message's variable. Boundary
events get what was set before their activity; event sub-processes what their scope had
when it began; loops are solved by iterating to a fixpoint. Due dates counting from a
variable, timer expressions and letter templates must find what they read set.

Choices make it path-aware where diagrams rely on them. A field required only while a
choice has one value (``staff_mediation_outcome == "extended"``) is set after a flow whose
condition is that choice; a flow condition or a script's ``choice = "value"`` tells which
values a choice can have; and "x is set whenever the choice has that value" is kept across
joins, so a letter may read x under ``{% if choice == "value" %}``. A call activity is taken
to set variables of its own only (the called process is checked on its own): it adds
nothing here and leaves what was known of the caller's choices in place.

A process with no start form takes any start data, so nothing can be said about it: it is
not checked.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

from jinja2 import TemplateSyntaxError
from lxml import etree

from ..domain.deadlines import Deadline
from ..domain.forms import Form, FormDefinitionError, parse_form
from ..engine.parsing import ParsedProcess, Problem
from .letters import Read, template_reads

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN}
# the source was screened (no DTD, no entities) before it became a ParsedProcess
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_NOT_FLOW_NODES = frozenset({"sequenceFlow", "documentation", "extensionElements", "incoming", "outgoing",
                             "laneSet", "textAnnotation", "association", "dataObject", "dataObjectReference",
                             "dataStoreReference", "property", "ioSpecification"})
ANY = "*"  # a condition's value meaning "whenever the choice is set at all"
Condition = tuple[str, str, str]  # (variable, choice, value): the variable is set whenever choice == value


Known = frozenset[tuple[str, frozenset[str]]]  # (choice, the values it can have here)


@dataclass(frozen=True)
class Facts:
    """What every path so far has set: ``certain``ly, ``maybe`` (on some path), under conditions,
    and which values a choice can have here (``known``, from the conditions of flows taken)."""

    certain: frozenset[str] = frozenset()
    maybe: frozenset[str] = frozenset()
    conditional: frozenset[Condition] = frozenset()
    known: Known = frozenset()

    @cached_property
    def _known(self) -> dict[str, frozenset[str]]:
        return dict(self.known)

    def values(self, choice: str) -> frozenset[str] | None:
        return self._known.get(choice)

    def ruled_out(self, choice: str, value: str) -> bool:
        """Whether the choice cannot have the value here (it is never set, or a flow excluded it)."""
        values = self.values(choice)
        return choice not in self.maybe or (value != ANY and values is not None and value not in values)

    def holds(self, condition: Condition) -> bool:
        variable, choice, value = condition
        return variable in self.certain or condition in self.conditional or self.ruled_out(choice, value)

    def meet(self, other: "Facts", asked: frozenset[tuple[str, str]], read: frozenset[str]) -> "Facts":
        """Facts on both paths. A condition also holds on a path where its choice cannot have its
        value, so the conditions ``asked`` about are tried for each ``read`` variable one path sets."""
        certain, maybe = self.certain & other.certain, self.maybe | other.maybe
        candidates = self.conditional | other.conditional | {
            (variable, choice, value) for variable in ((self.certain ^ other.certain) & read)
            for choice, value in asked if choice in maybe}
        known = {(choice, values | other_values) for choice, values in self.known
                 if (other_values := other.values(choice)) is not None}
        return Facts(certain, maybe, frozenset(
            c for c in candidates
            if c[0] not in certain and c[1] in maybe and self.holds(c) and other.holds(c)), frozenset(known))

    def join(self, other: "Facts") -> "Facts":
        """Facts after both paths ran (a parallel join)."""
        return Facts(self.certain | other.certain, self.maybe | other.maybe,
                     self.conditional | other.conditional, self.known & other.known)

    def then(self, sets: "Sets") -> "Facts":
        """Facts after a step: what is known of a choice the step sets again no longer holds."""
        certain = self.certain | sets.certain
        kept = {c for c in self.conditional if c[1] not in sets.touched and c[0] not in certain}
        return Facts(frozenset(certain), self.maybe | sets.touched | sets.certain,
                     frozenset(kept | sets.conditional),
                     frozenset({k for k in self.known if k[0] not in sets.touched} | sets.known))

    def given(self, choices: Mapping[str, frozenset[str]]) -> "Facts":
        """Facts on a flow taken only when each choice has one of its values."""
        known = {(choice, values & (self.values(choice) or values)) for choice, values in choices.items()}
        known |= {k for k in self.known if k[0] not in choices}
        met = {variable for variable, choice, value in self.conditional if choice in choices and (
            value == ANY or all((variable, choice, v) in self.conditional for v in choices[choice]))}
        certain = self.certain | met
        return Facts(certain, self.maybe | met, frozenset(c for c in self.conditional if c[0] not in certain),
                     frozenset(known))

    def provides(self, name: str, guards: frozenset[tuple[str, str]]) -> bool:
        """Whether ``name`` is set wherever it is read under ``guards`` ((choice, value) all holding)."""
        return name in self.certain or any(
            self.ruled_out(choice, value) or (name, choice, value) in self.conditional
            or (name, choice, ANY) in self.conditional for choice, value in guards)


@dataclass(frozen=True)
class Sets:
    """What one step sets: ``certain`` on every run, ``conditional`` under a choice, ``touched`` maybe,
    and ``known`` values (a script's ``choice = "value"``)."""

    certain: frozenset[str] = frozenset()
    conditional: frozenset[Condition] = frozenset()
    touched: frozenset[str] = frozenset()
    known: Known = frozenset()


NOTHING = Sets()


def form_sets(form: Form) -> Sets:
    """What a submission of the form sets (a checkbox is always set: absent means False)."""
    certain = {f.key for f in form.fields if f.required or f.type == "checkbox"}
    conditional = {(f.key, *f.shown_when) for f in form.fields if f.required_if_shown and f.shown_when}
    return Sets(frozenset(certain), frozenset(conditional), frozenset(f.key for f in form.fields))


def script_sets(script: str) -> Sets:
    """Names a script assigns on every run (both branches of an if), and all it may assign."""
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return NOTHING
    touched = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    constants: dict[str, set[str]] = {}
    for statement in ast.walk(tree):
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name):
            value = statement.value
            text = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
            constants.setdefault(statement.targets[0].id, set()).add(text)
    known = frozenset((name, frozenset(values)) for name, values in constants.items() if None not in values)
    return Sets(frozenset(_assigned(tree.body)), touched=touched, known=known)


def _assigned(statements: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for statement in statements:
        if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(statement, ast.If):
            names |= _assigned(statement.body) & _assigned(statement.orelse)
    return names


def expression_reads(expression: str) -> set[str]:
    """Variables a Python expression reads (names it calls are functions)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return set()
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in called}


def choices_of(condition: str) -> dict[str, frozenset[str]]:
    """The values each choice can have when a flow condition holds:
    ``a == "x" and b in ("y", "z")`` -> {a: {x}, b: {y, z}}."""
    try:
        tree = ast.parse(condition.strip(), mode="eval").body
    except SyntaxError:
        return {}
    parts = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
    found = {}
    for part in parts:
        if not (isinstance(part, ast.Compare) and len(part.ops) == 1 and isinstance(part.left, ast.Name)):
            continue
        operator, right = part.ops[0], part.comparators[0]
        if isinstance(operator, ast.Eq) and isinstance(right, ast.Constant) and isinstance(right.value, str):
            found[part.left.id] = frozenset({right.value})
        elif isinstance(operator, ast.In) and isinstance(right, (ast.Tuple, ast.List, ast.Set)) and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in right.elts):
            found[part.left.id] = frozenset(e.value for e in right.elts)
    return found


def _local(node) -> str:
    return etree.QName(node).localname


def _process_node(process: ParsedProcess):
    root = etree.fromstring(process.xml, parser=_PARSER)
    return root.find(f"bpmn:process[@id='{process.process_id}']", NS)


def start_event(process: ParsedProcess):
    """The process's none start event (its own, not a sub-process's), if it has one."""
    node = _process_node(process)
    for start in node.findall("bpmn:startEvent", NS) if node is not None else []:
        if not any(_local(child).endswith("EventDefinition") for child in start.iterchildren(etree.Element)):
            return start
    return None


def start_form_of(process: ParsedProcess) -> str | None:
    """The form id on the process's start event (``camunda:formRef``), if it declares one."""
    start = start_event(process)
    return start.get(f"{{{CAMUNDA}}}formRef") if start is not None else None


class _Graph:
    """The flow nodes of a process and its sub-processes, with their flows and scopes."""

    def __init__(self, process_node):
        self.nodes: dict[str, object] = {}
        self.scope: dict[str, str | None] = {}  # node id -> id of the sub-process it sits in
        self.incoming: dict[str, list[tuple[str, dict[str, frozenset[str]]]]] = {}
        self.attached: dict[str, str] = {}  # boundary event -> its activity
        self.messages = {m.get("id"): m.get("name") for m in process_node.getroottree().iter(f"{{{BPMN}}}message")}
        self._read(process_node, None)

    def _read(self, container, scope: str | None) -> None:
        for child in container.iterchildren(etree.Element):
            kind = _local(child)
            if kind == "sequenceFlow":
                condition = child.findtext("bpmn:conditionExpression", default="", namespaces=NS)
                self.incoming.setdefault(child.get("targetRef"), []).append(
                    (child.get("sourceRef"), choices_of(condition) if condition.strip() else {}))
            elif kind not in _NOT_FLOW_NODES and child.get("id"):
                self.nodes[child.get("id")] = child
                self.scope[child.get("id")] = scope
                if kind == "boundaryEvent":
                    self.attached[child.get("id")] = child.get("attachedToRef")
                if kind == "subProcess":
                    self._read(child, child.get("id"))

    def kind(self, node_id: str) -> str:
        return _local(self.nodes[node_id])

    def inside(self, scope: str | None, kind: str) -> Iterator[str]:
        return (i for i, s in self.scope.items() if s == scope and self.kind(i) == kind)

    def caught_message(self, node_id: str) -> str | None:
        definition = self.nodes[node_id].find("bpmn:messageEventDefinition", NS)
        return self.messages.get(definition.get("messageRef")) if definition is not None else None

    def timer_expressions(self, node_id: str) -> list[str]:
        definition = self.nodes[node_id].find("bpmn:timerEventDefinition", NS)
        return [e.text or "" for e in definition] if definition is not None else []


class _Analysis:
    def __init__(self, process: ParsedProcess, graph: "_Graph", forms: Mapping[str, Form], start: Facts,
                 asked: frozenset[tuple[str, str]], read: frozenset[str]):
        self.graph = graph
        self.settings = {e.id: e.settings for e in process.elements}
        self.forms, self.start, self.asked, self.read = forms, start, asked, read
        self.before: dict[str, Facts | None] = {i: None for i in self.graph.nodes}  # None: not reached
        self.start_id = start_event(process).get("id")

    def solve(self) -> None:
        changed = True
        while changed:
            changed = False
            for node_id in self.graph.nodes:
                facts = self._entry(node_id)
                if facts != self.before[node_id]:
                    self.before[node_id], changed = facts, True

    def _entry(self, node_id: str) -> Facts | None:
        graph = self.graph
        if node_id == self.start_id or (graph.kind(node_id) == "startEvent" and graph.scope[node_id] is None):
            return self.start
        if node_id in graph.attached:
            return self.before.get(graph.attached[node_id])
        scope = graph.scope[node_id]
        if graph.kind(node_id) == "startEvent" and scope is not None:
            return self._scope_entry(scope)
        arriving = [self._after_flow(source, choices) for source, choices in graph.incoming.get(node_id, [])]
        reached = [facts for facts in arriving if facts is not None]
        if graph.kind(node_id) == "parallelGateway" and len(arriving) > 1:
            if len(reached) < len(arriving):
                return None
            return _fold(reached, Facts.join)
        return _fold(reached, self._meet)

    def _meet(self, one: Facts, other: Facts) -> Facts:
        return one.meet(other, self.asked, self.read)

    def _scope_entry(self, scope: str) -> Facts | None:
        """What a sub-process starts with; an event sub-process, what its own scope started with."""
        if self.graph.nodes[scope].get("triggeredByEvent") == "true":
            outer = self.graph.scope[scope]
            return self.start if outer is None else self._scope_entry(outer)
        return self.before.get(scope)

    def _after_flow(self, source: str, choices: Mapping[str, frozenset[str]]) -> Facts | None:
        after = self.after(source)
        return after.given(choices) if after is not None and choices else after

    def after(self, node_id: str) -> Facts | None:
        before = self.before.get(node_id)
        if before is None:
            return None
        kind = self.graph.kind(node_id)
        if kind == "subProcess":
            ends = [self.after(end) for end in self.graph.inside(node_id, "endEvent")]
            return _fold([e for e in ends if e is not None], self._meet)
        return before.then(self._sets(node_id, kind))

    def _sets(self, node_id: str, kind: str) -> Sets:
        node = self.graph.nodes[node_id]
        if kind == "userTask":
            form = self.forms.get(self.settings.get(node_id, {}).get("form", ""))
            return form_sets(form) if form is not None else NOTHING
        if kind == "scriptTask":
            return script_sets(node.findtext("bpmn:script", default="", namespaces=NS))
        message = self.graph.caught_message(node_id)
        return Sets(frozenset({message}), touched=frozenset({message})) if message else NOTHING


def _fold(items: list[Facts], combine) -> Facts | None:
    if not items:
        return None
    result = items[0]
    for item in items[1:]:
        result = combine(result, item)
    return result


MISSING = "which no required field or start datum provides on every path to it"


def data_gaps(process: ParsedProcess, form_sources: Mapping[str, str],
              letter_sources: Mapping[str, str]) -> list[Problem]:
    """Every due date, timer and letter of the process reading a variable not set for certain there."""
    start_form = start_form_of(process)
    used = {e.settings["form"] for e in process.of_kind("user_task") if e.settings.get("form")} | {start_form}
    forms = _parsed({form_id: form_sources[form_id] for form_id in used if form_id in form_sources})
    if start_form is None or start_form not in forms:
        return []
    graph = _Graph(_process_node(process))
    needs = _needs(graph, {e.id: e.settings for e in process.elements}, letter_sources)
    asked = frozenset(test for found in needs.values() for _, tests, _ in found for test in tests) | {
        (choice, value) for flows in graph.incoming.values() for _, choices in flows
        for choice, values in choices.items() for value in values}
    read = frozenset(name for found in needs.values() for name, _, _ in found)
    analysis = _Analysis(process, graph, forms, Facts().then(form_sets(forms[start_form])), asked, read)
    analysis.solve()
    return [Problem(process.file_name, node_id, f"{what} {name}, {MISSING}")
            for node_id, found in needs.items() if (facts := analysis.before[node_id]) is not None
            for name, tests, what in sorted(found) if not facts.provides(name, tests)]


Need = tuple[str, frozenset[tuple[str, str]], str]  # (variable, tests it is read under, what reads it)


def _needs(graph: "_Graph", settings: Mapping[str, Mapping[str, str]],
           letter_sources: Mapping[str, str]) -> dict[str, set[Need]]:
    """What each element reads: the variable its due date counts from, its timer's, its letter's."""
    needs: dict[str, set[Need]] = {}
    for node_id in graph.nodes:
        found = needs.setdefault(node_id, set())
        element = settings.get(node_id, {})
        since = _since(element.get("due")) if graph.kind(node_id) == "userTask" else None
        if since:
            found.add((since, frozenset(), f"due date of {node_id} counts from"))
        for expression in graph.timer_expressions(node_id):
            found |= {(name, frozenset(), f"timer {node_id} reads") for name in expression_reads(expression)}
        letter = element.get("letter")
        if letter in letter_sources:
            found |= {(name, tests, f"letter {letter!r} of {node_id} reads")
                      for name, tests in _reads(letter_sources[letter])}
    return needs


def _since(due: str | None) -> str | None:
    try:
        return Deadline.parse(due).since if due else None
    except ValueError:
        return None  # reported by the due-date check


def _reads(source: str) -> set[Read]:
    try:
        return template_reads(source)
    except TemplateSyntaxError:
        return set()  # reported by the letter check


def _parsed(form_sources: Mapping[str, str]) -> dict[str, Form]:
    forms = {}
    for form_id, source in form_sources.items():
        try:
            forms[form_id] = parse_form(source, f"forms/{form_id}.form")
        except FormDefinitionError:
            continue  # reported by the form check
    return forms
