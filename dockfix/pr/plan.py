"""What ``dockfix pr`` will commit, worked out in memory before git is touched.

The end state is fixed first: each file as a one-shot ``--write`` leaves it (same
reader, same engine, same settings), so the branch can never end anywhere else.  Then
each rule is applied alone, in code order, to the text the previous rules left: that
gives one reviewable step per rule.  Rules interact (one rule's fix can enable or block
another's), so applying them one at a time can end somewhere else than applying them
together; a last "remaining fixes" step then makes every file equal the one-shot result.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Sequence
from pathlib import Path

from unidiff.patch import PatchSet

from dockfix.files import FileProblem, SourceFile, read_source
from dockfix.lazy_dataclass import dataclass
from dockfix.output.diff import unified_diff
from dockfix.profiles import Profile
from dockfix.rules.base import Applicability, Rule, Settings
from dockfix.runner import CompanionReport, FileReport, ReportedFinding, process_text


@dataclass(frozen=True)
class FileChange:
    """One file's change in one step, with its size as a reviewer sees it."""

    path: str
    before: str
    after: str
    added: int
    removed: int
    #: ``(line, what may change)`` for each unsafe fix the step applied to the file.
    unsafe: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Step:
    """One commit: a rule's fixes, or (``rule`` None) what remains to reach one-shot."""

    rule: Rule | None
    changes: tuple[FileChange, ...]

    @property
    def paths(self) -> list[str]:
        return [change.path for change in self.changes]


@dataclass(frozen=True)
class Target:
    """A Dockerfile of the tree: where it is, how it was read, what one-shot makes of it."""

    path: Path
    rel: str
    source: SourceFile
    #: The rules and settings for this file (its configuration plus the command line).
    profile: Profile
    final: str
    fixed: dict[str, int]


@dataclass(frozen=True)
class Leftover:
    """A finding still there after the PR, with why it was not fixed."""

    path: str
    finding: ReportedFinding
    reason: str


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    targets: tuple[Target, ...]
    #: ``(path, why)`` for files dockfix left alone (parse errors, dropped fixes...).
    skipped: tuple[tuple[str, str], ...]
    leftovers: tuple[Leftover, ...]
    #: Files beside a Dockerfile that a step changes (DF212's ``.dockerignore``), by
    #: repository-relative path: written as ``--write`` writes them.
    companions: dict[str, CompanionReport] = dataclasses.field(default_factory=dict)

    @property
    def changed(self) -> list[Target]:
        return [t for t in self.targets if t.final != t.source.text]


def line_counts(before: str, after: str, path: str) -> tuple[int, int]:
    """Lines added and removed, counted by ``unidiff`` from the unified diff."""
    diff = unified_diff(before, after, path)
    if not diff:
        return 0, 0
    patch = PatchSet(diff)
    return sum(f.added for f in patch), sum(f.removed for f in patch)


def change(
    path: str, before: str, after: str, unsafe: tuple[tuple[int, str], ...] = ()
) -> FileChange:
    added, removed = line_counts(before, after, path)
    return FileChange(path, before, after, added, removed, unsafe)


def _run(
    source: SourceFile,
    path: Path,
    text: str,
    rules: Sequence[Rule],
    settings: Settings,
    *,
    apply: bool = True,
) -> FileReport:
    current = dataclasses.replace(source, text=text)
    return process_text(current, str(path), rules, settings, apply=apply, context_dir=path.parent)


def _may_fix(rule: Rule, settings: Settings) -> bool:
    if not rule.kinds or rule.kinds == (Applicability.DISPLAY_ONLY,):
        return False
    return rule.applicability is Applicability.SAFE or settings.unsafe_fixes


def _reason(finding: ReportedFinding, settings: Settings) -> str:
    if finding.note:
        return finding.note
    if finding.applicability is Applicability.UNSAFE and not settings.unsafe_fixes:
        return "the fix may change behaviour: needs `--unsafe-fixes`"
    if finding.applicability in (None, Applicability.DISPLAY_ONLY):
        return "report only: no automatic fix"
    return "left by the fixer"


