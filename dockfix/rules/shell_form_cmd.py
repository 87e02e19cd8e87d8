"""DF204 shell-form-cmd: ``CMD``/``ENTRYPOINT`` in shell form instead of exec form.

What it does
    Rewrites a shell-form ``CMD``/``ENTRYPOINT`` as a JSON array (exec form).  When the
    command is plain words (no variables, globs, operators, redirections, ``~``,
    backslashes or command substitution; quotes only where removing them is exact), the
    words become the array: ``CMD gunicorn app:app`` -> ``CMD ["gunicorn", "app:app"]``.
    When it needs the shell, the shell is kept and told to ``exec`` the program:
    ``CMD gunicorn -b :$PORT app`` -> ``CMD ["/bin/sh", "-c", "exec gunicorn -b :$PORT app"]``.

Why is this bad?
    The shell form runs ``/bin/sh -c "<text>"``: the shell is PID 1 and does not pass
    signals on, so ``docker stop`` (SIGTERM) and Ctrl-C never reach the program, which is
    killed after the 10 s grace period instead of shutting down cleanly.

Example
    ``CMD python app.py`` becomes ``CMD ["python", "app.py"]``.

Fix safety
    * Plain-words ``CMD``: **safe**.  The array holds exactly the words the shell would
      have passed.  Only when no ``ENTRYPOINT`` applies, neither in the stage, nor in a
      stage it builds on, nor in the base image as far as the image table knows: an
      entrypoint receives the CMD as its arguments, and ``/bin/sh -c "<text>"`` is not
      the split words.  An unknown base image is reported, not rewritten.
    * Plain-words ``ENTRYPOINT``: **unsafe**.  In exec form, arguments given at run time
      (``docker run image ARGS``, compose ``command:``) reach the program; the shell form
      ignored them.  Not rewritten (reported) when the stage, or a stage built on it, has
      a ``CMD``: that CMD would start being passed as arguments.
    * Shell syntax in a single simple command (variables, redirections, globs...):
      **unsafe**, ``["/bin/sh", "-c", "exec <text>"]``: the program replaces the shell
      as PID 1 and now gets the signals itself.  Lists (``&&``, ``;``, ``|``, ``&``),
      assignments before the command, shell builtins and keywords are reported, since
      ``exec`` would change what runs.  For a ``CMD`` the same entrypoint condition holds.
    * Text that already starts with ``exec``: **safe**.  ``["/bin/sh", "-c", "<text>"]``
      is the configuration the shell form produced (so no ENTRYPOINT or CMD condition),
      except that runs of blanks between words (the indentation of continuation lines)
      become one space in both ``/bin/sh -c`` rewrites: the shell splits the same
      words.  For a ``CMD`` that no ENTRYPOINT receives, plain words after ``exec``
      become the array without it instead.
    Both ``/bin/sh -c`` rewrites need a base image the image table knows, with a shell:
    an unknown image may set its own ``SHELL``.
    * A program that may be a script without a ``#!`` line (``CMD ./start.sh``): the
      shell runs such a script itself when the kernel refuses it, the exec form fails
      with "exec format error".  The script the Dockerfile copies from the build context
      is read: without ``#!`` the command is reported, not rewritten; a path the context
      does not give (made by a RUN, the base image's) makes the fix **unsafe**.
    Never rewritten: an array that is not valid JSON (``['a', 'b']``: BuildKit runs it
    as shell text, and what was meant needs a human), a stage with a custom ``SHELL``
    (here or in a stage it builds on, as the stage model knows it; ``bash --login``
    reads profile files where conda and nvm put programs on ``PATH``, which the exec
    form would skip, so the note says so), Windows images (their shell is ``cmd /S /C``),
    ``ONBUILD CMD`` (it runs in images whose shell and entrypoint are unknown), and
    commands whose continuation lines hold comment lines (joining them into one JSON
    line would drop the comments).  The keyword's case, flags and line ending are kept.

References
    practices.md row 9, and row 10 (how ENTRYPOINT and CMD combine decides when a CMD
    may be rewritten); lists of commands, row 8's concern, are only reported here;
    hadolint DL3025; BuildKit check ``JSONArgsRecommended``.
"""

from __future__ import annotations

import enum
import itertools
import json
import posixpath
from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.lazy_dataclass import dataclass
from dockfix.model import BuildContext, Platform, ShellDialect, StageFacts
from dockfix.model.copied import SEARCH_PATH, file_origin
from dockfix.model.preconditions import Precondition
from dockfix.rules._runtime import applying, parse_script
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import SimpleCommand
from dockfix.syntax import Dockerfile, Instruction

