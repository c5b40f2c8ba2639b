"""What the web app accepts from a request before any service sees it: text a database can
store, and JSON that is finite, shallow and small.

PostgreSQL refuses NUL characters in text and JSON; a lone surrogate (``"\\ud800"`` in JSON)
cannot be encoded as UTF-8; NaN and Infinity are not JSON; nesting deeper than Python's
recursion limit crashes the parser and everything after it; integers beyond 64 bits overflow
the drivers. Each is refused here with a 4xx naming the field.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import request

from ..errors import InvalidData, NotFound

MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 1024 * 1024
INT64_MAX = 2**63 - 1
"""The largest integer SQLite and PostgreSQL (bigint) take: larger ones overflow in the drivers."""
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Contains a NUL character (\\u0000), which cannot be stored."
    return f"Contains a lone surrogate (\\u{ord(found.group()):04x}), which is not valid Unicode text."


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is too large a number")
    return number


def parse_json(raw: bytes | str, name: str = "") -> Any:
    """``raw`` as JSON, checked with :func:`json_problems`; InvalidData (422) otherwise.

    ``name`` is the field the JSON came in (a form's textarea): problems are reported under it.
    """
    whole = name or "_schema"
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise InvalidData("the JSON is nested too deep", {whole: [f"Nest at most {MAX_JSON_DEPTH} levels deep."]}) \
            from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, NaN, 1e999, 5000-digit integers
        raise InvalidData("the JSON is not valid", {whole: [f"Not valid JSON: {error}."]}) from None
    problems: dict[str, list[str]] = {}
    for field, message in json_problems(value, name):
        problems.setdefault(field, []).append(message)
    if problems:
        raise InvalidData("the request data is not valid", problems)
    return value


def json_problems(value: Any, name: str = "") -> Iterator[tuple[str, str]]:
    """(dotted field path, message) for each value that cannot be taken, walked without recursion."""
    stack: list[tuple[str, Any, int]] = [(name, value, 1)]
    while stack:
        path, item, depth = stack.pop()
        field = path or "_schema"
        if isinstance(item, (dict, list)) and depth > MAX_JSON_DEPTH:
            yield field, f"Nested more than {MAX_JSON_DEPTH} levels deep."
        elif isinstance(item, dict):
            for key, child in item.items():
                if problem := text_problem(key):
                    yield field, f"A key: {problem}"
                else:
                    stack.append((f"{path}.{key}" if path else key, child, depth + 1))
        elif isinstance(item, list):
            stack.extend((f"{path}.{index}" if path else str(index), child, depth + 1)
                         for index, child in enumerate(item))
        elif isinstance(item, str):
            if problem := text_problem(item):
                yield field, problem
        elif isinstance(item, int) and not isinstance(item, bool) and not -INT64_MAX - 1 <= item <= INT64_MAX:
            yield field, "An integer beyond the 64-bit range."


def refuse_unstorable_text() -> None:
    """Before every request: a path value that cannot be stored names nothing (404); a query,
    form value or upload name that cannot be stored is refused (422, naming the field)."""
    if any(isinstance(value, str) and text_problem(value) for value in (request.view_args or {}).values()):
        raise NotFound("nothing has that name")
    problems: dict[str, list[str]] = {}
    named = [(key, value) for source in (request.args, request.form) for key, value in source.items(multi=True)]
    named += [(key, upload.filename or "") for key, upload in request.files.items(multi=True)]
    for key, value in named:
        if problem := text_problem(key) or text_problem(value):
            problems.setdefault(key, []).append(problem)
    if problems:
        raise InvalidData("; ".join(f"{key}: {' '.join(messages)}" for key, messages in problems.items()),
                          problems)
