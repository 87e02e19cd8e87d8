"""Edits to one RUN's shell text for DF202: words and commands taken out."""

from __future__ import annotations

from collections.abc import Sequence

from dockfix.edits import rewrite_shell
from dockfix.lazy_dataclass import dataclass
from dockfix.rules._hygiene import and_chain, removes_lists
from dockfix.rules._shell import RunShell
from dockfix.rules.build_tools_in_final_image.checks import APT
from dockfix.rules.refusal import FixRefused
from dockfix.shell import SimpleCommand, Word, classify, iter_simple_commands
from dockfix.syntax import Dockerfile, Instruction

_HOUSEKEEPING = frozenset({"update", "clean", "autoremove"})


@dataclass
class Rewrite:
    """Edits to one RUN's shell text: spans ``(start, end, text)`` and commands to remove."""

    shell: RunShell
    spans: list[tuple[int, int, str]]
    removed: list[SimpleCommand]


def deletion_spans(
    shell: RunShell, words: Sequence[Word], doomed: set[int]
) -> list[tuple[int, int, str]]:
    """Spans deleting the words whose ``id`` is in ``doomed``, keeping the line layout.

    A run of such words goes with the blank after it when the next word is on the same
    line (``gcc libpq-dev`` -> ``libpq-dev``); otherwise with the blank before it, which
    takes the line break too when the run filled its own lines.
    """
    spans = []
    index = 0
    while index < len(words):
        if id(words[index]) not in doomed:
            index += 1
            continue
        end = index
        while end + 1 < len(words) and id(words[end + 1]) in doomed:
            end += 1
        following = words[end + 1] if end + 1 < len(words) else None
        if following is not None and not _crosses_line(shell, words[index].start, following.start):
            spans.append((words[index].start, following.start, ""))
        else:
            spans.append((words[index - 1].end, words[end].end, ""))
        index = end + 1
    return spans


def _crosses_line(shell: RunShell, start: int, end: int) -> bool:
    """True when the shell text ``[start, end)`` spans a line break of the Dockerfile."""
    instruction = shell.instruction
    begin = instruction.offset_of(shell.base + start)
    finish = instruction.offset_of(shell.base + end - 1) + 1
    return "\n" in instruction.text[begin:finish]


def drop_apt_housekeeping(rewrite: Rewrite) -> None:
    """When no apt install is left in the RUN, its update and list clean-up go too."""
    removed = {id(command) for command in rewrite.removed}
    packages = [p for p in rewrite.shell.packages() if p.manager in APT]
    if not any(id(p.command) in removed for p in packages if p.action == "install"):
        return
    if any(id(p.command) not in removed for p in packages if p.action == "install"):
        return
    for command in iter_simple_commands(rewrite.shell.script):
        package = classify(command)
        housekeeping = (
            package is not None and package.manager in APT and package.action in _HOUSEKEEPING
        )
        if (housekeeping or removes_lists(command)) and id(command) not in removed:
            rewrite.removed.append(command)


def apply_rewrite(document: Dockerfile, rewrite: Rewrite) -> Instruction | None:
    """The RUN with the rewrite made; None when every command was removed."""
    shell = rewrite.shell
    instruction = shell.instruction
    spans = list(rewrite.spans)
    if rewrite.removed:
        chain = and_chain(shell.script)
        removed = {id(command) for command in rewrite.removed}
        if chain is None or not removed <= {id(item) for item in chain}:
            raise FixRefused(f"the RUN on line {instruction.line} is not a plain && chain")
        keep = [id(item) not in removed for item in chain]
        if not any(keep):
            return None
        spans = [s for s in spans if not any(_inside(s, c) for c in rewrite.removed)]
        spans += _removal_spans(chain, keep)
    _check_comments_kept(instruction, shell.base, spans)
    return rewrite_shell(document, shell, spans)


def _inside(span: tuple[int, int, str], command: SimpleCommand) -> bool:
    return command.start <= span[0] and span[1] <= command.end


def _removal_spans(chain: Sequence[object], keep: list[bool]) -> list[tuple[int, int, str]]:
    """Spans deleting each run of removed items with the ``&&`` that joined it."""
    spans = []
    index = 0
    while index < len(chain):
        if keep[index]:
            index += 1
            continue
        end = index
        while end + 1 < len(chain) and not keep[end + 1]:
            end += 1
        if end + 1 < len(chain):
            spans.append((chain[index].start, chain[end + 1].start, ""))  # type: ignore[attr-defined]
        else:
            spans.append((chain[index - 1].end, chain[end].end, ""))  # type: ignore[attr-defined]
        index = end + 1
    return spans


def _check_comments_kept(
    instruction: Instruction, base: int, spans: Sequence[tuple[int, int, str]]
) -> None:
    """A deleted span must not swallow a comment line inside the RUN's continuation."""
    for start, end, _ in spans:
        if start >= end:
            continue
        begin = instruction.offset_of(base + start)
        finish = instruction.offset_of(base + end - 1) + 1
        lines = instruction.text[begin:finish].split("\n")[1:]
        if any(line.lstrip().startswith("#") for line in lines):
            raise FixRefused(f"the RUN on line {instruction.line} has comment lines in the way")