#: Characters that mean nothing to the shell outside quotes.
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=,+@%^")
#: Characters inside double quotes that the shell still interprets.
_DOUBLE_QUOTE_SPECIAL = frozenset("$`\\")
#: Reserved words: a command starting with one is shell syntax, not a program.
_KEYWORDS = frozenset(
    {"if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until"}
    | {"for", "in", "function", "select", "time", "coproc"}
)
#: Shell builtins with no program of the same name, or one that acts differently (echo).
_BUILTINS = frozenset(
    {".", ":", "break", "continue", "eval", "exit", "export", "readonly", "return", "set"}
    | {"shift", "times", "trap", "unset", "cd", "alias", "unalias", "read", "wait", "umask"}
    | {"ulimit", "jobs", "fg", "bg", "hash", "type", "getopts", "command", "local", "source"}
    | {"builtin", "declare", "typeset", "let", "shopt", "enable", "history", "fc"}
    | {"echo", "printf"}
)
DEFAULT_SHELL = ("/bin/sh", "-c")
_SCRIPT_SUFFIXES = (".sh", ".bash")


class Entrypoint(enum.Enum):
    """Whether an ENTRYPOINT applies to a stage's CMD."""

    NONE = "none"
    SET = "set"
    UNKNOWN = "unknown"


def plain_words(text: str) -> list[str] | None:
    """The argv ``/bin/sh -c text`` runs when ``text`` is plain words; else None.

    Plain: words of characters the shell does not interpret, split on blanks, with
    single quotes and double quotes (without ``$``, backquote or backslash inside)
    removed exactly as the shell removes them.  ``A=b cmd`` is an assignment, not a word.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None  # undecodable bytes would not survive JSON
    words: list[str] = []
    current: list[str] = []
    in_word = False
    index = 0
    while index < len(text):
        char = text[index]
        if char in " \t":
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
            index += 1
            continue
        if char in "'\"":
            close = text.find(char, index + 1)
            inner = text[index + 1 : close]
            if close < 0 or (char == '"' and _DOUBLE_QUOTE_SPECIAL.intersection(inner)):
                return None
            current.append(inner)
            index = close + 1
        elif char in _PLAIN or (not char.isascii() and char.isprintable() and not char.isspace()):
            current.append(char)
            index += 1
        else:
            return None
        in_word = True
    if in_word:
        words.append("".join(current))
    if not words or _is_assignment(text.lstrip(" \t")):
        return None
    return words


def _is_assignment(text: str) -> bool:
    name, equals, _ = text.partition("=")
    return bool(equals) and name.isidentifier() and name.isascii()


def entrypoint_for_cmd(facts: StageFacts) -> Entrypoint:
    """Whether an ENTRYPOINT applies to the CMDs of the stage.

    The stage's own last ENTRYPOINT decides (``ENTRYPOINT []`` clears it), else the
    nearest stage it builds on that sets one, else the base image's as the table knows it.
    """
    for ancestor in facts.lineage:
        entrypoints = applying(ancestor.stage.instructions, "ENTRYPOINT")
        if entrypoints:
            last = entrypoints[-1]
            return Entrypoint.NONE if last.is_json and not last.value else Entrypoint.SET
        if ancestor is not facts and any(i.sub_cmd == "ENTRYPOINT" for i in ancestor.onbuild):
            return Entrypoint.SET  # an ONBUILD trigger sets it in the stages built on it
    traits = facts.traits
    if traits is None or traits.entrypoint is None:
        return Entrypoint.UNKNOWN
    return Entrypoint.SET if traits.entrypoint else Entrypoint.NONE


def shell_note(facts: StageFacts, instruction: Instruction) -> str:
    """Why the shell form runs under another shell than ``/bin/sh -c`` (``""``: it does not).

    The model's step knows the ``SHELL`` in effect (from this stage or one it builds
    on); an ``ONBUILD SHELL`` of a parent stage sets one too.  Under ``bash --login``
    the shell form reads profile files (conda, nvm and ``~/.profile`` put programs on
    ``PATH`` there): the exec form would run without them.
    """
    step = facts.at(instruction)
    if step.shell is not None:
        words = " ".join(step.shell)
        if step.dialect is ShellDialect.BASH_LOGIN:
            return (
                f"the shell form runs under `{words}`, which reads profile files (conda, "
                "nvm, ~/.profile set PATH there): the exec form would skip them"
            )
        return f"the stage runs shell forms with a custom SHELL (`{words}`)"
    if any(
        trigger.sub_cmd == "SHELL" for ancestor in facts.lineage[1:] for trigger in ancestor.onbuild
    ):
        return "the stage runs shell forms with a custom SHELL (an ONBUILD SHELL)"
    return ""


def cmd_is_passed(facts: StageFacts) -> bool:
    """Would an exec-form ENTRYPOINT of the stage receive a CMD as arguments?

    A CMD in the stage itself, or in a later stage built on it, would be.  (Setting an
    ENTRYPOINT clears a CMD inherited from the base image.)
    """
    stages = (facts, *facts.descendants)
    return any(applying(s.stage.instructions, "CMD") for s in stages)


def exec_form(words: list[str] | tuple[str, ...]) -> str:
    """The JSON array, one line, ``["a", "b"]`` style, non-ASCII kept."""
    return json.dumps(list(words), ensure_ascii=False)


@dataclass(frozen=True)
class Plan:
    """What to write instead of the shell form, or why not."""

    words: tuple[str, ...] = ()
    applicability: Applicability = Applicability.SAFE
    reason: str = ""
    #: When not rewritten: why (shown with the finding).
    note: str = ""


_ENTRYPOINT_ARGS = (
    "arguments given at run time (docker run IMAGE ARGS, compose command:) now reach the "
    "program; the shell form ignored them"
)
_EXEC_REASON = (
    "`exec` makes the program replace the shell as PID 1: it now receives SIGTERM/SIGINT "
    "itself and must handle them (and reap any children it starts)"
)


def plan(facts: StageFacts, instruction: Instruction) -> Plan:
    """Decide the rewrite of one shell-form CMD/ENTRYPOINT (see *Fix safety*)."""
    note = shell_note(facts, instruction)
    if note:
        return Plan(note=note)
    if instruction.comments:
        return Plan(note="comment lines inside the command would be lost")
    text = instruction.value[0]
    if text.startswith("["):
        return Plan(note="not valid JSON (single quotes? a trailing comma?): it runs as shell")
    words = plain_words(text)
    if words is not None:
        return _plan_words(facts, instruction, words)
    return _plan_exec(facts, instruction, text)


def _plan_words(facts: StageFacts, instruction: Instruction, words: list[str]) -> Plan:
    exec_already = words[0] == "exec"
    if exec_already:
        if len(words) == 1 or words[1].startswith("-"):
            return Plan(note="`exec` without a program, or with options")
        words = words[1:]
    if words[0] in _BUILTINS or words[0] in _KEYWORDS:
        return Plan(note=f"`{words[0]}` is a shell builtin or keyword, not a program")
    if instruction.cmd == "CMD":
        blocked = _cmd_blocked(facts)
        if blocked and exec_already:
            # The ENTRYPOINT gets the CMD: keep `/bin/sh -c "exec ..."`, the same config.
            return _plan_exec(facts, instruction, instruction.value[0])
        return Plan(note=blocked) if blocked else Plan(tuple(words))
    if exec_already:
        # Split words would let run-time arguments in; `/bin/sh -c "exec ..."` is the same
        # configuration as before, so that is the (safe) rewrite.
        return _plan_exec(facts, instruction, instruction.value[0])
    if cmd_is_passed(facts):
        return Plan(note="a CMD would start being passed to the ENTRYPOINT as arguments")
    return Plan(tuple(words), Applicability.UNSAFE, _ENTRYPOINT_ARGS)


def _cmd_blocked(facts: StageFacts) -> str:
    """Why a CMD's words cannot be the array: an ENTRYPOINT that would receive them."""
    entrypoint = entrypoint_for_cmd(facts)
    if entrypoint is Entrypoint.SET:
        return "an ENTRYPOINT applies and receives the CMD as its arguments"
    if entrypoint is Entrypoint.UNKNOWN:
        return "the base image's ENTRYPOINT is not known"
    return ""


