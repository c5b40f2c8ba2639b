"""User-task forms: Camunda Forms (form-js JSON) definitions and submission checks.

A form file is what Camunda Modeler's form editor writes. `parse_form` reads it into a
`Form`; `validate_submission` checks submitted data (JSON or HTML-form strings) against a
marshmallow schema built from that form and returns clean, JSON-serialisable values.
Validation follows form-js: patterns are searched (not anchored), a required checkbox
must be ticked and a required list needs at least one entry. A field may be shown only
when a choice has one value (form-js ``conditional.hide`` written as
``=<choice key> != "<value>"``): a hidden field is not submitted, and "required" holds
only while it is shown.
"""

from __future__ import annotations

import json
import keyword
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

TEXT_TYPES = frozenset({"textfield", "textarea"})
OPTION_TYPES = frozenset({"checklist", "radio", "select", "taglist"})
LIST_TYPES = frozenset({"checklist", "taglist"})
FIELD_TYPES = TEXT_TYPES | OPTION_TYPES | {"number", "checkbox", "datetime"}
STATIC_TYPES = frozenset({"text", "spacer", "separator"})
DATETIME_SUBTYPES = ("date", "time", "datetime")
LOCAL_ZONE = "Europe/London"
VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
REQUIRED_MESSAGE = "Missing data for required field."
SHOWN_WHEN = re.compile(r'=\s*([A-Za-z][A-Za-z0-9_]*)\s*!=\s*"([^"]*)"\s*')


class FormDefinitionError(ValueError):
    """A form file that cannot be used: the message names the file, component and problem."""


class FormValidationError(ValueError):
    """Submitted data that does not fit its form; `errors` maps field key -> messages."""

    def __init__(self, errors: dict[str, list[str]], form_id: str) -> None:
        self.errors = errors
        super().__init__(f"Invalid data for form {form_id!r} in: {', '.join(sorted(errors))}")


@dataclass(frozen=True)
class Field:
    """One input component of a form (groups flattened, static components left out)."""

    key: str
    type: str
    label: str = ""
    required: bool = False
    description: str = ""
    options: tuple[tuple[str, str], ...] = ()  # (value, label) pairs
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    subtype: str | None = None  # datetime only: 'date' | 'time' | 'datetime'
    default: Any = dataclass_field(default=None, hash=False)
    email: bool = False  # validate.validationType == "email"
    decimal_digits: int | None = None  # number only: 0 means whole numbers
    shown_when: tuple[str, str] | None = None  # (choice key, value): hidden otherwise
    required_if_shown: bool = False  # required while shown (``required`` is False then)


@dataclass(frozen=True)
class Form:
    """A parsed form: its input fields, plus the raw components for rendering in order."""

    id: str
    fields: tuple[Field, ...]
    components: list[dict[str, Any]] = dataclass_field(
        default_factory=list, compare=False, hash=False, repr=False
    )

    def field(self, key: str) -> Field:
        """Return the field with this key; KeyError if there is none."""
        for candidate in self.fields:
            if candidate.key == key:
                return candidate
        raise KeyError(key)


@dataclass(frozen=True)
class _Place:
    """Where a component sits, for error messages."""

    source: str
    path: str
    key: Any = None

    def error(self, problem: str) -> FormDefinitionError:
        """The error to raise for `problem` at this place."""
        named = f" {self.key!r}" if isinstance(self.key, str) and self.key else ""
        return FormDefinitionError(f"{self.source}: {self.path}{named}: {problem}")


# ---------------------------------------------------------------- parsing


def load_form(path: Path) -> Form:
    """Read and parse a form file; its `id` must equal the file stem."""
    form = parse_form(path.read_text(encoding="utf-8"), str(path))
    if form.id != path.stem:
        raise FormDefinitionError(f"{path}: form id {form.id!r} differs from file name {path.stem!r}")
    return form


