"""Suppression comments: dockfix's own, hadolint's and BuildKit's, read from the tree.

Teams already silence linters in their Dockerfiles; dockfix honours those pragmas so
that adopting it does not mean re-annotating every file, and so that it never "fixes"
what a maintainer deliberately left alone.  Recognised:

* ``# dockfix: ignore[DF201,DF110] reason`` (or ``# dockfix: ignore`` for every rule) in
  the comment block directly above an instruction (no blank line in between);
* ``# dockfix: ignore-file[DF201]`` (or ``# dockfix: ignore-file``) anywhere: the whole file;
* ``# hadolint ignore=DL3008,DL3009`` above an instruction and
  ``# hadolint global ignore=DL3059`` anywhere, through ``HADOLINT_CODES``;
* BuildKit's ``# check=skip=JSONArgsRecommended,FromAsCasing`` (or ``skip=all``) parser
  directive at the top of the file, through ``BUILDKIT_CHECKS``.

Pragmas are attached to instruction *nodes*, not line numbers, because fixes move lines
between the engine's rounds; a finding belongs to the instruction whose line span
contains its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import field

from dockfix import lazy_re
from dockfix.lazy_dataclass import dataclass
from dockfix.rules.base import Finding, Rule, Settings
from dockfix.syntax import Dockerfile
from dockfix.syntax.nodes import BlankLine, Comment, Directive, Instruction, Node

#: hadolint code -> the dockfix rules that report the same practice.  A code that maps
#: to nothing (version pinning, labels, ShellCheck's SCxxxx...) suppresses nothing.
HADOLINT_CODES: dict[str, tuple[str, ...]] = {
    "DL3002": ("DF201",),  # last USER should not be root
    "DL3009": ("DF105",),  # delete the apt-get lists after installing
    "DL3014": ("DF104",),  # apt-get install -y
    "DL3015": ("DF106",),  # apt-get install --no-install-recommends
    "DL3019": ("DF108",),  # apk add --no-cache
    "DL3020": ("DF004",),  # COPY instead of ADD for files and folders
    "DL3025": ("DF204",),  # JSON notation for CMD and ENTRYPOINT
    "DL3032": ("DF109",),  # yum clean all
    "DL3040": ("DF109",),  # dnf clean all
    "DL3042": ("DF110",),  # pip install --no-cache-dir
    "DL3060": ("DF110",),  # yarn cache clean after yarn install
    "DL3059": ("DF102",),  # multiple consecutive RUN instructions
    "DL4000": ("DF003",),  # MAINTAINER is deprecated
}

#: BuildKit build check -> dockfix rules (``# check=skip=...``).  ``all`` means all of
#: BuildKit's checks, so it skips exactly these rules, not every dockfix rule.
BUILDKIT_CHECKS: dict[str, tuple[str, ...]] = {
    "LegacyKeyValueFormat": ("DF001",),
    "FromAsCasing": ("DF002",),
    "MaintainerDeprecated": ("DF003",),
    "JSONArgsRecommended": ("DF204",),
}

_DOCKFIX = lazy_re.compile(
    r"#\s*dockfix\s*:\s*(?P<kind>ignore-file|ignore)(?:\[(?P<codes>[^\]]*)\])?(?=\s|$)",
    re.IGNORECASE,
)
_HADOLINT = lazy_re.compile(
    r"#\s*hadolint\s+(?P<global>global\s+)?ignore\s*=\s*(?P<codes>[A-Za-z]+\d+(?:\s*,\s*[A-Za-z]+\d+)*)",
    re.IGNORECASE,
)
_DIRECTIVE_SHAPE = lazy_re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$")


@dataclass(frozen=True, eq=False)
class Pragma:
    """One suppression comment: where it is, what it names, what that means for us."""

    source: str  # "dockfix", "hadolint" or "buildkit"
    #: The comment node it was read from (identity matters: the engine tracks it).
    node: Node
    line: int
    text: str
    #: The codes as written (``DL3008``, ``DF201``, ``runs-as-root``, ``FromAsCasing``).
    written: tuple[str, ...]
    #: The dockfix rule codes it suppresses; None means every rule.
    codes: frozenset[str] | None
    file_wide: bool
    #: Codes as written that name no dockfix rule (for the unused-suppression rule).
    unknown: tuple[str, ...] = ()

    def covers(self, code: str) -> bool:
        return self.codes is None or code in self.codes


@dataclass
class Suppressions:
    """The pragmas of one tree: file-wide ones and those attached to instructions."""

    file_wide: list[Pragma] = field(default_factory=list)
    #: ``id(instruction)`` -> the pragmas in the comment block directly above it.
    by_instruction: dict[int, list[Pragma]] = field(default_factory=dict)
    #: Instruction pragmas with no instruction below them (followed by a blank line).
    dangling: list[Pragma] = field(default_factory=list)
    #: ``(start_line, end_line, instruction)`` in file order, to place findings.
    spans: list[tuple[int, int, Instruction]] = field(default_factory=list)

    @property
    def all(self) -> list[Pragma]:
        attached = [p for pragmas in self.by_instruction.values() for p in pragmas]
        return sorted([*self.file_wide, *attached, *self.dangling], key=lambda p: p.line)

    def instruction_at(self, line: int) -> Instruction | None:
        for start, end, instruction in self.spans:
            if start <= line <= end:
                return instruction
            if start > line:
                break
        return None

    def matching(self, finding: Finding) -> list[Pragma]:
        """The pragmas that silence ``finding`` (empty: it stands)."""
        found = [p for p in self.file_wide if p.covers(finding.code)]
        owners: list[Node] = []
        owner = self.instruction_at(finding.line)
        if owner is not None:
            owners.append(owner)
        # A fix that rewrites an instruction whose pragma names the rule would undo
        # the maintainer's decision there, wherever the finding itself is reported.
        if finding.fix is not None:
            owners.extend(edit.old for edit in finding.fix.edits if edit.old is not owner)
        for node in owners:
            found.extend(p for p in self.by_instruction.get(id(node), ()) if p.covers(finding.code))
        return found


def _resolve(written: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    from dockfix.rules import lookup

    codes: set[str] = set()
    unknown: list[str] = []
    for item in written:
        rule = lookup(item)
        if rule is None:
            unknown.append(item)
        else:
            codes.add(rule.code)
    return frozenset(codes), tuple(unknown)


def read_pragma(node: Node) -> Pragma | None:
    """The dockfix or hadolint pragma a comment line holds, if any."""
    if not isinstance(node, Comment):
        return None
    text = node.text.strip()
    match = _DOCKFIX.match(text)
    if match:
        file_wide = match.group("kind").lower() == "ignore-file"
        raw = match.group("codes")
        if raw is None:
            return Pragma("dockfix", node, node.line, text, (), None, file_wide)
        written = tuple(part.strip() for part in raw.split(",") if part.strip())
        codes, unknown = _resolve(written)
        return Pragma("dockfix", node, node.line, text, written, codes, file_wide, unknown)
    match = _HADOLINT.match(text)
    if match:
        written = tuple(part.strip().upper() for part in match.group("codes").split(","))
        codes = frozenset(code for item in written for code in HADOLINT_CODES.get(item, ()))
        return Pragma("hadolint", node, node.line, text, written, codes, bool(match["global"]))
    return None


def _buildkit_pragma(node: Node) -> Pragma | None:
    text = node.text.strip() if isinstance(node, Comment | Directive) else ""
    match = _DIRECTIVE_SHAPE.match(text)
    if not match or match.group(1).lower() != "check":
        return None
    written: list[str] = []
    for option in match.group(2).split(";"):
        key, _, value = option.partition("=")
        if key.strip().lower() == "skip":
            written.extend(part.strip() for part in value.split(",") if part.strip())
    by_name = {name.lower(): codes for name, codes in BUILDKIT_CHECKS.items()}
    codes: set[str] = set()
    for name in written:
        if name.lower() == "all":
            codes.update(code for mapped in BUILDKIT_CHECKS.values() for code in mapped)
        codes.update(by_name.get(name.lower(), ()))
    return Pragma("buildkit", node, node.line, text, tuple(written), frozenset(codes), True)


def is_pragma_comment(node: Node) -> bool:
    """A comment whose meaning depends on the instruction below it."""
    pragma = read_pragma(node)
    return pragma is not None and not pragma.file_wide


def collect(document: Dockerfile) -> Suppressions:
    """Every pragma of the tree, attached to the instruction it applies to."""
    result = Suppressions()
    in_header = True  # BuildKit reads parser directives only before anything else
    pending: list[Pragma] = []
    for node in document.nodes:
        if in_header and isinstance(node, Comment | Directive):
            if _DIRECTIVE_SHAPE.match(node.text.strip()):
                pragma = _buildkit_pragma(node)
                if pragma is not None:
                    result.file_wide.append(pragma)
                continue
            in_header = False
        elif in_header:
            in_header = False
        if isinstance(node, Comment):
            pragma = read_pragma(node)
            if pragma is None:
                continue
            if pragma.file_wide:
                result.file_wide.append(pragma)
            else:
                pending.append(pragma)
        elif isinstance(node, BlankLine):
            result.dangling.extend(pending)
            pending = []
        elif isinstance(node, Instruction):
            result.spans.append((node.start_line, node.end_line, node))
            if pending:
                result.by_instruction.setdefault(id(node), []).extend(pending)
                pending = []
    result.dangling.extend(pending)
    return result


@dataclass
class Usage:
    """Which pragmas silenced which rules (for the unused-suppression rule)."""

    used: dict[int, set[str]] = field(default_factory=dict)

    def record(self, pragma: Pragma, code: str) -> None:
        self.used.setdefault(id(pragma), set()).add(code)


def filter_findings(
    findings: Sequence[Finding], suppressions: Suppressions, usage: Usage | None = None
) -> list[Finding]:
    """The findings no pragma silences; ``usage`` records what each pragma silenced."""
    kept = []
    for finding in findings:
        pragmas = suppressions.matching(finding)
        if not pragmas:
            kept.append(finding)
            continue
        if usage is not None:
            for pragma in pragmas:
                usage.record(pragma, finding.code)
    return kept


def unused(
    suppressions: Suppressions, usage: Usage, ran: Iterable[str]
) -> list[tuple[Pragma, str]]:
    """``(pragma, why)`` for each dockfix pragma (or code in it) that silenced nothing.

    Only dockfix's own pragmas are judged: hadolint's and BuildKit's serve those tools.
    A code whose rule did not run is not judged either (it may be used another time).
    """
    ran = set(ran)
    result = []
    for pragma in suppressions.all:
        if pragma.source != "dockfix":
            continue
        used = usage.used.get(id(pragma), set())
        if any(pragma is other for other in suppressions.dangling):
            result.append((pragma, "no instruction directly below it"))
            continue
        if pragma.codes is None:
            if not used:
                result.append((pragma, "suppresses nothing"))
            continue
        for item in pragma.unknown:
            result.append((pragma, f"unknown rule {item!r}"))
        idle = sorted(code for code in pragma.codes if code in ran and code not in used)
        if idle:
            result.append((pragma, f"unused code{'s' if len(idle) > 1 else ''} {', '.join(idle)}"))
    return result


# -- the pragma guard ----------------------------------------------------------------


def _targets(document: Dockerfile) -> list[tuple[Comment, Instruction | None]]:
    """Each pragma comment with the instruction directly below its comment block."""
    result: list[tuple[Comment, Instruction | None]] = []
    pending: list[Comment] = []
    for node in document.nodes:
        if isinstance(node, Comment):
            if is_pragma_comment(node):
                pending.append(node)
            continue
        if pending:  # (most nodes follow no pragma)
            target = node if isinstance(node, Instruction) else None
            result.extend((comment, target) for comment in pending)
            pending = []
    result.extend((comment, None) for comment in pending)
    return result


def moved_pragma(before: Dockerfile, after: Dockerfile) -> str:
    """Why ``after`` moved a pragma away from its instruction, or ``""``.

    ``after`` must be built from ``before`` by node replacement (unchanged nodes are the
    same objects), so identity tells which instruction survived: a pragma must stay
    above the same instruction, or above an instruction the fix made when the fix
    replaced that one.
    """
    old = _targets(before)
    if not any(target is not None for _, target in old):
        return ""
    new = _targets(after)
    before_ids = {id(node) for node in before.nodes}
    after_ids = {id(node) for node in after.nodes}
    by_id = {id(comment): target for comment, target in new}
    unmatched = [(comment, target) for comment, target in new if id(comment) not in before_ids]
    for comment, target in old:
        if target is None:
            continue
        if id(comment) in by_id:
            landed = by_id[id(comment)]
        else:
            same = next((pair for pair in unmatched if pair[0].text == comment.text), None)
            if same is None:
                return f"pragma {comment.text.strip()!r} no longer stands above an instruction"
            unmatched.remove(same)
            landed = same[1]
        if id(target) in after_ids:
            ok = landed is target
        else:
            ok = landed is not None and id(landed) not in before_ids
        if not ok:
            return f"pragma {comment.text.strip()!r} moved away from its instruction"
    return ""


# -- what the engine calls -----------------------------------------------------------


def suppress(
    findings: Sequence[Finding],
    document: Dockerfile,
    rules: Sequence[Rule],
    settings: Settings,
    *,
    first_round: bool,
) -> list[Finding]:
    """The findings of one round that no pragma of ``document`` silences.

    On the first round (the input as the user wrote it) the unused-suppression rule's
    findings are added when it was selected.
    """
    if settings.ignore_noqa:
        return list(findings)
    suppressions = collect(document)
    if (
        not suppressions.file_wide
        and not suppressions.by_instruction
        and not (first_round and suppressions.dangling)
    ):
        return list(findings)
    usage = Usage()
    kept = filter_findings(findings, suppressions, usage)
    from dockfix.rules import unused_suppression

    selected = {rule.code for rule in rules}
    if first_round and unused_suppression.CODE in selected:
        rule = unused_suppression.RULE
        extra = [
            rule.finding(f"unused suppression ({why}): {pragma.text}", pragma.node)
            for pragma, why in unused(suppressions, usage, selected)
        ]
        kept.extend(filter_findings(extra, suppressions))
        kept.sort(key=lambda f: (f.line, f.column, f.code))
    return kept
