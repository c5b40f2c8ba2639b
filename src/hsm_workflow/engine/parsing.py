"""Reading BPMN files into specs, safely, and describing what the runtime must check.

XML is screened with defusedxml (no DTDs, no entities) and parsed with a non-resolving,
non-networking lxml parser before SpiffWorkflow sees it; it must be UTF-8, and no element
may take an id the engine gives its own task specs.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import product
from dataclasses import dataclass, field

import defusedxml.ElementTree as safe_tree
from defusedxml import DefusedXmlException
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException

from RestrictedPython import compile_restricted_eval

from ..domain.calendar import parse_instant
from .runtime import spec_to_json
from .sandbox import Limits, SandboxEnvironment, ScriptLimitExceeded
from .specs import ActionTask, HsmParser, use_clocked_timers

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                              dtd_validation=False, huge_tree=False, remove_comments=False)
_VALIDATOR = BpmnValidator()


@dataclass(frozen=True)
class Problem:
    """One reason a deployment is refused: file, element id and what is wrong."""

    file: str
    element: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.element}" if self.element else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Element:
    """A diagram element the deployment checks look at."""

    id: str
    name: str
    kind: str
    settings: Mapping[str, str]


@dataclass
class ParsedProcess:
    process_id: str
    name: str
    file_name: str
    xml: bytes
    spec_json: str
    calls: set[str] = field(default_factory=set)
    elements: list[Element] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Element]:
        return [element for element in self.elements if element.kind == kind]


_DECLARED_ENCODING = re.compile(rb"""\A\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
_UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}
_OTHER_BOMS = (b"\x00\x00\xfe\xff", b"\xff\xfe", b"\xfe\xff")

#: Task spec names SpiffWorkflow 3.2 gives every process spec (bpmn/specs/bpmn_process_spec.py:
#: ``Start``, ``End`` and ``<process>.EndJoin``; ``Root`` in older serialized state): an element
#: with one of these ids replaces the engine's own task spec and the process cannot run.
RESERVED_IDS = {"Start", "End", "Root"}
RESERVED_SUFFIX = ".EndJoin"


def _encoding_problem(data: bytes) -> str | None:
    """Why ``data`` is not UTF-8 XML, if it is not (the parsers fail obscurely on UTF-7 & co.)."""
    if data.startswith(_OTHER_BOMS):
        return "XML must be encoded in UTF-8 (this file starts with a UTF-16 or UTF-32 byte order mark)"
    declared = _DECLARED_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).decode("ascii", "replace").lower() not in _UTF8_NAMES:
        return f"XML must be encoded in UTF-8, not {declared.group(1).decode('ascii', 'replace')!r}"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"XML must be encoded in UTF-8 (byte {error.start} is not)"
    return None


def _reserved_ids(file_name: str, tree) -> list[Problem]:
    return [Problem(file_name, node.get("id"), f"the id {node.get('id')!r} is reserved by the workflow engine; "
                    "rename the element")
            for node in tree.iter(etree.Element)
            if node.get("id") in RESERVED_IDS or (node.get("id") or "").endswith(RESERVED_SUFFIX)]


def _screen(file_name: str, data: bytes):
    if reason := _encoding_problem(data):
        raise ValidationException(reason, file_name=file_name)
    try:
        safe_tree.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        return etree.fromstring(data, parser=_XML_PARSER)
    except DefusedXmlException as error:
        raise ValidationException(f"unsafe XML refused ({type(error).__name__})", file_name=file_name)
    except (etree.XMLSyntaxError, safe_tree.ParseError, ValueError, LookupError) as error:
        raise ValidationException(f"not well-formed XML: {error}", file_name=file_name)


def _message(error: Exception) -> str:
    return str(error.args[0]) if error.args else type(error).__name__


def _element_at_line(tree, line: int | None) -> str | None:
    if line is None:
        return None
    for node in tree.iter():
        if node.sourceline == line and node.get("id"):
            return node.get("id")
    return None