def parse_form(text: str, source: str) -> Form:
    """Parse form-js JSON; `source` names the file in error messages."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise FormDefinitionError(f"{source}: invalid JSON: {error}") from None
    if not isinstance(document, dict):
        raise FormDefinitionError(f"{source}: expected a JSON object")
    form_id = document.get("id")
    if not isinstance(form_id, str) or not form_id.strip():
        raise FormDefinitionError(f"{source}: missing form id")
    components = document.get("components")
    if not isinstance(components, list):
        raise FormDefinitionError(f"{source}: 'components' must be a list")
    return Form(form_id, _checked_conditions(_unique_fields(_walk(components, source, "components")), source),
                components)


def _checked_conditions(fields_: tuple[Field, ...], source: str) -> tuple[Field, ...]:
    """Refuse a condition on a key that is not a one-value choice of the form, or on no option of it."""
    choices = {spec.key: {value for value, _ in spec.options} for spec in fields_ if spec.type in {"radio", "select"}}
    for spec in fields_:
        if spec.shown_when is None:
            continue
        key, value = spec.shown_when
        if key not in choices:
            raise FormDefinitionError(f"{source}: {spec.key!r}: conditional.hide refers to {key!r}, "
                                      "which is not a radio or select of this form")
        if value not in choices[key]:
            raise FormDefinitionError(f"{source}: {spec.key!r}: conditional.hide names {value!r}, "
                                      f"which is not an option of {key!r}")
    return fields_


def _unique_fields(found: Iterator[tuple[_Place, Field]]) -> tuple[Field, ...]:
    """Collect fields in order, rejecting a key used twice."""
    by_key: dict[str, tuple[_Place, Field]] = {}
    for place, parsed in found:
        if parsed.key in by_key:
            raise place.error(f"duplicate key (also used at {by_key[parsed.key][0].path})")
        by_key[parsed.key] = (place, parsed)
    return tuple(parsed for _, parsed in by_key.values())


def _walk(components: list[Any], source: str, path: str) -> Iterator[tuple[_Place, Field]]:
    """Yield the input fields of a component list in order, flattening groups."""
    for index, component in enumerate(components):
        place = _Place(source, f"{path}[{index}]")
        if not isinstance(component, dict):
            raise place.error("component must be a JSON object")
        place = _Place(source, place.path, component.get("key"))
        kind = component.get("type")
        if kind == "group":
            yield from _walk_group(component, place)
        elif kind in FIELD_TYPES:
            yield place, _parse_field(component, place)
        elif kind not in STATIC_TYPES:
            supported = ", ".join(sorted(FIELD_TYPES | STATIC_TYPES | {"group"}))
            raise place.error(f"unknown component type {kind!r} (supported: {supported})")


def _walk_group(group: dict[str, Any], place: _Place) -> Iterator[tuple[_Place, Field]]:
    """Yield the fields inside a group; groups that nest data under a path are refused."""
    if group.get("path"):
        raise place.error("group 'path' is not supported (fields must be top-level variables)")
    children = group.get("components", [])
    if not isinstance(children, list):
        raise place.error("group 'components' must be a list")
    yield from _walk(children, place.source, f"{place.path}.components")


def _parse_field(component: dict[str, Any], place: _Place) -> Field:
    """Build a Field from one input component."""
    key, kind = place.key, component["type"]
    if not isinstance(key, str) or not key:
        raise place.error(f"{kind} component has no 'key'")
    if not VARIABLE_NAME.fullmatch(key) or keyword.iskeyword(key):
        raise place.error(
            "key must be usable as a process variable: ASCII letters, digits and '_', starting with a letter"
        )
    rules = component.get("validate") or {}
    if not isinstance(rules, dict):
        raise place.error("'validate' must be a JSON object")
    text_rules = rules if kind in TEXT_TYPES else {}
    number_rules, number_settings = (rules, component) if kind == "number" else ({}, {})
    shown_when = _shown_when(component, place)
    return Field(
        key=key,
        type=kind,
        label=str(component.get("label") or component.get("dateLabel") or component.get("timeLabel") or ""),
        required=bool(rules.get("required")) and shown_when is None,
        description=str(component.get("description") or ""),
        options=_options(component, place),
        min_length=_limit(text_rules, "minLength", place, whole=True),
        max_length=_limit(text_rules, "maxLength", place, whole=True),
        minimum=_limit(number_rules, "min", place),
        maximum=_limit(number_rules, "max", place),
        pattern=_pattern(text_rules, place),
        subtype=_subtype(component, place),
        default=component.get("defaultValue"),
        email=_is_email(text_rules, place),
        decimal_digits=_limit(number_settings, "decimalDigits", place, whole=True),
        shown_when=shown_when,
        required_if_shown=bool(rules.get("required")) and shown_when is not None,
    )


def _shown_when(component: dict[str, Any], place: _Place) -> tuple[str, str] | None:
    """(choice key, value) from ``conditional.hide`` = '=<key> != "<value>"'; None without one."""
    hide = (component.get("conditional") or {}).get("hide")
    if not hide:
        return None
    match = SHOWN_WHEN.fullmatch(hide) if isinstance(hide, str) else None
    if match is None:
        raise place.error(f'conditional.hide {hide!r} is not supported: write =<choice key> != "<value>" '
                          "(the field is shown only when that choice has that value)")
    if component.get("type") == "checkbox":
        raise place.error("a checkbox cannot be shown conditionally")
    return match.group(1), match.group(2)


def _options(component: dict[str, Any], place: _Place) -> tuple[tuple[str, str], ...]:
    """Static (value, label) options of a radio/select/checklist/taglist; () for others."""
    kind = component["type"]
    if kind not in OPTION_TYPES:
        return ()
    values = component.get("values")
    if not isinstance(values, list) or not values:
        raise place.error(
            f"{kind} needs static options in 'values' (valuesKey/valuesExpression are not supported)"
        )
    options = []
    for option in values:
        value = option.get("value") if isinstance(option, dict) else None
        if not isinstance(value, str) or not value:
            raise place.error(f"option {option!r} needs a non-empty string 'value'")
        options.append((value, str(option.get("label") or value)))
    if len({value for value, _ in options}) < len(options):
        raise place.error("option values must be unique")
    return tuple(options)


def _limit(rules: dict[str, Any], name: str, place: _Place, whole: bool = False) -> int | float | None:
    """A numeric setting (number or numeric string) as int/float; None when absent or blank."""
    raw = rules.get(name)
    if raw is None or raw == "":
        return None
    number = _finite(raw)
    if number is None or (whole and (number < 0 or not number.is_integer())):
        raise place.error(f"{name} must be {'a whole number >= 0' if whole else 'a number'}, not {raw!r}")
    return int(number) if number.is_integer() else number


def _finite(raw: Any) -> float | None:
    """`raw` as a finite float, or None if it is not a number."""
    if isinstance(raw, bool):
        return None
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _pattern(rules: dict[str, Any], place: _Place) -> str | None:
    """The regular expression in validate.pattern, checked to compile."""
    pattern = rules.get("pattern") or None
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as error:
            raise place.error(f"invalid pattern {pattern!r}: {error}") from None
    return pattern


def _is_email(rules: dict[str, Any], place: _Place) -> bool:
    """Whether validate.validationType asks for an email address."""
    kind = rules.get("validationType") or "custom"
    if kind not in ("email", "custom"):
        raise place.error(f"validationType {kind!r} is not supported (use 'email' or a pattern)")
    return kind == "email"


def _subtype(component: dict[str, Any], place: _Place) -> str | None:
    """The datetime subtype; None for other components."""
    if component["type"] != "datetime":
        return None
    subtype = component.get("subtype")
    if subtype not in DATETIME_SUBTYPES:
        raise place.error(f"datetime subtype must be one of {', '.join(DATETIME_SUBTYPES)}, not {subtype!r}")
    return subtype


# ---------------------------------------------------------------- validation


def validate_submission(form: Form, data: Mapping[str, Any]) -> dict[str, Any]:
    """Check submitted data against the form; return clean, JSON-serialisable values.

    Blank values count as not submitted, absent optional fields are left out, an
    absent checkbox is False and unknown keys are errors ("Unknown field.").
    """
    try:
        return form_schema(form).load(data)
    except ValidationError as error:
        raise FormValidationError(_error_lists(error.messages), form.id) from None


@lru_cache(maxsize=256)
def form_schema(form: Form) -> Schema:
    """The marshmallow schema checking submissions of a form (built once per form)."""
    declared = {spec.key: _schema_field(spec) for spec in form.fields}
    schema_class = _FormSchema.from_dict(declared, name=f"FormSchema_{form.id}")
    schema_class.conditions = {spec.key: (spec.shown_when, spec.required_if_shown)
                               for spec in form.fields if spec.shown_when}
    return schema_class()


class _FormSchema(Schema):
    """Base of generated form schemas: unknown keys are errors, blanks and hidden fields are absent."""

    conditions: dict[str, tuple[tuple[str, str], bool]] = {}  # key -> ((choice, value), required if shown)

    class Meta:
        unknown = RAISE

    @pre_load
    def _drop_blanks(self, data: Any, **_: Any) -> Any:
        """Leave out blank values of known fields and values of hidden fields (form-js submits neither)."""
        if not isinstance(data, Mapping):
            return data
        return {
            key: value for key, value in data.items()
            if key not in self.load_fields or not (_is_blank(value) or self._hidden(key, data))
        }

    def _hidden(self, key: str, data: Mapping[str, Any]) -> bool:
        if key not in self.conditions:
            return False
        (choice, value), _ = self.conditions[key]
        chosen = data.get(choice)
        return not (isinstance(chosen, str) and chosen.strip() == value)

    @validates_schema(skip_on_field_errors=False)
    def _required_if_shown(self, data: Mapping[str, Any], **_: Any) -> None:
        missing = {key: [REQUIRED_MESSAGE] for key, ((choice, value), required) in self.conditions.items()
                   if required and data.get(choice) == value and key not in data}
        if missing:
            raise ValidationError(missing)


class _Text(fields.String):
    """A string with surrounding whitespace removed."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class _Number(fields.Float):
    """A finite number (or numeric string), returned as int when whole."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | float:
        number = super()._deserialize(value, attr, data, **kwargs)
        return int(number) if number.is_integer() else number


class _Choices(fields.List):
    """A list of strings; a single string is one item and repeats are dropped."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.String(), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        items = [value] if isinstance(value, str) else value
        return list(dict.fromkeys(super()._deserialize(items, attr, data, **kwargs)))


