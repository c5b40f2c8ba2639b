"""Letters: written notifications rendered from editable templates in a Jinja sandbox."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

_JINJA = SandboxedEnvironment(undefined=ChainableUndefined, autoescape=False, keep_trailing_newline=True)


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


def render_letter(template_id: str, source: str, variables: Mapping[str, Any]) -> RenderedLetter:
    """Render a template; a first line ``Subject: ...`` becomes the letter's title."""
    text = _JINJA.from_string(source).render(**variables)
    first, _, rest = text.partition("\n")
    if first.lower().startswith("subject:"):
        return RenderedLetter(first.split(":", 1)[1].strip(), rest.lstrip("\n"))
    return RenderedLetter(template_id.replace("_", " ").capitalize(), text)
