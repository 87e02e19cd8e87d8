"""``dockfix verify --repair``: install the missing runtime libraries and prove it again.

Why a loop: the library scan names what the fixed image cannot load; installing it can
reveal the next layer of the problem (a package whose own dependencies were also removed
with the compilers, a second extension module). Each round adds the named packages to one
``apt-get install`` line right after the final stage's FROM, rebuilds, smoke-tests and
scans again, at most ``max_rounds`` times. The loop works on text and takes the verify step
as a function, so it is tested without a builder; nothing here writes a file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from dockfix.lazy_dataclass import dataclass
from dockfix.syntax import parse
from dockfix.verify.libraries import apt_line
from dockfix.verify.workflow import VerifyReport

__all__ = ["DEFAULT_ROUNDS", "RepairOutcome", "RepairRound", "add_runtime_packages", "repair"]

DEFAULT_ROUNDS = 3
#: The line ``apt_line`` writes, to extend it in the next round instead of adding another.
_OUR_LINE = re.compile(
    r"^RUN apt-get update && apt-get install -y --no-install-recommends (?P<names>[^&]+?)"
    r" && rm -rf /var/lib/apt/lists/\*\s*$"
)


@dataclass(frozen=True)
class RepairRound:
    """One verification of the rewrite; ``added`` is what this round's text installs more."""

    number: int
    added: tuple[str, ...]
    report: VerifyReport


@dataclass(frozen=True)
class RepairOutcome:
    """The repaired rewrite, every round, and why the loop stopped."""

    text: str
    rounds: tuple[RepairRound, ...]
    added: tuple[str, ...]
    stopped: str

    @property
    def report(self) -> VerifyReport:
        """The last round's verification (of ``text``)."""
        return self.rounds[-1].report

    @property
    def repaired(self) -> bool:
        """Packages were added and the last round finds nothing missing."""
        scan = self.report.libraries_after
        return bool(self.added) and scan is not None and scan.ran and not scan.missing


def add_runtime_packages(text: str, packages: Sequence[str]) -> str:
    """``text`` with ``packages`` installed right after the final stage's FROM.

    A line this function wrote before (the first instruction of the final stage) is
    extended rather than repeated. Unchanged text when every package is already there.
    """
    document = parse(text)
    if not document.stages:
        raise ValueError("the Dockerfile has no FROM")
    stage = document.stages[-1]
    first = stage.instructions[0] if stage.instructions else None
    if first is not None:
        match = _OUR_LINE.match(first.to_string().strip())
        if match is not None:
            names = match.group("names").split()
            merged = names + [p for p in packages if p not in names]
            if merged == names:
                return text
            return document.replace(first, document.make_instruction(apt_line(merged))).to_string()
    if not packages:
        return text
    anchor = stage.from_instruction
    if not anchor.to_string().endswith("\n"):  # a last line without a line ending
        return text + document.style.eol + apt_line(packages) + document.style.eol
    return document.insert_after(anchor, document.make_instruction(apt_line(packages))).to_string()


def repair(
    check: Callable[[str], VerifyReport], fixed: str, *, max_rounds: int = DEFAULT_ROUNDS
) -> RepairOutcome:
    """Verify ``fixed``; while its image misses libraries, add their packages and re-verify.

    ``check`` builds and verifies one rewritten text (``workflow.verify`` with the
    original). At most ``max_rounds`` repairs, each followed by one check.
    """
    text = fixed
    added: list[str] = []
    rounds = [RepairRound(0, (), check(text))]
    stopped = f"stopped after {max_rounds} round(s) with libraries still missing"
    for number in range(1, max_rounds + 1):
        report = rounds[-1].report
        scan = report.libraries_after
        if report.after is not None and not report.after.success:
            stopped = "the rewritten Dockerfile does not build"
            break
        if scan is None or not scan.ran:
            stopped = scan.reason if scan is not None else "the library scan did not run"
            break
        if not scan.missing:
            stopped = "no missing libraries"
            break
        if not scan.packages:
            stopped = f"no package is known for {', '.join(scan.unnamed)}"
            break
        new = add_runtime_packages(text, scan.packages)
        if new == text:
            stopped = f"{', '.join(scan.packages)} installed, libraries still missing"
            break
        fresh = tuple(p for p in scan.packages if p not in added)
        added.extend(fresh)
        text = new
        rounds.append(RepairRound(number, fresh, check(text)))
    else:
        last = rounds[-1].report.libraries_after
        if last is not None and last.ran and not last.missing:
            stopped = "no missing libraries"
    return RepairOutcome(text, tuple(rounds), tuple(added), stopped)
