"""URL converters: ids in paths that the database can hold, or no match (404)."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

INT64_MAX = 2**63 - 1
"""The largest integer SQLite and PostgreSQL (bigint) take: larger ones overflow in the driver."""


class Int64Converter(IntegerConverter):
    """Werkzeug's ``int`` bounded to the signed 64-bit range. Installed as ``int``, so every
    ``<int:...>`` route answers an id no row can have with a 404, not an OverflowError."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = -INT64_MAX - 1,  # noqa: A002
                 max: int | None = INT64_MAX, signed: bool = False) -> None:  # noqa: A002  (Werkzeug's names)
        super().__init__(map, fixed_digits, min, max, signed)
