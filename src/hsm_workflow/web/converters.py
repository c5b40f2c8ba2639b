"""URL converters: ids in paths that the database can hold, or no match (404)."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

ID_MAX = 2**31 - 1
"""The largest id a row can have: ids are ``Integer`` columns (db/models.py), ``integer`` on
PostgreSQL, which refuses a larger parameter ("integer out of range") instead of finding nothing."""


def up_to(limit: int) -> str:
    """A regex matching the decimal numbers 0..``limit`` (no longer than ``limit``'s digits)."""
    digits = str(limit)
    shorter = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    same_length = [rf"{digits[:place]}[0-{int(digit) - 1}]\d{{{len(digits) - place - 1}}}"
                   for place, digit in enumerate(digits) if digit != "0"]
    return "(?:" + "|".join([*shorter, *same_length, digits]) + ")"


class IdConverter(IntegerConverter):
    """Werkzeug's ``int`` bounded to the ids rows can have. Installed as ``int``, so every
    ``<int:...>`` route answers a larger number with a 404, not a database or overflow error.

    The bound is in the regex: a number that matched the path and failed only ``max`` would make
    Werkzeug answer 405 where another method's rule shares the path (``GET``/``POST /tasks/<id>``).
    """

    regex = up_to(ID_MAX)

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002  (Werkzeug's names)
                 max: int | None = ID_MAX, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)