def _companion_rel(target: Target, companion: CompanionReport) -> str:
    """The companion's repository-relative path (the build context is the Dockerfile's
    folder, as for ``--write``)."""
    inside = Path(companion.target).relative_to(target.path.parent).as_posix()
    return posixpath.normpath(posixpath.join(posixpath.dirname(target.rel), inside))


def _companion_changes(
    target: Target,
    companions: Sequence[CompanionReport],
    planned: dict[str, CompanionReport],
) -> list[FileChange]:
    """Changes for the companions not planned yet.  A second Dockerfile's edit of a file
    already planned is left out: both were computed from the file as it is on disk, so
    the second would undo the first (``--write`` refuses it the same way)."""
    changes = []
    for companion in companions:
        rel = _companion_rel(target, companion)
        if rel in planned:
            continue
        planned[rel] = companion
        changes.append(change(rel, companion.old_text or "", companion.new_text))
    return changes


def make_plan(files: Sequence[tuple[Path, str, Profile]]) -> Plan:
    """The steps for ``files``: ``(path, repository-relative name, profile)``."""
    targets: list[Target] = []
    skipped: list[tuple[str, str]] = []
    one_shot: dict[str, tuple[CompanionReport, ...]] = {}
    for path, rel, profile in files:
        try:
            source = read_source(path)
        except FileProblem as problem:
            skipped.append((rel, problem.message))
            continue
        report = _run(source, path, source.text, profile.rules, profile.settings)
        if report.errors:
            first = report.errors[0]
            where = f"line {first.line}: " if first.line else ""
            skipped.append((rel, where + first.message))
            continue
        final = report.output if report.output is not None else source.text
        targets.append(Target(path, rel, source, profile, final, dict(report.fixed)))
        one_shot[rel] = report.companions

    current = {t.rel: t.source.text for t in targets}
    steps: list[Step] = []
    planned: dict[str, CompanionReport] = {}
    #: ``(Dockerfile, rule code)`` whose companion edit the plan makes.
    done_by_companion: set[tuple[str, str]] = set()
    every = {rule.code: rule for t in targets for rule in t.profile.rules}
    for _, rule in sorted(every.items()):
        changes = []
        for target in targets:
            settings = target.profile.settings
            if rule not in target.profile.rules or not _may_fix(rule, settings):
                continue
            report = _run(target.source, target.path, current[target.rel], (rule,), settings)
            if report.errors:
                continue
            if report.output is not None:
                unsafe = tuple(
                    (f.line, f.fix_reason)
                    for f in report.findings
                    if f.fix_reason and settings.unsafe_fixes  # else not applied
                )
                changes.append(change(target.rel, current[target.rel], report.output, unsafe))
                current[target.rel] = report.output
            companions = _companion_changes(target, report.companions, planned)
            if companions:
                changes += companions
                done_by_companion.add((target.rel, rule.code))
        if changes:
            steps.append(Step(rule, tuple(changes)))
    rest = [change(t.rel, current[t.rel], t.final) for t in targets if current[t.rel] != t.final]
    for target in targets:
        rest += _companion_changes(target, one_shot[target.rel], planned)
    if rest:
        steps.append(Step(None, tuple(rest)))

    leftovers = []
    for target in targets:
        rules, settings = target.profile.rules, target.profile.settings
        report = _run(target.source, target.path, target.final, rules, settings, apply=False)
        for finding in report.findings:
            if (target.rel, finding.code) in done_by_companion:
                continue  # fixed by the companion edit the plan commits
            leftovers.append(Leftover(target.rel, finding, _reason(finding, settings)))
    return Plan(tuple(steps), tuple(targets), tuple(skipped), tuple(leftovers), planned)
