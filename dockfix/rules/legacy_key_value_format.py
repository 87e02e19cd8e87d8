"""DF001 legacy-key-value-format: ``ENV key value`` instead of ``ENV key=value``.

What it does
    Finds ``ENV`` and ``LABEL`` instructions written in the legacy whitespace form and
    rewrites them to the ``key=value`` form.

Why is this bad?
    The legacy form takes the whole rest of the line as the value, so ``ENV A b c`` sets
    ``A`` to ``"b c"`` -- easy to misread, and impossible to extend with a second key.
    BuildKit warns about it (check ``LegacyKeyValueFormat``) and may drop it one day.

Example
    ``ENV PYTHONUNBUFFERED 1`` becomes ``ENV PYTHONUNBUFFERED=1``;
    ``ENV GREETING hello world`` becomes ``ENV GREETING="hello world"``.

Fix safety
    Safe.  BuildKit expands the legacy value as one word (quotes removed, ``$``
    expanded); the new form is given a word with the same expansion: unchanged when it
    has no unquoted whitespace, else one double-quoted string, with ``"``, ``$`` and the
    escape character escaped where they were literal (``LABEL d This is "my" image`` ->
    ``LABEL d="This is my image"``: BuildKit removes those quotes in both forms).
    Unbalanced quotes, a trailing escape, and ``${...}`` next to quotes are reported.
    Continuation lines inside the value (and comment lines among them) are kept: the
    quotes go around the physical text, and BuildKit joins lines before reading quotes.

References
    practices.md, last paragraph (BuildKit checks); BuildKit ``LegacyKeyValueFormat``.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.syntax import Instruction
from dockfix.syntax.reading import GO_SPACE, _parse_words


def new_form_value(value: str, escape: str) -> str | None:
    r"""The ``key=`` word whose expansion equals the legacy ``value``, or None.

    The legacy value is expanded as one word, whitespace and all (quotes removed, ``$``
    expanded); in the new form each ``key=value`` must be one word of BuildKit's
    quote-aware splitting.  So: a value that already is one word stays as it is; any
    other becomes one double-quoted string with the same expansion
    (``This is "my" image`` -> ``"This is my image"``: BuildKit drops those quotes in
    both forms; a single-quoted ``'$HOME'`` becomes ``\$HOME``).  An unbalanced quote
    or a trailing escape is left to a human.
    """
    if _quote_unquoted_whitespace(value, escape) is None:
        return None  # an unbalanced quote: the build itself would fail to expand it
    words = _parse_words(value, 0, escape)
    if len(words) == 1 and words[0][1] == 0 and words[0][2] == len(value):
        return value
    if "${" in value and any(q in value for q in "'\""):
        return None  # quotes inside ${...} follow other rules: leave it to a human
    return as_double_quoted(value, escape)


def as_double_quoted(value: str, escape: str) -> str | None:
    """One double-quoted word that BuildKit's lexer expands exactly like ``value``.

    Inside double quotes the escape character only escapes ``"``, ``$`` and itself, so
    those are escaped where they must stay literal; ``$`` outside single quotes keeps
    expanding.  None for a trailing escape character.
    """
    special = ('"', "$", escape)
    out: list[str] = []
    pos, n = 0, len(value)
    while pos < n:
        ch = value[pos]
        if ch == escape:
            if pos + 1 >= n:
                return None
            following = value[pos + 1]
            out.append(escape + following if following in special else following)
            pos += 2
        elif ch == "'":
            close = value.index("'", pos + 1)
            out.extend(escape + c if c in special else c for c in value[pos + 1 : close])
            pos = close + 1
        elif ch == '"':
            close = pos + 1
            while value[close] != '"':
                close += 2 if value[close] == escape else 1
            out.append(value[pos + 1 : close])
            pos = close + 1
        else:
            out.append(ch)
            pos += 1
    return '"' + "".join(out) + '"'


def _quote_unquoted_whitespace(value: str, escape: str) -> str | None:
    out: list[str] = []
    pos, n = 0, len(value)
    while pos < n:
        ch = value[pos]
        if ch == escape:
            out.append(value[pos : pos + 2])
            pos += 2
        elif ch in "'\"":
            close = pos + 1
            while close < n and value[close] != ch:
                close += 2 if ch == '"' and value[close] == escape else 1
            if close >= n:
                return None  # unbalanced quote: leave it to a human
            out.append(value[pos : close + 1])
            pos = close + 1
        elif ch in GO_SPACE:
            run_end = pos
            while run_end < n and value[run_end] in GO_SPACE:
                run_end += 1
            out.append(f'"{value[pos:run_end]}"')
            pos = run_end
        else:
            out.append(ch)
            pos += 1
    return "".join(out)


def message_for(instruction: Instruction) -> str:
    return (
        f'"{instruction.cmd} key=value" should be used instead of legacy '
        f'"{instruction.cmd} key value" format'
    )


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for instruction in document.instructions:
        if instruction.cmd not in ("ENV", "LABEL"):
            continue
        keys = instruction.pieces_of("legacy_key")
        values = instruction.pieces_of("legacy_value")
        if not keys or not values:
            continue
        key, value = keys[0], values[0]
        logical_value = instruction.value[1]
        if any(ch in key.text for ch in ('"', "'", "=", document.escape, *GO_SPACE)):
            yield rule.finding(message_for(instruction), key, note="key needs quoting by hand")
            continue
        message = message_for(instruction)
        pieces = instruction.pieces
        start = pieces.index(key)
        end = pieces.index(value)
        between = "".join(piece.text for piece in pieces[start + 1 : end])
        if "#" in between:
            # `ENV A \ <comment lines> value`: joining key and value would drop them.
            yield rule.finding(message, key, note="comment lines between key and value")
            continue
        word = new_form_value(logical_value, document.escape)
        if word is None:
            yield rule.finding(message, key, note="value needs re-quoting by hand")
            continue
        if word == logical_value:
            word = value.text
        elif word == f'"{logical_value}"':
            # Quote the physical text: BuildKit joins continuation lines (and drops the
            # comment lines inside them) before it reads quotes, so they stay intact.
            word = f'"{value.text}"'
        elif "\n" in value.text:
            yield rule.finding(message, key, note="value needs re-quoting by hand")
            continue
        edits = [(key, f"{key.text}={word}")] + [(p, "") for p in pieces[start + 1 : end + 1]]
        new = document.edit_pieces(instruction, edits)
        yield rule.finding(message, key, edits=[Edit(instruction, (new,))])


RULE = Rule(
    code="DF001",
    name="legacy-key-value-format",
    summary="Use `ENV key=value` / `LABEL key=value`, not the legacy `key value` form",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"ENV", "LABEL"}),
)
