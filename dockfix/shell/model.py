"""Immutable model of a parsed ``RUN`` shell script.

Rules inspect this tree and then edit the *original* text by offsets, so every
node carries ``start``/``end`` indices into the string given to ``parse_shell``
and every ``Word.text`` is exactly ``script[start:end]``.  Nothing here knows
about tree-sitter: the parser translates its syntax tree into these plain
dataclasses so that rules never depend on the grammar's quirks.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.cached import cached_property
from dockfix.lazy_dataclass import dataclass


@dataclass(frozen=True)
class Word:
    """One shell word, as written in the source (quotes and all).

    ``text`` is the raw slice so that an edit can replace exactly this word;
    ``value`` is what the shell would pass as the argument when that can be
    known without running anything.
    """

    text: str
    start: int
    end: int

    @cached_property
    def value(self) -> str:
        """The word after quote removal, or ``text`` unchanged if that is ambiguous.

        Removes single quotes, double quotes and backslash escapes (inside
        double quotes only ``\\$ \\` \\" \\\\`` and backslash-newline are
        escapes, as in POSIX sh).  Glob characters, ``~`` and braces are kept
        as written because no expansion is performed.  When the word contains
        a parameter, command or arithmetic expansion (``$``/backtick outside
        single quotes) or an unbalanced quote, its runtime value is unknown and
        the raw ``text`` is returned; check ``is_literal`` to tell the cases
        apart.
        """
        unquoted = unquote(self.text)
        return self.text if unquoted is None else unquoted

    @property
    def is_literal(self) -> bool:
        """True when ``value`` is exactly the argument the shell would see (modulo globbing)."""
        return unquote(self.text) is not None

    def sub_word(self, offset: int) -> Word:
        """The tail of this word from ``offset`` (relative), e.g. the value in ``--opt=value``."""
        offset = max(0, min(offset, len(self.text)))
        return Word(self.text[offset:], self.start + offset, self.end)


#: What ``unquote`` has to look at: quotes, escapes and expansions.
_QUOTING = lazy_re.compile(r"[\"'\\$`]")


