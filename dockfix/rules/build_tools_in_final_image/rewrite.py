"""Edits to one RUN's shell text for DF202: words and commands taken out."""

from __future__ import annotations

from collections.abc import Sequence

from dockfix.edits import ShellSplice, splice_shell
from dockfix.lazy_dataclass import dataclass
from dockfix.rules._hygiene import and_chain, removes_lists
from dockfix.rules._shell import RunShell
from dockfix.rules.build_tools_in_final_image.checks import APT, BuildInstall, Purge
from dockfix.rules.refusal import FixRefused
from dockfix.shell import Node, Word, classify, iter_simple_commands
from dockfix.syntax import Dockerfile

_HOUSEKEEPING = frozenset({"update", "clean", "autoremove"})


@dataclass
class Rewrite:
    """Edits to one RUN's shell text: spans ``(start, end, text)`` and commands to remove."""

    shell: RunShell
    spans: list[tuple[int, int, str]]
    removed: list[Node]


def trim_install(
    rewrite: Rewrite, install: BuildInstall, runtime: dict[int, tuple[str, ...]]
) -> None:
    """Build packages out of the install; their runtime packages (``runtime``, by the
    word's ``id``) in their place.  An install left with no package is removed."""
    words = install.package.command.words
    build = {id(word) for word in install.build_words}
    kept = [word for word in install.package.packages if id(word) not in build]
    added = [name for word in install.build_words for name in runtime[id(word)]]
    if not kept and not added:
        rewrite.removed.append(install.package.command)
        return
    doomed = set()
    for word in install.build_words:
        names = runtime[id(word)]
        if names:
            rewrite.spans.append((word.start, word.end, " ".join(names)))
        else:
            doomed.add(id(word))
    rewrite.spans += deletion_spans(install.shell, words, doomed)


def trim_purge(rewrite: Rewrite, purge: Purge) -> None:
    """Build packages out of a removal (the image never installs them now); a removal
    left with none is removed."""
    if len(purge.words) == len(purge.package.packages):
        rewrite.removed.append(purge.package.command)
        return
    doomed = {id(word) for word in purge.words}
    rewrite.spans += deletion_spans(purge.shell, purge.package.command.words, doomed)


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


def apply_rewrite(document: Dockerfile, rewrite: Rewrite) -> ShellSplice | None:
    """The RUN with the rewrite made, with the comment lines between its continued lines
    that have no place in it any more (see ``splice_shell``); None when every command
    was removed (the builder's copy of the RUN keeps its comment lines)."""
    shell = rewrite.shell
    instruction = shell.instruction
    spans = list(rewrite.spans)
    if rewrite.removed:
        removed = {id(command) for command in rewrite.removed}
        items = shell.script.body.items
        if not removed <= {id(item) for item in items}:
            raise FixRefused(f"the RUN on line {instruction.line} is not a plain && chain")
        keep = [id(item) not in removed for item in items]
        if not any(keep):
            return None
        spans = [s for s in spans if not any(covers(c, s) for c in rewrite.removed)]
        if and_chain(shell.script) is not None:
            spans += _removal_spans(items, keep)
        else:
            spans += _list_removal_spans(shell, keep)
    try:
        return splice_shell(document, shell, spans)
    except ValueError as error:
        raise FixRefused(
            f"the RUN on line {instruction.line} has comment lines between its continued "
            f"lines that the edit cannot keep: {error}"
        ) from error


def covers(command: Node, span: tuple[int, int, str]) -> bool:
    """True when ``span`` lies within ``command`` (it goes with the command)."""
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


#: Operators a removed command may stand between: it runs after the one before it, and
#: the one after it runs after it (not ``||``, a pipe or ``&``).
_SEQUENCE = frozenset({"&&", ";", "\n"})


def _list_removal_spans(shell: RunShell, keep: list[bool]) -> list[tuple[int, int, str]]:
    """Spans deleting runs of removed items from a list joined by ``&&`` and ``;``.

    The removed commands are installs that succeed whenever the build does, so ``a &&
    X; b`` and ``a; X && b`` both run ``b`` whenever ``X`` would have run: the operator
    kept between ``a`` and ``b`` is ``;`` when either was one (``a; b``), else ``&&``.
    A run at the end goes only after ``&&`` (``a; X`` -> ``a`` would end with ``a``'s
    status, which ``X`` replaced).  Any other operator next to a removed item (``||``,
    ``&``) is refused.
    """
    body = shell.script.body
    items, operators = body.items, [op.text for op in body.operators]
    text = shell.script.text
    line = shell.instruction.line
    spans = []
    index = 0
    while index < len(items):
        if keep[index]:
            index += 1
            continue
        end = index
        while end + 1 < len(items) and not keep[end + 1]:
            end += 1
        before = operators[index - 1] if index > 0 else None
        after = operators[end] if end < len(operators) else None
        named = " ".join(text[items[index].start : items[index].end].split()[:3])
        for op in [before, *operators[index:end], after]:
            if op is not None and op not in _SEQUENCE:
                raise FixRefused(
                    f"the RUN on line {line} has `{named}`, which the split removes, next to "
                    f"`{op}`: what runs after it, or in the background, would change"
                )
        if end + 1 == len(items):  # the run ends the list (a terminator may follow)
            if before != "&&":
                raise FixRefused(
                    f"the RUN on line {line} ends with `{named}` after `;`, which the split "
                    "removes: the RUN would end with the status of what came before, which "
                    "the original ignored"
                )
            spans.append((items[index - 1].end, items[end].end, ""))
        elif before is None or before in (";", "\n") or after == "&&":
            spans.append((items[index].start, items[end + 1].start, ""))
        else:  # ``a && X; b``: the ``;`` after the run stays
            spans.append((items[index - 1].end, items[end].end, ""))
        index = end + 1
    return spans
