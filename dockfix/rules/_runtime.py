"""Helpers shared by the runtime rules (DF204-DF207): what a container starts with.

These rules look at ``CMD``/``ENTRYPOINT``, so they need what the other rules do not:
the *command lines* of an instruction, the argument words of each program it runs,
whether written as a JSON array, as shell text, or as a JSON ``["sh", "-c", script]``,
each word with its span in the instruction's logical line so that a rule can insert
words right after one of them (``insert_after``).  Stages, lineage and platform come
from the stage model (``RuleContext.model``).
"""

from __future__ import annotations

import enum
import functools
import json
import posixpath
import re
from collections.abc import Iterator, Sequence

from dockfix import lazy_re
from dockfix.cached import Backlink
from dockfix.lazy_dataclass import dataclass
from dockfix.rules._shell import parse_text
from dockfix.shell import ShellScript, command_words, iter_simple_commands
from dockfix.syntax import Dockerfile, Instruction
from dockfix.syntax.nodes import Position, json_string


def position(instruction: Instruction, logical_index: int) -> Position:
    """Where the character at ``logical_index`` of the logical line is in the file."""
    return instruction.position_of(logical_index)


def applying(instructions: Sequence[Instruction], cmd: str) -> list[Instruction]:
    """The instructions named ``cmd`` (``ONBUILD`` ones excluded: they apply to children)."""
    return [instruction for instruction in instructions if instruction.cmd == cmd]


# -- command lines ----------------------------------------------------------------------------


class Form(enum.Enum):
    """How a command line is written in the instruction."""

    JSON = "json"  # exec form: one JSON string per argument
    SHELL = "shell"  # shell form: words of a shell script
    JSON_SCRIPT = "json-script"  # exec form ``["sh", "-c", script]``: words of the script


@dataclass(frozen=True)
class Arg:
    """One argument: its value (None when only the running shell knows it) and span.

    For ``Form.JSON`` the span is the JSON string token (quotes included) in the logical
    line; for the shell forms it is the shell word's span in its script.
    """

    value: str | None
    start: int
    end: int


@dataclass(frozen=True)
class CommandLine:
    """The words of one program run by a ``CMD``/``ENTRYPOINT``, and how to edit them.

    The instruction keeps its command lines (``command_lines``); each refers back to it
    weakly (``Backlink``), so they make no reference cycle.
    """

    link: Backlink[Instruction]
    form: Form
    args: tuple[Arg, ...]
    #: Shell forms: where the script starts in the logical line (``SHELL``), or the JSON
    #: string token holding it (``JSON_SCRIPT``).
    base: int = 0
    script_token: Arg | None = None

    @property
    def instruction(self) -> Instruction:
        return self.link()

    def logical_index(self, offset: int) -> int | None:
        """The logical-line index of a script offset (None: escapes make it unclear)."""
        if self.form is not Form.JSON_SCRIPT:
            return self.base + offset
        token = self.script_token
        assert token is not None
        raw = self.instruction.logical[token.start + 1 : token.end - 1]
        if "\\" in raw:
            return None
        return token.start + 1 + offset

    def position(self, arg: Arg) -> Position:
        """Where ``arg`` starts in the file (for findings)."""
        index = arg.start if self.form is Form.JSON else self.logical_index(arg.start)
        if index is None:
            assert self.script_token is not None
            index = self.script_token.start
        return position(self.instruction, index)

    def insert_after(
        self, document: Dockerfile, arg: Arg, words: Sequence[str]
    ) -> Instruction | None:
        """The instruction with ``words`` inserted as new arguments right after ``arg``.

        ``words`` must be plain (no quoting needed in shell or JSON): the rules insert
        fixed options such as ``--worker-tmp-dir /dev/shm``.  None when the only way is
        to rewrite a JSON script string that spans continuation lines (their comment
        lines and layout would be lost).
        """
        if not all(re.fullmatch(r"[\w./:=-]+", word) for word in words):
            raise ValueError(f"words need quoting: {words!r}")
        instruction = self.instruction
        if self.form is Form.JSON:
            separator = self._json_separator()
            text = "".join(separator + json_string(word) for word in words)
            return document.edit_logical(instruction, [(arg.end, arg.end, text)])
        text = "".join(" " + word for word in words)
        index = self.logical_index(arg.end)
        if index is not None:
            return document.edit_logical(instruction, [(index, index, text)])
        # The script token has JSON escapes: write the whole string anew.
        token = self.script_token
        assert token is not None
        first, last = instruction.offset_of(token.start), instruction.offset_of(token.end - 1)
        if "\n" in instruction.text[first:last]:
            return None
        script = json.loads(instruction.logical[token.start : token.end])
        new = json_string(script[: arg.end] + text + script[arg.end :])
        return document.edit_logical(instruction, [(token.start, token.end, new)])

    def _json_separator(self) -> str:
        """``","`` when the array is written without spaces, else ``", "``."""
        if len(self.args) < 2:
            return ", "
        between = self.instruction.logical[self.args[0].end : self.args[1].start]
        return "," if between == "," else ", "


