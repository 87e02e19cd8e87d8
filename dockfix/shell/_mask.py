"""Offset-preserving rewrites that steer bashlex around its known gaps.

bashlex cannot parse ``&&``/``||`` inside ``$(...)``, ``$((...))``
arithmetic, ``case`` statements, the ``time`` keyword or a command
substitution holding only a comment.  None of those change how the
*surrounding* words and commands are laid out, so before parsing we:

* fill the inside of every ``$(...)``, ``$((...))``, backtick, ``${...}``,
  ``'...'``, ``"..."`` and ``$'...'`` with ``x``, keeping the delimiters, so
  each word is still one word with the same span (bashlex mis-handles, and
  on ``x'${'y`` loops forever over, what is inside quotes);
* blank out a ``time``/``time -p`` keyword at command position;
* replace each ``case ... esac`` with a run of ``_`` (one opaque word with
  the same span) and remember its arms so they can be parsed separately.

Every rewrite keeps the text length, so bashlex's offsets stay valid for the
original text.  Words are always sliced from the original, never from here.
"""

from __future__ import annotations

from dataclasses import dataclass

_BREAK = frozenset(" \t\n;&|()<>")
_CMD_RESET = frozenset(";&|(){}\n")
_RESERVED_BEFORE_CMD = frozenset({"then", "do", "else", "elif", "if", "while", "until", "!", "{"})


@dataclass(frozen=True)
class CaseArm:
    """One ``pattern) body ;;`` arm: span of the pattern text and of the body."""

    pattern_start: int
    pattern_end: int
    body_start: int
    body_end: int


@dataclass(frozen=True)
class CaseRegion:
    """A whole ``case WORD in ... esac`` and what it contains."""

    start: int
    end: int
    subject_start: int
    subject_end: int
    arms: tuple[CaseArm, ...]