@functools.lru_cache(maxsize=65536)
def unquote(text: str) -> str | None:
    """POSIX quote removal for a word without expansions; None when ambiguous.

    A pure function (not only a property) so that its cache is shared by every
    word with the same text: RUN lines repeat the same package names a lot.
    """
    if _QUOTING.search(text) is None:
        return text  # nothing to remove, nothing ambiguous (most words)
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "'":
            j = text.find("'", i + 1)
            if j < 0:
                return None
            out.append(text[i + 1 : j])
            i = j + 1
        elif c == '"':
            i += 1
            while True:
                if i >= n:
                    return None
                d = text[i]
                if d == '"':
                    i += 1
                    break
                if d in "$`":
                    return None
                if d == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
                    if text[i + 1] != "\n":
                        out.append(text[i + 1])
                    i += 2
                    continue
                out.append(d)
                i += 1
        elif c == "\\":
            if i + 1 >= n:
                return None
            if text[i + 1] != "\n":
                out.append(text[i + 1])
            i += 2
        elif c in "$`":
            return None
        else:
            out.append(c)
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Operator:
    """A list separator: ``&&``, ``||``, ``;``, ``&`` or a newline (``"\\n"``)."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Redirect:
    """A redirection such as ``> /dev/null``, ``2>&1`` or ``<<EOF``.

    ``target`` is the file/delimiter word when there is one (``2>&1`` has
    none); ``heredoc`` is the here-document body plus its closing delimiter
    line, which lives *after* the command in the source.
    """

    text: str
    start: int
    end: int
    operator: str
    fd: int | None = None
    target: Word | None = None
    heredoc: Word | None = None


@dataclass(frozen=True)
class SimpleCommand:
    """``VAR=x cmd arg... >redir``: the unit most rules look at.

    ``background`` is True when the command (or the pipeline it belongs to)
    is directly followed by ``&`` in its list.
    """

    words: tuple[Word, ...]
    assignments: tuple[Word, ...]
    redirects: tuple[Redirect, ...]
    start: int
    end: int
    background: bool = False


@dataclass(frozen=True)
class Pipeline:
    """``a | b | c`` (``|&`` included); ``negated`` for a leading ``!``."""

    commands: tuple[Node, ...]
    start: int
    end: int
    negated: bool = False


@dataclass(frozen=True)
class ListNode:
    """Items joined by operators; ``operators[i]`` follows ``items[i]``.

    There are ``len(items) - 1`` operators, or ``len(items)`` when the list
    ends with a terminator such as ``;`` or ``&``.
    """

    items: tuple[Node, ...]
    operators: tuple[Operator, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Subshell:
    """``( list )``: runs in a child shell, so ``cd``/``export`` inside do not leak out."""

    body: ListNode
    redirects: tuple[Redirect, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Group:
    """``{ list; }``: runs in the current shell."""

    body: ListNode
    redirects: tuple[Redirect, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Compound:
    """if/for/while/until/case/function.

    ``kind`` names the construct; ``words`` are its non-command words (the
    ``for`` variable and items, the ``case`` subject, a function's name);
    ``bodies`` are the nested lists in source order (conditions included).
    """

    kind: str
    words: tuple[Word, ...]
    bodies: tuple[Node, ...]
    redirects: tuple[Redirect, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Opaque:
    """A construct the model does not describe; only its span is known."""

    kind: str
    start: int
    end: int


Node = SimpleCommand | Pipeline | ListNode | Subshell | Group | Compound | Opaque


@dataclass(frozen=True)
class ShellScript:
    """The whole logical ``RUN`` text and its top-level list (empty for blank text)."""

    text: str
    body: ListNode


def children(node: Node) -> tuple[Node, ...]:
    """The nodes directly inside ``node``, in source order (none for a simple command)."""
    if isinstance(node, ListNode):
        return node.items
    if isinstance(node, Pipeline):
        return node.commands
    if isinstance(node, (Subshell, Group)):
        return (node.body,)
    if isinstance(node, Compound):
        return node.bodies
    return ()


def iter_nodes(script: ShellScript) -> Iterator[Node]:
    """Every node, depth-first in source order (iterative: deep nesting is safe)."""
    return iter(_all_nodes(script))


def _all_nodes(script: ShellScript) -> tuple[Node, ...]:
    # Cached on the (immutable) script: parsed scripts are shared by every RUN with the
    # same text (``model.runs.parse_text``), so the walk is done once per distinct text.
    cache = script.__dict__
    found: tuple[Node, ...] | None = cache.get("_nodes")
    if found is None:
        nodes: list[Node] = []
        stack: list[Node] = [script.body]
        while stack:
            node = stack.pop()
            nodes.append(node)
            stack.extend(reversed(children(node)))
        found = cache["_nodes"] = tuple(nodes)
    return found


def iter_simple_commands(script: ShellScript) -> Iterator[SimpleCommand]:
    """All simple commands in source order, including inside subshells, groups and compounds.

    Command substitutions (``$(...)``, backticks) are part of words and are
    not descended into: a ``cd`` there does not change the RUN's directory.
    """
    cache = script.__dict__
    found: tuple[SimpleCommand, ...] | None = cache.get("_simple")
    if found is None:
        found = cache["_simple"] = tuple(
            node for node in _all_nodes(script) if isinstance(node, SimpleCommand)
        )
    return iter(found)


def top_level_and_chain(script: ShellScript) -> list[SimpleCommand] | None:
    """The commands if the script is exactly ``c1 && c2 && ... && cN``, else None.

    Only then is joining or appending another ``&& cmd`` guaranteed to keep
    the meaning (no ``||``, ``;``, ``&``, newline, pipe, subshell or
    compound; no trailing terminator).  Append after ``chain[-1].end`` rather
    than at the end of the text, which may hold a comment.
    """
    body = script.body
    if not body.items or len(body.operators) != len(body.items) - 1:
        return None
    if any(op.text != "&&" for op in body.operators):
        return None
    commands = [item for item in body.items if isinstance(item, SimpleCommand)]
    if len(commands) != len(body.items) or any(cmd.background for cmd in commands):
        return None
    return commands


def operators(script: ShellScript) -> frozenset[str]:
    """Top-level operators: ``&&``, ``||``, ``;``, ``&``, ``"\\n"``, plus ``|`` for a pipeline.

    Operators inside subshells, groups or compounds are not included: they
    do not affect how the top-level commands combine.
    """
    found = {op.text for op in script.body.operators}
    if any(isinstance(item, Pipeline) for item in script.body.items):
        found.add("|")
    return frozenset(found)


# Wrappers that run their operand as the real command; value-taking options per wrapper.
_WRAPPER_VALUE_OPTIONS: dict[str, frozenset[str]] = {
    "sudo": frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T"}),
    "doas": frozenset({"-u", "-C"}),
    "env": frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string"}),
    "exec": frozenset({"-a"}),
    "command": frozenset(),
    "nice": frozenset({"-n", "--adjustment"}),
    "nohup": frozenset(),
    "time": frozenset({"-f", "--format", "-o", "--output"}),
}


def _is_env_assignment(text: str) -> bool:
    name, eq, _ = text.partition("=")
    return bool(eq) and name.replace("_", "a").isalnum() and not name[:1].isdigit()


def command_words(cmd: SimpleCommand) -> tuple[Word, ...]:
    """The words from the real command name on, with wrapper commands skipped.

    Skipped wrappers (and their options): ``sudo``, ``doas``, ``env`` (also
    its ``VAR=x`` operands), ``exec``, ``command`` (but not ``command -v/-V``,
    which only looks a name up), ``nice``, ``nohup`` and ``time``.  Leading
    ``VAR=x`` assignments are never in ``words`` to begin with.
    """
    cache = cmd.__dict__  # commands are immutable and shared: compute once per command
    found: tuple[Word, ...] | None = cache.get("_command_words")
    if found is None:
        found = cache["_command_words"] = _command_words(cmd)
    return found


def _command_words(cmd: SimpleCommand) -> tuple[Word, ...]:
    words = cmd.words
    i = 0
    while i < len(words):
        name = posixpath.basename(words[i].value)
        value_options = _WRAPPER_VALUE_OPTIONS.get(name)
        if value_options is None:
            break
        j = i + 1
        while j < len(words):
            arg = words[j].value
            if arg == "--":
                j += 1
                break
            if name == "command" and arg in ("-v", "-V"):
                return words[i:]
            if name in ("sudo", "env") and _is_env_assignment(arg):
                j += 1
            elif arg.startswith("-") and len(arg) > 1:
                j += 2 if arg in value_options else 1
            else:
                break
        i = j
    return words[i:]


def command_name(cmd: SimpleCommand) -> str | None:
    """Basename of the command actually run (see ``command_words`` for wrappers), or None.

    None means the command has no words at all, e.g. ``A=1`` or ``> file``.
    Example: ``sudo -E DEBIAN_FRONTEND=x /usr/bin/apt-get install`` -> ``"apt-get"``.
    """
    cache = cmd.__dict__
    try:
        return cache["_command_name"]  # type: ignore[no-any-return]
    except KeyError:
        pass
    words = command_words(cmd)
    name = posixpath.basename(words[0].value) if words else None
    cache["_command_name"] = name
    return name
