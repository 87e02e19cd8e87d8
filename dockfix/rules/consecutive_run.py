"""DF102 consecutive-run: consecutive ``RUN`` instructions that can be one.

What it does
    Merges a run of consecutive shell-form ``RUN`` instructions with the same flags into
    one, joined with ``&&`` in the file's own style: ``cmd && \\`` at line ends, or
    ``\\`` at line ends and ``&& cmd`` at line starts when the file writes it that way,
    one command per line, indented like the file's other commands (not like a package
    list).

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
    ``unset``, ``exec``, ``ulimit``, ``trap``, ``read``, ``hash``, ``builtin``...) or
    ends it (``exit``, ``return``), both
    have the same flags (mounts, network, security), and no other instruction or blank
    line stands between them: a blank line is taken as the author grouping steps apart
    (comment lines: below).

    Only POSIX shells (``sh``, ``bash``): Windows PowerShell 5.1 has no ``&&``, and
    under ``cmd`` a joined command does not see ``PATH`` changes (``setx``, ``choco
    install``) made before it; such stages are reported, not rewritten.  Where the
    stage's shell is unknown the fix is unsafe.

    Not merged (reported instead, at the RUN that could join the one above):

    * across a RUN that changes the shell the next commands run in or later RUNs
      start: ``conda activate``, ``micromamba activate``, ``nvm use``, ``ln -s ...
      /bin/sh``, ``update-alternatives`` of ``sh``, ``dpkg-reconfigure dash``,
      ``chsh``; and, where RUN's shell reads startup files (``bash --login``,
      ``bash -i``, ``BASH_ENV``), across one that may change them: writes to
      ``~/.bashrc``, ``~/.profile``, ``/etc/profile.d``, ``/etc/bash.bashrc``...,
      ``conda init``, a script run by a shell (``curl ... | bash``: the nvm, rustup,
      sdkman installers).  Joined, the next command runs in the old shell instead of
      a fresh one that loads the change.  ``sh -c`` reads no startup file, so under
      it such writes do not stop a merge;
    * across comment lines: they would move inside the merged RUN's continuation, and
      a ``# hadolint ignore=``/``# dockfix: ignore`` pragma would no longer apply to its
      RUN; a RUN under a pragma is never merged with the next one either, since the
      pragma would then cover commands it was not written for;
    * after a RUN whose shell text holds a ``#`` comment (``RUN apt-get update #
      refresh``): the continuation folds the merged RUN onto one line, so the commands
      joined after it would be part of the comment and never run;
    * after a RUN that upgrades a program a joined command calls by name again (``pip3
      install --upgrade pip``, then ``pip3 install ...``): the shell remembers where it
      found ``pip3`` and would run the old copy (a distribution's pip upgrades into
      ``/usr/local/bin``; a Python image's upgrades in place, and is merged); a new
      RUN's shell looks it up afresh;
    * when both RUNs run ``apt-get update``: merged, the lists would be fetched twice.

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
from typing import TYPE_CHECKING

from dockfix.lazy_dataclass import dataclass
from dockfix.model import ShellDialect, Step
from dockfix.model.preconditions import Precondition
from dockfix.rules._hygiene import APT, RPM, is_apt
from dockfix.rules._later_shells import later_shell_change, self_upgrades
from dockfix.rules._run_join import merged_text
from dockfix.rules._shell import RunShell, run_comments, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import (
    Manager,
    Pipeline,
    SimpleCommand,
    command_name,
    iter_simple_commands,
)
from dockfix.syntax import Dockerfile, Instruction
from dockfix.syntax.nodes import BlankLine, Comment, Directive

if TYPE_CHECKING:
    from dockfix.suppressions import Pragma

RULE_CODE = "DF102"
#: The cut a ``# dockfix: ignore[DF102]``/``# hadolint ignore=DL3059`` above a RUN asks for.
SUPPRESSED = "a pragma above the RUN keeps it apart"
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
        "read",
        "mapfile",
        "readarray",
        "builtin",
        "hash",
    }
)
#: Commands that end the shell where they run (``test -f x && exit 0``).
SHELL_ENDERS = frozenset({"exit", "return", "logout"})
_SYSTEM_MANAGERS = APT | RPM | {Manager.APK}


@dataclass
class _Member:
    """A joinable RUN of a chain, with the comment lines directly above it."""

    instruction: Instruction
    shell: RunShell
    kind: str
    comments: list[Comment]


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
        if name in SHELL_ENDERS:
            return f"`{name}` ends the shell: commands joined after it would not run"
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


def _join_facts(shell: RunShell) -> tuple[str | None, str]:
    """``joinable_reason`` and ``layer_kind``, once per script text (scripts are shared)."""
    cache = shell.script.__dict__
    found: tuple[str | None, str] | None = cache.get("_df102")
    if found is None:
        found = cache["_df102"] = (joinable_reason(shell), layer_kind(shell))
    return found


# -- finding the RUNs to join ----------------------------------------------------------


def _chains(document: Dockerfile) -> Iterator[list[_Member]]:
    """Maximal runs of joinable RUNs of one layer kind and the same flags, with only
    comment lines between them."""
    chain: list[_Member] = []
    pending: list[Comment] = []
    for node in document.nodes:
        if isinstance(node, Comment):
            pending.append(node)
            continue
        if isinstance(node, BlankLine | Directive) or not isinstance(node, Instruction):
            if len(chain) > 1:
                yield chain
            chain, pending = [], []
            continue
        shell = run_shell(node)
        member = None
        if isinstance(shell, RunShell) and node.eol:
            reason, kind = _join_facts(shell)
            if reason is None:
                member = _Member(node, shell, kind, pending)
        previous = chain[-1] if chain else None
        if (
            member is not None
            and previous is not None
            and member.kind == previous.kind
            and node.reading.flags == previous.instruction.reading.flags
        ):
            chain.append(member)
        else:
            if len(chain) > 1:
                yield chain
            chain = [member] if member is not None else []
        pending = []
    if len(chain) > 1:
        yield chain


def _pragmas(comments: list[Comment]) -> list[Pragma]:
    """The suppression pragmas among the comment lines above a RUN."""
    from dockfix.suppressions import is_pragma_comment, read_pragma  # imports the registry

    found = (read_pragma(comment) for comment in comments if is_pragma_comment(comment))
    return [pragma for pragma in found if pragma is not None]


def _rehashed(segment: list[_Member], member: _Member, context: RuleContext) -> str | None:
    """Why ``member`` would run an old copy of a program the segment upgraded, or None.

    A shell remembers where it found a command (dash and bash hash it), so in a merged
    RUN a second ``pip3`` runs the ``/usr/bin/pip3`` the first call found, not the
    ``/usr/local/bin/pip3`` that ``pip3 install --upgrade pip`` just installed (on
    Debian's pip, an ImportError).  Separate RUNs start fresh shells.
    """
    called = {command_name(command) for command in iter_simple_commands(member.shell.script)}
    facts = context.model.stage_of(member.instruction)
    python_image = facts is not None and facts.traits is not None and facts.traits.python
    for above in segment:
        for name in sorted(self_upgrades(above.shell, python_image) & called):
            return (
                f"the RUN on line {above.instruction.line} upgrades `{name}`: joined, the "
                f"shell would run the `{name}` it found before the upgrade"
            )
    return None


def _runs_apt_update(shell: RunShell) -> bool:
    return any(is_apt(package, "update") for package in shell.packages())


def _boundary(
    segment: list[_Member], member: _Member, step: Step, context: RuleContext
) -> str | None:
    """Why ``member`` must not join the RUNs of ``segment`` above it, or None."""
    last = segment[-1]
    if member.comments:
        if _pragmas(member.comments):
            return "the pragma above it would no longer apply to its own RUN"
        return "the comment lines above it would move inside the merged RUN"
    pragmas = _pragmas(last.comments)
    if any(pragma.covers(RULE_CODE) for pragma in pragmas):
        return SUPPRESSED
    if run_comments(last.instruction):
        return (
            f"the RUN on line {last.instruction.line} ends with a `#` comment: "
            "the commands joined after it would be part of the comment"
        )
    if pragmas:
        return f"the pragma above the RUN on line {last.instruction.line} would cover both"
    change = later_shell_change(last.shell, step)
    if change is not None:
        return f"the RUN on line {last.instruction.line} changes later shells: {change}"
    upgraded = _rehashed(segment, member, context)
    if upgraded is not None:
        return upgraded
    if _runs_apt_update(member.shell) and any(_runs_apt_update(m.shell) for m in segment):
        return "both run `apt-get update`: merged, the lists would be fetched twice"
    return None


def _segments(
    chain: list[_Member], context: RuleContext
) -> tuple[list[list[_Member]], list[tuple[Instruction, Instruction, str]]]:
    """The chain cut where a merge would change meaning or move comments, and the cuts
    (the RUN above, the RUN below, why)."""
    segments: list[list[_Member]] = [[chain[0]]]
    cuts: list[tuple[Instruction, Instruction, str]] = []
    for member in chain[1:]:
        step = context.model.step_at(member.instruction)
        reason = _boundary(segments[-1], member, step, context) if step is not None else None
        if reason is None:
            segments[-1].append(member)
        else:
            cuts.append((segments[-1][-1].instruction, member.instruction, reason))
            segments.append([member])
    return segments, cuts


# -- the rule --------------------------------------------------------------------------


def _dialect_note(context: RuleContext, instruction: Instruction) -> str:
    """Why RUN's shell cannot take an ``&&`` join (empty for POSIX or unknown shells)."""
    step = context.model.step_at(instruction)
    dialect = step.dialect if step is not None else ShellDialect.UNKNOWN
    if dialect is ShellDialect.POWERSHELL:
        return "Windows PowerShell 5.1 has no `&&`; a merge needs `;` and error checks"
    if dialect is ShellDialect.CMD:
        return (
            "under cmd a joined command does not see PATH changes made before it "
            "(`setx`, `choco install`, installers), and `%VAR%` expands before the line runs"
        )
    if dialect is ShellDialect.PWSH:
        return (
            "pwsh 7 has `&&`, but a merged RUN is not proven to stop where the separate "
            "RUNs did (`$?` of cmdlets, `$ErrorActionPreference`)"
        )
    if dialect is ShellDialect.OTHER:
        return "RUN's SHELL is not a POSIX shell"
    return ""


def _merge(rule: Rule, document: Dockerfile, segment: list[_Member], note: str) -> Finding:
    first = segment[0].instruction
    message = f"{len(segment)} consecutive RUN instructions can be one layer"
    if note:
        return rule.finding(message, first, note=note)
    group = [member.instruction for member in segment]
    new = document.make_instruction(merged_text(document, group), eol="")
    edits = [Edit(first, (new,))]
    edits.extend(Edit(instruction, ()) for instruction in group[1:])
    return rule.finding(message, first, edits=edits)


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for chain in _chains(document):
        note = _dialect_note(context, chain[0].instruction)
        if note:
            yield _merge(rule, document, chain, note)
            continue
        segments, cuts = _segments(chain, context)
        for segment in segments:
            if len(segment) > 1:
                yield _merge(rule, document, segment, "")
        for above, below, reason in cuts:
            if reason is SUPPRESSED:  # reported where that pragma silences it
                message = f"RUN could join the RUN on line {below.line} in one layer"
                yield rule.finding(message, above, note=reason)
            else:
                message = f"RUN could join the RUN on line {above.line} in one layer"
                yield rule.finding(message, below, note=reason)


RULE = Rule(
    code=RULE_CODE,
    name="consecutive-run",
    summary="Merge consecutive `RUN`s that mean the same joined with `&&`",
    applicability=Applicability.SAFE,
    check=check,
    explanation=__doc__ or "",
    preconditions=(Precondition.POSIX_SHELL,),
)