class _IsoDate(fields.Date):
    """A date, returned as 'YYYY-MM-DD'."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).isoformat()


class _IsoTime(fields.Time):
    """A time of day, returned as 'HH:MM'."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strftime("%H:%M")


class _IsoDateTime(fields.DateTime):
    """A date-time, returned as ISO 8601 with offset; without one it is Europe/London time."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(LOCAL_ZONE))
        return moment.isoformat(timespec="seconds")


_FIELD_CLASSES: dict[str, type[fields.Field]] = {
    "textfield": _Text,
    "textarea": _Text,
    "number": _Number,
    "radio": fields.String,
    "select": fields.String,
    "checklist": _Choices,
    "taglist": _Choices,
    "date": _IsoDate,  # datetime components are looked up by subtype
    "time": _IsoTime,
    "datetime": _IsoDateTime,
}


def _schema_field(spec: Field) -> fields.Field:
    """The marshmallow field for one form field."""
    if spec.type == "checkbox":
        if spec.required:  # form-js: a required checkbox must be ticked
            return fields.Boolean(required=True, validate=validate.Equal(True, error=REQUIRED_MESSAGE))
        return fields.Boolean(load_default=False)
    field_class = _FIELD_CLASSES[spec.subtype or spec.type]
    return field_class(required=spec.required, validate=_validators(spec))


def _validators(spec: Field) -> list[Callable[[Any], Any]]:
    """marshmallow validators for a field's rules and options."""
    checks: list[Callable[[Any], Any]] = []
    if spec.min_length is not None or spec.max_length is not None:
        checks.append(validate.Length(min=spec.min_length, max=spec.max_length))
    if spec.minimum is not None or spec.maximum is not None:
        checks.append(validate.Range(min=spec.minimum, max=spec.maximum))
    if spec.decimal_digits is not None:
        checks.append(_at_most_decimal_places(spec.decimal_digits))
    if spec.pattern:
        checks.append(_search(spec.pattern))
    if spec.email:
        checks.append(validate.Email())
    allowed = [value for value, _ in spec.options]
    if spec.type in LIST_TYPES:
        checks.append(validate.ContainsOnly(allowed))
    elif allowed:
        checks.append(validate.OneOf(allowed))
    return checks