def _plan_exec(facts: StageFacts, instruction: Instruction, text: str) -> Plan:
    traits = facts.traits
    if traits is None:
        return Plan(note="shell syntax, and the base image's SHELL is not known")
    if not traits.shell:
        return Plan(note="shell syntax, and the image has no /bin/sh")
    command, why = single_command(text)
    if command is None:
        return Plan(note=why)
    first = command.words[0]
    text = tidy(text, command)
    if first.is_literal and first.value == "exec":
        # Already exec'd: ["/bin/sh", "-c", text] is what the shell form made.
        return Plan((*DEFAULT_SHELL, text))
    if instruction.cmd == "CMD":
        blocked = _cmd_blocked(facts)
        if blocked:
            return Plan(note=blocked)
    return Plan((*DEFAULT_SHELL, f"exec {text}"), Applicability.UNSAFE, _EXEC_REASON)


def tidy(text: str, command: SimpleCommand) -> str:
    """``text`` with the blanks between its words made single spaces.

    A shell form continued over lines keeps each line's indentation in its text
    (``gunicorn \\`` + ``      --bind ...``); inside a JSON string those runs of
    spaces are noise.  Blanks between words are outside quotes, so the shell splits the
    tidied text into the same words.  Anything else between words (a comment) keeps the
    text as it was.
    """
    spans = sorted(
        [(word.start, word.end) for word in command.words]
        + [(redirect.start, redirect.end) for redirect in command.redirects]
    )
    gaps = [text[: spans[0][0]], text[spans[-1][1] :]]
    gaps += [text[a[1] : b[0]] for a, b in itertools.pairwise(spans)]
    if any(gap.strip(" \t") for gap in gaps):
        return text
    return " ".join(text[start:end] for start, end in spans)