@functools.lru_cache(maxsize=4096)
def parse_script(text: str) -> ShellScript | None:
    """The shell model of ``text``, or None when tree-sitter cannot read it exactly."""
    parsed = parse_text(text)
    return None if isinstance(parsed, str) else parsed


def json_tokens(instruction: Instruction) -> tuple[Arg, ...] | None:
    """The string tokens of an exec-form array, with their logical spans.

    None when the text is not the plain array we expect (then nobody edits it).
    """
    pieces = instruction.pieces_of("json")
    if not instruction.is_json or not pieces:
        return None
    logical = instruction.logical
    index = instruction.logical_start_of(pieces[0])
    decoder = json.JSONDecoder()
    tokens: list[Arg] = []
    index = logical.index("[", index) + 1
    while index < len(logical):
        char = logical[index]
        if char in " \t\r\n,":
            index += 1
        elif char == '"':
            value, end = decoder.raw_decode(logical, index)
            tokens.append(Arg(value, index, end))
            index = end
        elif char == "]":
            break
        else:
            return None
    if tuple(token.value for token in tokens) != instruction.value:
        return None
    return tuple(tokens)


#: Shells whose ``-c`` script a JSON command line may hand over.
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})


def _script_option(value: str | None) -> bool:
    """``-c`` or a cluster ending in it (``-ec``, ``-euxc``): the next word is a script."""
    return bool(value and re.fullmatch(r"-[a-z]*c", value))


def command_lines(instruction: Instruction) -> list[CommandLine]:
    """The programs a ``CMD``/``ENTRYPOINT`` runs, one command line each.

    Shell scripts (the shell form, and a JSON ``sh -c script``) give one command line
    per simple command.  Scripts tree-sitter cannot read give none: nobody edits them.
    """
    cache = instruction.__dict__  # nodes are immutable: read each instruction once
    found: tuple[CommandLine, ...] | None = cache.get("_command_lines")
    if found is None:
        found = cache["_command_lines"] = tuple(_command_lines(instruction))
    return list(found)


def _command_lines(instruction: Instruction) -> list[CommandLine]:
    if instruction.cmd not in ("CMD", "ENTRYPOINT") or not instruction.value:
        return []
    if not instruction.is_json:
        shell = instruction.pieces_of("shell")
        if not shell:
            return []
        base = instruction.logical_start_of(shell[0])
        return _script_lines(instruction, instruction.value[0], Form.SHELL, base, None)
    tokens = json_tokens(instruction)
    if tokens is None:
        return []
    if (
        len(tokens) >= 3
        and posixpath.basename(tokens[0].value or "") in _SHELLS
        and _script_option(tokens[1].value)
    ):
        script = tokens[2]
        return _script_lines(instruction, script.value or "", Form.JSON_SCRIPT, 0, script)
    return [CommandLine(Backlink(instruction), Form.JSON, tokens)]


