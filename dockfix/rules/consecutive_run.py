"""DF102 consecutive-run: consecutive ``RUN`` instructions that can be one.

What it does
    Merges a run of consecutive shell-form ``RUN`` instructions with the same flags into
    one, joined with ``&& \\`` in the file's continuation style, one command per line.
    Comment lines between them move inside the merged instruction, where BuildKit
    skips them.

Why is this bad?
    Each ``RUN`` makes a layer; files deleted in a later layer still take space in the
    earlier one, and related steps split over layers are cached (and invalidated)
    separately.  Practice 4 of the source article; hadolint DL3059.

Example
    ``RUN apt-get update`` followed by ``RUN apt-get install -y curl`` becomes
    ``RUN apt-get update && \\`` / ``    apt-get install -y curl``.

Fix safety
    Safe where ``a && b`` means what the two RUNs meant: both are plain ``&&`` chains
    of commands or pipelines (no ``||``, ``;``, ``&``, subshell tricks that joining
    would regroup), neither changes shell state that would now leak into the next one
    (``cd``, ``export``, ``source``/``.``, ``set``, ``shopt``, ``umask``, ``alias``,
    ``unset``, ``exec``, ``ulimit``, ``trap``), both have the same flags (mounts,
    network, security), and nothing but comment lines stands between them: a blank
    line is taken as the author grouping steps apart.

    Layer-cache heuristic: a dependency install (pip, npm, poetry, go mod...) is only
    merged with another dependency install, and system package steps (apt, apk, dnf)
    only with system package steps.  Merging a slow install with a step that changes
    often would make every change re-run the install; merging it with a step that
    changes as rarely as itself costs nothing.

References
    practices.md row 4; hadolint DL3059.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.model.preconditions import Precondition
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import Manager, Pipeline, SimpleCommand, command_name, iter_simple_commands
from dockfix.syntax import Dockerfile, Instruction
from dockfix.syntax.nodes import BlankLine, Comment, Directive

#: Commands whose effect on the shell would leak into the commands joined after them.
STATEFUL_COMMANDS = frozenset(
    {
        "cd",
        "pushd",
        "popd",
        "export",
        "source",
        ".",
        "set",
        "shopt",
        "umask",
        "alias",
        "unset",
        "exec",
        "ulimit",
        "trap",
        "eval",
        "declare",
        "typeset",
        "readonly",
        "local",
    }
)
_SYSTEM_MANAGERS = frozenset(
    {Manager.APT_GET, Manager.APT, Manager.APK, Manager.YUM, Manager.DNF, Manager.MICRODNF}
)


def joinable_reason(shell: RunShell) -> str | None:
    """Why this RUN cannot take part in an ``&&`` join, or None."""
    body = shell.script.body
    if not body.items:
        return "empty command"
    if len(body.operators) != len(body.items) - 1:
        return "ends with a terminator (`;` or `&`)"
    if any(op.text != "&&" for op in body.operators):
        return "uses `||`, `;`, `&` or newlines between commands"
    for item in body.items:
        if isinstance(item, SimpleCommand):
            if item.background:
                return "runs a command in the background"
        elif not isinstance(item, Pipeline):
            return "uses a subshell, group or compound command"
    for command in iter_simple_commands(shell.script):
        name = command_name(command)
        if name in STATEFUL_COMMANDS:
            return f"`{name}` changes shell state"
        if command.assignments and not command.words:
            return "assigns a shell variable"
    return None


def layer_kind(shell: RunShell) -> str:
    """``deps``, ``system`` or ``other``: what the RUN mostly costs when re-run."""
    kinds = set()
    for package in shell.packages():
        if package.action in ("install", "ci", "sync", "add", "mod-download", "update", "upgrade"):
            kinds.add("system" if package.manager in _SYSTEM_MANAGERS else "deps")
    if "deps" in kinds:
        return "deps"
    return "system" if kinds else "other"


def _groups(document: Dockerfile) -> Iterator[list[tuple[Instruction, list[Comment]]]]:
    """Maximal runs of joinable RUNs: each with the comment lines just above it."""
    group: list[tuple[Instruction, list[Comment]]] = []
    pending: list[Comment] = []
    previous: tuple[RunShell, str] | None = None
    for node in document.nodes:
        if isinstance(node, Comment):
            pending.append(node)
            continue
        if isinstance(node, BlankLine | Directive) or not isinstance(node, Instruction):
            if len(group) > 1:
                yield group
            group, pending, previous = [], [], None
            continue
        shell = run_shell(node)
        current = None
        if isinstance(shell, RunShell) and joinable_reason(shell) is None and node.eol:
            current = (shell, layer_kind(shell))
        if (
            current is not None
            and previous is not None
            and current[1] == previous[1]
            and node.reading.flags == previous[0].instruction.reading.flags
        ):
            group.append((node, pending))
        else:
            if len(group) > 1:
                yield group
            group = [(node, [])] if current is not None else []
        pending = []
        previous = current
    if len(group) > 1:
        yield group


def _continuation_indent(document: Dockerfile, first: Instruction) -> str:
    for before, piece in zip(first.pieces, first.pieces[1:], strict=False):
        if before.kind == "linebreak" and piece.kind == "ws":
            return piece.text
    return document.style.indent


def _head(instruction: Instruction) -> str:
    """The instruction's text up to its last argument (no trailing space or line end)."""
    pieces = list(instruction.pieces[:-1])
    while pieces and pieces[-1].kind == "ws":
        pieces.pop()
    return "".join(piece.text for piece in pieces)


def _shell_text(instruction: Instruction) -> str:
    shell = instruction.pieces_of("shell")[0]
    start, _ = instruction.span_of(shell)
    return _head(instruction)[start:]


def merged_text(document: Dockerfile, group: list[tuple[Instruction, list[Comment]]]) -> str:
    first = group[0][0]
    escape = document.escape
    eol = first.eol
    indent = _continuation_indent(document, first)
    parts = [_head(first)]
    for instruction, comments in group[1:]:
        parts.append(f" && {escape}{eol}")
        for comment in comments:
            parts.append(f"{indent}{comment.text.strip()}{comment.eol or eol}")
        parts.append(indent + _shell_text(instruction))
    return "".join(parts) + group[-1][0].eol


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for group in _groups(document):
        first = group[0][0]
        new = document.make_instruction(merged_text(document, group), eol="")
        edits = [Edit(first, (new,))]
        for instruction, comments in group[1:]:
            edits.extend(Edit(comment, ()) for comment in comments)
            edits.append(Edit(instruction, ()))
        yield rule.finding(
            f"{len(group)} consecutive RUN instructions can be one layer",
            first,
            edits=edits,
        )


RULE = Rule(
    code="DF102",
    name="consecutive-run",
    summary="Merge consecutive `RUN`s that mean the same joined with `&&`",
    applicability=Applicability.SAFE,
    check=check,
    explanation=__doc__ or "",
    preconditions=(Precondition.POSIX_SHELL,),
)
