"""DF107 apt-package-list-unsorted: a one-package-per-line apt list out of order.

What it does
    Finds an ``apt-get install`` (or ``apt install``) whose packages already stand one
    per line, each line continued with ``\\``, in an order that is not alphabetical,
    and sorts them.  Only the package words trade places: continuation characters,
    indentation and everything else keep their bytes::

        RUN apt-get install -y \\
              git \\
              curl                 # becomes curl, then git

Why is this bad?
    An unsorted list hides duplicates and makes every addition a merge conflict
    waiting to happen; a sorted one reads and diffs cleanly (practice 4 of the article,
    Docker's "Sort multi-line arguments").

Fix safety
    Safe: apt resolves the whole set at once, so the order of the names does not
    change what is installed.  Left alone: lists with words apt might read differently
    after a move (variables, command substitutions, quotes, globs), options between
    the packages, blank continuation lines between package lines, comment lines
    between the install command and its last package (a comment above a package line
    labels that package, and would label another after the sort), and lists that share
    lines (the layout would have to change).

References
    practices.md row 4 (sort multi-line package lists); Docker's Dockerfile best
    practices ("Sort multi-line arguments"); no hadolint equivalent.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import FixAvailability
from dockfix.model.preconditions import Precondition
from dockfix.rules._hygiene import APT, is_apt, packages, stage_runs, word_position
from dockfix.rules._shell import RunShell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import PackageCommand, Word

#: A package name, maybe with ``:arch``, ``/release`` or ``=version`` (which may end in ``*``).
_PLAIN_PACKAGE = lazy_re.compile(r"[A-Za-z0-9][A-Za-z0-9.+:~/_-]*(=[A-Za-z0-9.+:~_-]+\*?)?")


def _between(shell: RunShell, end: int, start: int) -> str:
    """The physical text between the shell offsets ``end`` and ``start``."""
    instruction = shell.instruction
    begin = instruction.offset_of(shell.base + end - 1) + 1
    finish = instruction.offset_of(shell.base + start)
    return instruction.text[begin:finish]


def one_per_line(shell: RunShell, package: PackageCommand, escape: str) -> bool:
    """True when consecutive packages are separated by exactly one line continuation."""
    words = package.packages
    continuation = re.compile(rf"[ \t]*{re.escape(escape)}\r?\n[ \t]*")
    for left, right in itertools.pairwise(words):
        if not continuation.fullmatch(_between(shell, left.end, right.start)):
            return False  # same line, a comment or blank line between, or other words
    return True


def sortable(shell: RunShell, package: PackageCommand, escape: str) -> bool:
    words = package.packages
    if len(words) < 2:
        return False
    if not all(_PLAIN_PACKAGE.fullmatch(word.text) for word in words):
        return False  # $VAR, quotes, globs: leave the list as written
    if any(word.text.endswith("-") for word in words):
        return False  # `pkg-` removes a package: the last mention of a name wins
    first, last = words[0].start, words[-1].start
    if any(first < option.start < last for option in package.options):
        return False  # `a -t bookworm-backports b`: options bind to positions
    if _labelled(shell, package):
        return False  # `# nginx: see issue 123` above a line labels its package
    return one_per_line(shell, package, escape)


def _labelled(shell: RunShell, package: PackageCommand) -> bool:
    """A comment line stands between the install command's first word and its last
    package (above a package line, it labels that package)."""
    instruction = shell.instruction
    if not instruction.comments:
        return False
    begin = instruction.offset_of(shell.base + package.command.start)
    finish = instruction.offset_of(shell.base + package.packages[-1].start)
    lines = instruction.text[begin:finish].splitlines()
    return any(line.lstrip().startswith("#") for line in lines[1:])


def sorted_words(words: tuple[Word, ...]) -> list[Word]:
    """By package name first, so that ``curl=7.88*`` sorts where ``curl`` would."""
    return sorted(words, key=lambda word: (word.text.partition("=")[0], word.text))


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    message = "Multi-line package list is not sorted alphabetically"
    for stage in document.stages:
        for shell in stage_runs(stage):
            unsorted = [
                package
                for package in packages(shell, APT)
                if is_apt(package, "install")
                # Sorting is cheaper than reading the layout, and a sorted list needs neither.
                and list(package.packages) != sorted_words(package.packages)
                and sortable(shell, package, document.escape)
            ]
            if not unsorted:
                continue
            edits = []
            for package in unsorted:
                for old, new in zip(package.packages, sorted_words(package.packages), strict=True):
                    if old is not new:
                        edits.append((shell.base + old.start, shell.base + old.end, new.text))
            new_instruction = document.edit_logical(shell.instruction, edits)
            edit = Edit(shell.instruction, (new_instruction,))
            for package in unsorted:
                at = word_position(shell, package.packages[0].start)
                yield rule.finding(message, at, edits=[edit])


RULE = Rule(
    code="DF107",
    name="apt-package-list-unsorted",
    summary="Sort one-package-per-line apt package lists alphabetically",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.ALWAYS,
    check=check,
    explanation=__doc__ or "",
    preconditions=(
        Precondition.LINUX,
        Precondition.POSIX_SHELL,
    ),
)