def _search(pattern: str) -> Callable[[str], None]:
    """A validator requiring `pattern` to match somewhere in the value (as form-js does)."""
    regex = re.compile(pattern)

    def check(value: str) -> None:
        if not regex.search(value):
            raise ValidationError(f"Must match the pattern {pattern}.")

    return check


def _at_most_decimal_places(limit: int) -> Callable[[float], None]:
    """A validator limiting the decimal places of a number."""

    def check(value: float) -> None:
        if _decimal_places(value) > limit:
            raise ValidationError(
                "Must be a whole number." if limit == 0 else f"Must have at most {limit} decimal places."
            )

    return check


def _decimal_places(value: float) -> int:
    """How many digits a number has after the decimal point (3.50 -> 1, 2.0 -> 0)."""
    exponent = Decimal(repr(value)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def _is_blank(value: Any) -> bool:
    """None, whitespace-only strings and empty lists count as not submitted."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, (list, tuple)) and not value)


def _error_lists(messages: Any) -> dict[str, list[str]]:
    """marshmallow's (possibly nested) messages as field key -> flat list of strings."""
    if not isinstance(messages, dict):
        messages = {"_schema": messages}
    return {str(key): _flatten(value) for key, value in messages.items()}


def _flatten(messages: Any) -> list[str]:
    """All message strings in a nested list/dict structure, in order."""
    if isinstance(messages, dict):
        messages = list(messages.values())
    if isinstance(messages, list):
        return [text for item in messages for text in _flatten(item)]
    return [str(messages)]
