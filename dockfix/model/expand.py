"""Variable expansion the way BuildKit does it in ENV/USER/WORKDIR/FROM, or "unknown".

Only ``$NAME``, ``${NAME}``, ``${NAME:-word}``/``${NAME-word}`` and
``${NAME:+word}``/``${NAME+word}`` are read; anything else, or a name without a known
value, makes the answer None: a rule must not act on a value it cannot know.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from dockfix import lazy_re

_REFERENCE = lazy_re.compile(
    r"\\\$|\$(?:(?P<bare>[A-Za-z_][A-Za-z0-9_]*)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:(?P<op>:?[-+])(?P<word>[^}]*))?\})"
)


_ESCAPED = "\x00"


def expand(text: str, values: Mapping[str, str | None]) -> str | None:
    """``text`` with references replaced, or None when one of them is unknown."""
    if "$" not in text:
        return text
    unknown = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal unknown
        if match.group(0) == "\\$":
            return _ESCAPED
        name = match.group("bare") or match.group("name")
        op, word = match.group("op"), match.group("word") or ""
        declared = name in values
        value = values.get(name)
        if declared and value is None:
            unknown = True
            return ""
        is_set = declared and (value != "" or not (op or "").startswith(":"))
        if op in ("-", ":-"):
            return value if is_set and value is not None else word
        if op in ("+", ":+"):
            return word if is_set else ""
        if not declared:
            unknown = True
            return ""
        return value or ""

    result = _REFERENCE.sub(substitute, text)
    if unknown or "$" in result:
        return None  # a form this reader does not model (``$(...)``, ``${A/x/y}``...)
    return result.replace(_ESCAPED, "$")