def _script_lines(
    instruction: Instruction, text: str, form: Form, base: int, token: Arg | None
) -> list[CommandLine]:
    script = parse_script(text)
    if script is None:
        return []
    lines = []
    for command in iter_simple_commands(script):
        words = command_words(command)
        args = tuple(
            Arg(word.value if word.is_literal else None, word.start, word.end) for word in words
        )
        lines.append(CommandLine(Backlink(instruction), form, args, base, token))
    return lines


# -- finding a program among the words ---------------------------------------------------

#: Launchers that run the rest of their words as the program (after their own options).
_LAUNCHERS = frozenset(
    {"exec", "nohup", "dumb-init", "tini", "ddtrace-run", "opentelemetry-instrument"}
)
#: Tools whose ``run`` sub-command runs the rest of the words (``poetry run gunicorn``).
_RUNNERS = frozenset({"poetry", "pipenv", "uv", "pdm", "hatch", "rye", "newrelic-admin"})
#: Launchers that take one operand (a user) before the program.
_USER_SWITCHERS = frozenset({"gosu", "su-exec"})
_PYTHON = lazy_re.compile(r"python(\d+(\.\d+)?)?")


def find_program(args: Sequence[Arg], names: frozenset[str]) -> int | None:
    """Index of the word naming one of ``names`` (a bare name or ``.../bin/<name>``).

    The program may be started through ``python -m <name>`` or through launchers that
    run the rest of their words (``exec``, ``poetry run``, ``gosu user``, ``tini --``,
    ``newrelic-admin run-program``...).  Anything else (``echo gunicorn``) is not a run.
    """
    index = 0
    while index < len(args):
        value = args[index].value
        if value is None:
            return None
        name = posixpath.basename(value)
        if name in names:
            # A bare name (found on PATH) or a `bin` directory; `/etc/init.d/gunicorn`
            # and other paths are scripts that merely share the name.
            if value == name or posixpath.dirname(value).endswith("/bin"):
                return index
            return None
        following = [arg.value for arg in args[index + 1 : index + 3]]
        if _PYTHON.fullmatch(name):
            if len(following) == 2 and following[0] == "-m" and following[1] in names:
                return index + 2
            return None
        if name in _LAUNCHERS:
            index = _skip_options(args, index + 1)
        elif name in _RUNNERS and following[:1] in (["run"], ["run-program"]):
            index = _skip_options(args, index + 2)
        elif name in _USER_SWITCHERS:
            index += 2
        elif name == "env":
            index = _skip_options(args, index + 1, assignments=True)
        else:
            return None
    return None


def _skip_options(args: Sequence[Arg], index: int, *, assignments: bool = False) -> int:
    """The index after a launcher's own ``-x`` options (and ``--``, and ``env``'s ``A=b``)."""
    while index < len(args):
        value = args[index].value or ""
        if value == "--":
            return index + 1
        is_assignment = assignments and re.match(r"[A-Za-z_]\w*=", value)
        if not (value.startswith("-") or is_assignment):
            break
        index += 1
    return index


def option_values(args: Sequence[Arg], names: frozenset[str]) -> Iterator[tuple[Arg, str | None]]:
    """``(option word, value)`` for each of the options ``names`` among ``args``.

    Handles ``--name value`` and ``--name=value``; the value is None when it is missing
    or only known at run time.
    """
    for index, arg in enumerate(args):
        value = arg.value
        if value is None:
            continue
        name, equals, inline = value.partition("=")
        if name not in names:
            continue
        if equals:
            yield arg, inline
        elif index + 1 < len(args):
            yield arg, args[index + 1].value
        else:
            yield arg, None


def has_option(args: Sequence[Arg], names: frozenset[str]) -> bool:
    """Whether any of ``names`` is given, as ``--name``, ``--name=v`` or ``-xVALUE``."""
    for arg in args:
        value = arg.value
        if value is None:
            continue
        if value.partition("=")[0] in names:
            return True
        short = [name for name in names if len(name) == 2 and name[1] != "-"]
        if any(value.startswith(name) and len(value) > 2 for name in short):
            return True
    return False