def parse_files(files: Mapping[str, bytes]) -> tuple[dict[str, ParsedProcess], list[Problem]]:
    """Parse a set of BPMN files together (call activities resolve within the set)."""
    parser, problems, sources = HsmParser(), [], {}
    for file_name, data in sorted(files.items()):
        try:
            tree = _screen(file_name, data)
        except ValidationException as error:
            problems.append(Problem(file_name, None, _message(error)))
            continue
        if reserved := _reserved_ids(file_name, tree):
            problems.extend(reserved)
            continue
        try:
            _VALIDATOR.validate(tree, file_name)
            parser.add_bpmn_xml(tree, file_name)
        except ValidationException as error:
            element = getattr(error, "id", None) or _element_at_line(tree, error.line_number)
            line = f" (line {error.line_number})" if error.line_number else ""
            problems.append(Problem(file_name, element, _message(error) + line))
            continue
        sources[file_name] = data
    processes = {}
    for process_id in parser.get_process_ids():
        file_name = parser.process_parsers[process_id].filename
        if file_name not in sources:
            continue
        try:
            processes[process_id] = _build(parser, process_id, file_name, sources[file_name])
        except (ValidationException, SpiffWorkflowException, KeyError) as error:
            problems.append(Problem(file_name, getattr(error, "id", None) or process_id, _message(error)))
    return processes, problems


def _build(parser: HsmParser, process_id: str, file_name: str, data: bytes) -> ParsedProcess:
    spec = parser.get_spec(process_id)
    subprocess_specs = parser.get_subprocess_specs(process_id)
    for each in (spec, *subprocess_specs.values()):
        use_clocked_timers(each)
    own_specs = [spec] + [s for name, s in subprocess_specs.items() if _embedded_in(parser, name, file_name)]
    process = ParsedProcess(process_id, spec.description or process_id, file_name, data,
                            spec_to_json(spec, subprocess_specs))
    for each in own_specs:
        for task_spec in each.task_specs.values():
            _describe(process, task_spec)
    return process


def _embedded_in(parser: HsmParser, name: str, file_name: str) -> bool:
    """Whether ``name`` is a sub-process drawn inside this file (not a called process)."""
    sub = parser.process_parsers.get(name)
    return sub is not None and sub.filename == file_name and not sub.node.tag.endswith("}process")


def _describe(process: ParsedProcess, task_spec) -> None:
    called = getattr(task_spec, "spec", None)
    if type(task_spec).__name__ == "CallActivity" and called:
        process.calls.add(called)
    extensions = dict(getattr(task_spec, "extensions", None) or {})
    name = getattr(task_spec, "bpmn_name", None) or ""
    element_id = getattr(task_spec, "bpmn_id", None) or task_spec.name
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(task_spec, UserTask):
        process.elements.append(Element(element_id, name, "user_task", extensions))
    elif isinstance(task_spec, ActionTask):
        process.elements.append(Element(element_id, name, "action", extensions))
    elif isinstance(definition, TimerEventDefinition):
        process.elements.append(Element(element_id, name, "timer", {
            "expression": definition.expression, "type": _timer_type(definition)}))
    elif isinstance(definition, MessageEventDefinition):
        process.elements.append(Element(element_id, name, "message", {"name": definition.name, **extensions}))
    elif extensions:
        process.elements.append(Element(element_id, name, "other", extensions))


def _timer_type(definition: TimerEventDefinition) -> str:
    if isinstance(definition, CycleTimerEventDefinition):
        return "cycle"
    if isinstance(definition, DurationTimerEventDefinition):
        return "duration"
    return "date"


PROBE_VALUES = ("2026-01-05", 0)  # timers read dates and counts
MAX_PROBED_NAMES = 4


def timer_problem(expression: str, kind: str, functions: Mapping, limits: Limits = Limits()) -> str | None:
    """Why a timer expression would not give a valid date, duration or cycle, if it would not.

    The variables it reads are unknown at deploy time: each is tried as a sample date and
    as a count (the usual inputs of a timer); one combination that works is enough. Each
    try runs under the sandbox's limits, and one that exceeds them ends the probing.
    """
    try:
        names = sorted(n for n in compile_restricted_eval(expression.strip()).used_names if n not in functions)
    except SyntaxError as error:
        return f"timer expression {expression!r} is not valid Python: {error}"
    first_error = None
    environment = SandboxEnvironment(functions, limits)
    for values in product(PROBE_VALUES, repeat=min(len(names), MAX_PROBED_NAMES)):
        probe = dict(zip(names, values)) | {n: PROBE_VALUES[0] for n in names[MAX_PROBED_NAMES:]}
        try:
            _check_timer_value(environment.evaluate(expression, probe), kind)
            return None
        except ScriptLimitExceeded as error:
            return f"timer expression {expression!r} {error}"
        except Exception as error:  # any failure is the process owner's to fix: report it
            first_error = first_error or error
    return f"timer expression {expression!r} does not give a valid {kind}: {first_error}"


def _check_timer_value(value, kind: str) -> None:
    if kind == "date":
        parse_instant(value)
    elif kind == "duration":
        TimerEventDefinition.parse_iso_duration(value)
    else:
        TimerEventDefinition.parse_iso_recurring_interval(value)
