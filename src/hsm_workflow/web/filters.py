"""Template filters: instants and dates as people in the UK read them."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from markupsafe import Markup, escape

from ..domain.calendar import LONDON


def when(value: datetime | str | None) -> Markup:
    """An instant in London time, inside a machine-readable <time> element."""
    if value is None or value == "":
        return Markup("")
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = instant.astimezone(LONDON)
    return Markup(f'<time datetime="{escape(instant.isoformat())}">{local:%-d %b %Y %H:%M}</time>')


def day(value: date | str | None) -> Markup:
    if value is None or value == "":
        return Markup("")
    on = date.fromisoformat(value) if isinstance(value, str) else value
    return Markup(f'<time datetime="{on.isoformat()}">{on:%a %-d %b %Y}</time>')


def init_app(app: Flask) -> None:
    app.add_template_filter(when)
    app.add_template_filter(day)