def single_command(text: str) -> tuple[SimpleCommand | None, str]:
    """The one simple command ``exec`` may be put in front of, or why there is none."""
    script = parse_script(text)
    if script is None or "<<" in text:
        return None, "shell syntax dockfix cannot read exactly"
    body = script.body
    if len(body.items) != 1 or body.operators or not isinstance(body.items[0], SimpleCommand):
        return None, "several commands (&&, ;, |, &, compound): exec would run only one"
    command = body.items[0]
    if command.assignments:
        return None, "variable assignments before the command"
    if not command.words:
        return None, "no command to run"
    first = command.words[0]
    if first.is_literal and (first.value in _BUILTINS or first.value in _KEYWORDS):
        return None, f"`{first.value}` is a shell builtin or keyword, not a program"
    return command, ""


def _checked_program(
    facts: StageFacts, instruction: Instruction, decided: Plan, build_context: BuildContext
) -> Plan:
    """``decided`` unless its program may be a script without a ``#!`` line.

    ``/bin/sh -c ./start.sh`` runs such a script itself when the kernel refuses it
    (ENOEXEC); the exec form has no shell to fall back on and fails with "exec format
    error".  A script the Dockerfile copies from the build context is read: with no
    ``#!`` the array is not written.  A path the context does not give (made by a RUN,
    the base image's, another stage's) makes the fix unsafe.  A name nothing copies
    onto ``PATH`` (``python``, ``/bin/bash``) is a program of the image: binaries and
    installed scripts, which have a ``#!`` line; a ``.sh`` name is not taken for one.
    """
    program = decided.words[0]
    on_path = "/" not in program
    origin = file_origin(facts, instruction, program, build_context, on_path=on_path)
    in_search_path = on_path or posixpath.dirname(program) in SEARCH_PATH
    if origin is None and in_search_path and not program.endswith(_SCRIPT_SUFFIXES):
        return decided  # `python`, `/bin/bash`, `/usr/local/bin/node`: the image's programs
    if origin is not None and origin.text is not None:
        if origin.text.startswith("#!"):
            return decided
        return Plan(
            note=f"`{program}` has no #! line: /bin/sh runs it as a script, the exec form "
            "would fail with 'exec format error'"
        )
    risk = (
        f"if `{program}` has no #! line, the exec form fails with 'exec format error' "
        "(/bin/sh ran such a script itself)"
    )
    reason = f"{decided.reason}; {risk}" if decided.reason else risk
    return Plan(decided.words, Applicability.UNSAFE, reason)


def convert(instruction: Instruction, document: Dockerfile, words: tuple[str, ...]) -> Instruction:
    """The instruction with its shell text replaced by the array (keyword, flags, eol kept)."""
    (shell,) = instruction.pieces_of("shell")
    new = document.replace_piece(instruction, shell, exec_form(words))
    if not new.is_json or new.value != words:  # pragma: no cover - a bug, not a user case
        raise ValueError(f"exec form reads back differently: {new.value!r}")
    return new


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for facts in context.model.stages:
        if facts.platform is Platform.WINDOWS:
            continue  # Windows runs shell forms with `cmd /S /C`, not /bin/sh
        for instruction in facts.stage.instructions:
            if instruction.cmd not in ("CMD", "ENTRYPOINT") or instruction.is_json:
                continue  # ONBUILD CMD has cmd ONBUILD: it runs in unknown child images
            if len(instruction.pieces_of("shell")) != 1 or not instruction.value[0].strip():
                continue
            message = (
                f"{instruction.cmd} in shell form runs under /bin/sh, which does not pass "
                f"signals on; use the JSON exec form"
            )
            decided = plan(facts, instruction)
            if decided.words and decided.words[:2] != DEFAULT_SHELL:
                decided = _checked_program(facts, instruction, decided, context.model.context)
            if not decided.words:
                yield rule.finding(message, instruction, note=decided.note)
                continue
            new = convert(instruction, document, decided.words)
            yield rule.finding(
                message,
                instruction,
                edits=[Edit(instruction, (new,))],
                applicability=decided.applicability,
                reason=decided.reason,
            )


RULE = Rule(
    code="DF204",
    name="shell-form-cmd",
    summary="Write `CMD`/`ENTRYPOINT` as a JSON array so the program gets signals",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    fix_kinds=(Applicability.SAFE, Applicability.UNSAFE),
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"CMD", "ENTRYPOINT"}),
    preconditions=(
        Precondition.LINUX,
        Precondition.POSIX_SHELL,
    ),
)