class MaskError(Exception):
    """The scanner met something sh would reject too (e.g. an unterminated quote).

    bashlex is never run on such text: unmasked, some of it makes bashlex loop
    forever.
    """

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class _Masker:
    """A small quote-aware scanner: it only needs to find nesting, not build a tree."""

    def __init__(self, text: str, start: int = 0) -> None:
        self.text = text
        self.buf = list(text)
        self.cases: list[CaseRegion] = []
        self.start = start
        self.pending_heredocs: list[tuple[str, bool]] = []
        self.nested = 0  # > 0 while inside a substitution, whose cases need no placeholder
        self.delimiters: list[tuple[int, int]] = []  # spans of quoted heredoc delimiters

    def fill(self, start: int, end: int, char: str) -> None:
        for k in range(start, end):
            self.buf[k] = char

    # -- quoting -----------------------------------------------------------------
    def skip_single(self, i: int) -> int:
        j = self.text.find("'", i + 1)
        if j < 0:
            raise MaskError("unterminated single quote", min(i, len(self.text)))
        self.fill(i + 1, j, "x")
        return j + 1

    def skip_double(self, i: int) -> int:
        text, n = self.text, len(self.text)
        opening = i
        i += 1
        while i < n:
            c = text[i]
            if c == "\\":
                i += 2
            elif c == '"':
                self.fill(opening + 1, i, "x")
                return i + 1
            elif c == "$" and text.startswith("${", i):
                i = self.parameter(i)
            elif c == "$" and text.startswith("$(", i):
                i = self.substitution(i)
            elif c == "`":
                i = self.backtick(i)
            else:
                i += 1
        raise MaskError("unterminated double quote", opening)

    def substitution(self, i: int) -> int:
        """Mask ``$(...)`` or ``$((...))`` starting at ``i``; return the index after it."""
        if self.text.startswith("$((", i):
            close = self.arith_end(i + 3)
            if close is not None:
                self.fill(i + 2, close + 1, "x")
                return close + 2
        self.nested += 1
        close = self.scan(i + 2, ")")
        self.nested -= 1
        self.fill(i + 2, close, "x")
        return close + 1

    def arith_end(self, i: int) -> int | None:
        """Index of the first ``)`` of the closing ``))``, or None if this is ``$( (...) )``."""
        depth = 0
        text, n = self.text, len(self.text)
        while i < n:
            c = text[i]
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    return i if text.startswith("))", i) else None
                depth -= 1
            i += 1
        return None

    def backtick(self, i: int) -> int:
        """Mask a backtick substitution: the first unescaped backtick ends it, quotes or not."""
        text, n = self.text, len(self.text)
        j = i + 1
        while j < n:
            if text[j] == "\\":
                j += 2
            elif text[j] == "`":
                self.fill(i + 1, j, "x")
                return j + 1
            else:
                j += 1
        raise MaskError("missing closing backtick", i)

    def word_end(self, i: int) -> int:
        text, n = self.text, len(self.text)
        while i < n and text[i] not in _BREAK:
            c = text[i]
            if c == "\\":
                i += 2
            elif c == "'":
                i = self.skip_single(i)
            elif c == '"':
                i = self.skip_double(i)
            elif c == "$" and text.startswith("$(", i):
                i = self.substitution(i)
            elif c == "$" and text.startswith("$'", i):
                i = self.skip_ansi_c(i + 1)
            elif c == "$" and text.startswith("${", i):
                i = self.parameter(i)
            elif c == "`":
                i = self.backtick(i)
            else:
                i += 1
        return min(i, n)

    def skip_ansi_c(self, i: int) -> int:
        """Skip ``'...'`` of ``$'...'``, where backslash escapes a quote."""
        text, n = self.text, len(self.text)
        opening = i
        i += 1
        while i < n:
            if text[i] == "\\":
                i += 2
            elif text[i] == "'":
                self.fill(opening + 1, i, "x")
                return i + 1
            else:
                i += 1
        raise MaskError("unterminated $'...'", opening - 1)

    def parameter(self, i: int) -> int:
        """Mask the inside of ``${...}`` (bashlex loops forever on some of them)."""
        text, n = self.text, len(self.text)
        opening = i + 1
        i += 2
        while i < n:
            c = text[i]
            if c == "\\":
                i += 2
            elif c == "}":
                self.fill(opening + 1, i, "x")
                return i + 1
            elif c == "'":
                i = self.skip_single(i)
            elif c == '"':
                i = self.skip_double(i)
            elif c == "$" and text.startswith("$(", i):
                i = self.substitution(i)
            elif c == "$" and text.startswith("${", i):
                i = self.parameter(i)
            elif c == "`":
                i = self.backtick(i)
            else:
                i += 1
        raise MaskError("unterminated ${...}", opening - 1)

    def skip_blank(self, i: int, newlines: bool = True) -> int:
        text, n = self.text, len(self.text)
        blanks = " \t\n" if newlines else " \t"
        while i < n:
            if text[i] in blanks:
                if text[i] == "\n":
                    i = self.heredoc_bodies(i + 1)
                else:
                    i += 1
            elif text[i] == "#":
                j = text.find("\n", i)
                i = n if j < 0 else j
                if not newlines:
                    return i
            else:
                break
        return i

    def heredoc_bodies(self, i: int) -> int:
        """Skip pending here-document bodies that start at ``i`` (just after a newline)."""
        text, n = self.text, len(self.text)
        while self.pending_heredocs:
            delim, strip_tabs = self.pending_heredocs.pop(0)
            while i < n:
                j = text.find("\n", i)
                line_end = n if j < 0 else j
                line = text[i:line_end]
                i = line_end + 1
                if (line.lstrip("\t") if strip_tabs else line) == delim:
                    break
        return min(i, n)

    def heredoc_start(self, i: int) -> int:
        """At ``<<``: remember the delimiter so the body is skipped at the next newline."""
        text = self.text
        strip_tabs = text.startswith("<<-", i)
        i += 3 if strip_tabs else 2
        i = self.skip_blank(i, newlines=False)
        end = self.word_end(i)
        raw = text[i:end]
        delim = raw.replace('"', "").replace("'", "").replace("\\", "")
        # bashlex does not remove quotes from a delimiter, so 'EOF' never matches
        # the EOF line; blank the quotes ('EOF' -> " EOF ") and remember the span.
        if raw in (f"'{delim}'", f'"{delim}"', f"\\{delim}"):
            self.buf[i:end] = raw.replace("'", " ").replace('"', " ").replace("\\", " ")
            self.delimiters.append((i, end))
        else:
            self.buf[i:end] = raw
        if delim:
            self.pending_heredocs.append((delim, strip_tabs))
        return end

    # -- commands ----------------------------------------------------------------
    def scan(self, i: int, closer: str | None) -> int:
        """Scan shell code from ``i`` to the unmatched ``closer``; return its index.

        ``closer`` is ``)`` for ``$(``, ``;;`` for a case arm (which also stops
        at ``esac``), or None for the whole text.
        """
        text, n = self.text, len(self.text)
        depth = 0
        at_cmd = True
        while i < n:
            c = text[i]
            if closer == ";;" and text.startswith(";;", i) and depth == 0:
                return i
            if c in " \t":
                i += 1
                continue
            if c == "\n":
                at_cmd = True
                i = self.heredoc_bodies(i + 1)
                continue
            if c == "#":
                j = text.find("\n", i)
                i = n if j < 0 else j
                continue
            if c == "(":
                depth += 1
                at_cmd = True
                i += 1
                continue
            if c == ")":
                if depth == 0 and closer == ")":
                    return i
                depth = max(0, depth - 1)
                i += 1
                continue
            if c == "<" and text.startswith("<<", i) and not text.startswith("<<<", i):
                i = self.heredoc_start(i)
                at_cmd = False
                continue
            if c in _CMD_RESET or c in "<>":
                at_cmd = c in _CMD_RESET
                i += 1
                continue
            end = self.word_end(i)
            if end == i:  # e.g. a stray quote handled by word_end raising
                i += 1
                continue
            word = text[i:end]
            if at_cmd and word == "case":
                end = self.case(i)
                at_cmd = False
            elif at_cmd and word == "esac" and closer == ";;":
                return i
            elif at_cmd and word == "time":
                self.fill(i, end, " ")
                nxt = self.skip_blank(end, newlines=False)
                if text.startswith("-p", nxt) and self.word_end(nxt) == nxt + 2:
                    self.fill(nxt, nxt + 2, " ")
                    end = nxt + 2
            else:
                at_cmd = word in _RESERVED_BEFORE_CMD
            i = end
        if closer is not None and closer != ";;":
            raise MaskError(f"missing {closer!r}", min(i, len(self.text)))
        return n

    def case(self, start: int) -> int:
        """Record a ``case`` statement starting at ``start``; return the index after ``esac``."""
        text, n = self.text, len(self.text)
        i = self.skip_blank(start + 4, newlines=False)
        subject_start = i
        subject_end = self.word_end(i)
        if subject_end == subject_start:
            raise MaskError("case without a subject", min(i, len(self.text)))
        i = self.skip_blank(subject_end)
        if self.word_end(i) != i + 2 or not text.startswith("in", i):
            raise MaskError("case without 'in'", min(i, len(self.text)))
        i += 2
        arms: list[CaseArm] = []
        while True:
            i = self.skip_blank(i)
            if i >= n:
                raise MaskError("case without 'esac'", min(i, len(self.text)))
            if text.startswith("esac", i) and self.word_end(i) == i + 4:
                end = i + 4
                break
            if text[i] == "(":
                i += 1
            pattern_start = i
            while i < n and text[i] != ")":
                if text[i] in " \t|":
                    i += 1
                elif text[i] == "\n":
                    raise MaskError("newline in case pattern", min(i, len(self.text)))
                else:
                    i = max(self.word_end(i), i + 1)
            if i >= n:
                raise MaskError("unterminated case pattern", min(i, len(self.text)))
            pattern_end = i
            body_start = i + 1
            body_end = self.scan(body_start, ";;")
            arms.append(CaseArm(pattern_start, pattern_end, body_start, body_end))
            if text.startswith(";;&", body_end):
                i = body_end + 3
            elif text.startswith(";;", body_end) or text.startswith(";&", body_end):
                i = body_end + 2
            else:
                i = body_end  # at 'esac' (last arm without ';;') or end of text
        if not self.nested:
            self.cases.append(CaseRegion(start, end, subject_start, subject_end, tuple(arms)))
        return end


@dataclass(frozen=True)
class Masked:
    """Result of masking: text for bashlex, top-level case regions, quoted delimiters."""

    text: str
    cases: tuple[CaseRegion, ...]
    delimiters: tuple[tuple[int, int], ...] = ()


def mask(text: str, start: int = 0) -> Masked:
    """Mask ``text`` from ``start`` on; raises ``MaskError`` for text sh cannot parse."""
    masker = _Masker(text, start)
    try:
        masker.scan(start, None)
    except IndexError as exc:  # defensive: a scanner slip must not crash the caller
        raise MaskError("unexpected end of text", len(text)) from exc
    # Only outermost case regions are replaced; nested ones are parsed with their arm.
    outer: list[CaseRegion] = []
    for region in sorted(masker.cases, key=lambda r: (r.start, -r.end)):
        if outer and region.start < outer[-1].end:
            continue
        outer.append(region)
    for region in outer:
        masker.fill(region.start, region.end, "_")
    return Masked("".join(masker.buf), tuple(outer), tuple(masker.delimiters))
