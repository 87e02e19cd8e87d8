"""Runs rules, applies their fixes to a fixed point, and proves each rewrite harmless.

Modelled on ruff's fix loop: every round runs the rules on the current tree, applies
the fixes that may be applied and do not touch the same node as an earlier fix of the
round, and repeats until nothing changes (at most ``MAX_ROUNDS``).  The first round runs
every rule (its findings are the ones reported); later rounds only the rules whose fixes
may apply (``can_apply``); no round runs a rule on a file without the instructions it
reports on (``Rule.keywords``).  Each applied fix is applied only through the
document's insertion guards (no line above a parser directive, none after a dangling
continuation) and verified on the printed text: the result must parse, every
instruction must read the way the rule built it, every parser directive must still be
one, and no comment line may disappear (only the edited lines are re-read, where that
provably gives the whole-file parse: ``verify_changed``).  A fix that fails is dropped
and reported as an internal error; a file that does not converge is left as it was.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from dockfix.edits import Applicability, CompanionEdit, Fix
from dockfix.lazy_dataclass import dataclass
from dockfix.model import BuildContext
from dockfix.model.runs import carry_run_shell, run_comments
from dockfix.problems import Problem
from dockfix.rules.base import Finding, Rule, RuleContext, Settings
from dockfix.suppressions import moved_pragma, suppress
from dockfix.syntax import Dockerfile, ParseError, parse
from dockfix.syntax.document import (
    directive_block_size,
    ends_in_continuation,
    layout_problem,
    parse_fragment,
)
from dockfix.syntax.nodes import BlankLine, Comment, Directive, Heredoc, Instruction, Node, Piece

MAX_ROUNDS = 10


@dataclass(frozen=True)
class FixResult:
    """What the engine did to one file."""

    original: str
    output: str
    #: Findings on the input, as reported to the user.
    findings: tuple[Finding, ...]
    #: Number of fixes applied, by rule code, over all rounds.
    fixed: Counter[str]
    #: Internal errors: dropped fixes, non-convergence.  The output is then trusted
    #: only as far as the fixes that passed verification.
    problems: tuple[Problem, ...]
    #: Edits of other files of the build context (``Fix.companion``) the run applies.
    companions: tuple[CompanionEdit, ...] = ()

    @property
    def changed(self) -> bool:
        return self.output != self.original


def comment_lines(document: Dockerfile) -> Counter[str]:
    """Every comment line of the file, and every ``#`` comment in a RUN's shell
    (``shell.comments``), stripped, counted (a multiset)."""
    return _comment_lines_of(document.nodes)


def _comment_lines_of(nodes: Sequence[Node]) -> Counter[str]:
    found: Counter[str] = Counter()
    for node in nodes:
        if isinstance(node, Comment | Directive):
            found[node.text.strip()] += 1
        elif isinstance(node, Instruction):
            if node.comments:  # (few instructions have any)
                found.update(line.strip() for line in node.comments)
            found.update(f"{comment} (in a RUN)" for comment in run_comments(node))
    return found


def reading_key(instruction: Instruction) -> tuple[object, ...]:
    reading = instruction.reading
    return (
        reading.cmd.upper(),
        reading.sub_cmd,
        reading.json,
        reading.flags,
        reading.inner_flags,
        reading.value,
        tuple((h.name, h.content) for h in instruction.heredocs),
    )


class EditRefused(ValueError):
    """A fix's edits would break what the insertion guards keep (see ``apply_fix``)."""


def apply_fix(document: Dockerfile, fix: Fix) -> Dockerfile:
    """The tree with the fix's node replacements made.

    Raises ``EditRefused`` for edits that put a line above a parser directive (it would
    become a comment) or after a dangling line (it would join it): the same guards as
    ``Dockerfile.insertion_index``, so a rule's raw ``Edit`` cannot get round them.
    """
    return apply_fixes(document, (fix,))


def apply_fixes(document: Dockerfile, fixes: Sequence[Fix]) -> Dockerfile:
    """``apply_fix`` of several fixes that touch no node in common, in one pass.

    Why: one pass per fix made a round cost (fixes x nodes): a file of 20,000 ``ENV``
    lines with a fix each took minutes and gigabytes.  The edits all name nodes of
    ``document`` and no two the same node (``_select`` keeps the touched sets apart;
    a repeat raises ``EditRefused``, and the round then applies its fixes one by one),
    so one pass makes the tree the fixes make one after another, and the guards are
    checked on it once.
    """
    replacements: dict[int, tuple[Node, ...]] = {}
    for fix in fixes:
        for edit in fix.edits:
            if id(edit.old) in replacements:
                raise EditRefused("two edits of one node")
            replacements[id(edit.old)] = edit.new
    nodes: list[Node] = []
    for node in document.nodes:
        nodes.extend(replacements.get(id(node), (node,)))
    why = layout_problem(document.nodes, nodes)
    if why:
        raise EditRefused(why)
    return Dockerfile(document.bom, tuple(nodes))


def directive_block(document: Dockerfile) -> set[tuple[str, str]]:
    """The parser directives BuildKit reads: ``(name, value)`` of the leading block."""
    return {
        (node.name, node.value)
        for node in document.nodes[: directive_block_size(document.nodes)]
        if isinstance(node, Directive)
    }


def verify(before: Dockerfile, after: Dockerfile) -> tuple[Dockerfile | None, str]:
    """Re-parse ``after``'s text; return the fresh tree, or None and why it is wrong.

    Where it is provably the same (``verify_changed``), only the changed lines are
    re-read; anything else, and every failure, takes the whole-file path below.
    """
    try:
        verified = verify_changed(before, after)
    except Exception:  # e.g. ParseError: the whole-file path says why, in its words
        verified = None
    if verified is not None:
        return verified, ""
    return verify_whole(before, after)


Region = tuple[int, int, int, int]


def changed_regions(before: Dockerfile, after: Dockerfile) -> list[Region]:
    """``(old_start, old_end, new_start, new_end)`` of each run of edited nodes:
    ``before.nodes[old_start:old_end]`` became ``after.nodes[new_start:new_end]``; the
    nodes between runs are the same objects in both trees, in the same order."""
    old, new = before.nodes, after.nodes
    position = {id(node): index for index, node in enumerate(old)}
    regions: list[Region] = []
    i = j = 0
    while i < len(old) or j < len(new):
        if i < len(old) and j < len(new) and new[j] is old[i]:
            i, j = i + 1, j + 1
            continue
        old_start, new_start = i, j
        # The run ends at the next node of ``before`` still in order (moved nodes and
        # copies are re-read with the run).
        while j < len(new) and position.get(id(new[j]), -1) < i:
            j += 1
        i = position[id(new[j])] if j < len(new) else len(old)
        regions.append((old_start, i, new_start, j))
    return regions


def verify_changed(before: Dockerfile, after: Dockerfile) -> Dockerfile | None:
    """``verify`` that re-parses only the edited nodes, or None to take the whole-file path.

    The lexer reads lines in order, and its state at the start of a line is only the
    escape character and whether the parser-directive block is over; an instruction
    ends at the first line without a continuation (comment and blank lines after a
    continuation belong to it) and a heredoc at its terminator.  Every position in a
    node is a line number and a column within that line.  So when

    * each run of edited nodes starts after a non-directive node that ends with a line
      end and no continuation (it ends there whatever follows), or at the top of the
      file and then reaches down to an instruction and past the directive block,
    * each run parses on its own (after a copy of the escape directive and a blank line
      that ends the directive block, or from the top) back to its exact text, with a
      last node that ends the same way when something follows it,

    the whole-file parse gives the unchanged nodes, in the same lexer state, only as
    many lines further down as the runs above them added, and each run's nodes, moved
    to its lines: node for node what this returns (``_shifted``;
    ``tests/test_engine_speedups.py`` checks it against the whole-file parse on every
    fixture).  The checks of ``verify_whole`` then only need the runs: the rest reads
    the same by construction.
    """
    old, new = before.nodes, after.nodes
    if before.bom != after.bom:
        return None
    regions = changed_regions(before, after)
    if not regions:
        return None
    block = directive_block_size(old)
    if regions[0][0] <= block:
        # The edits reach the directive block: re-read from the top of the file, down to
        # an instruction (so that the block ends inside the run), and no further than
        # the first node after the block (a directive below would become a comment).
        _, old_end, _, new_end = regions.pop(0)
        while new_end < len(new) and not any(isinstance(n, Instruction) for n in new[:new_end]):
            if regions and regions[0][2] == new_end:
                _, old_end, _, new_end = regions.pop(0)
            else:
                old_end, new_end = old_end + 1, new_end + 1
        if old_end < block:
            return None
        regions.insert(0, (0, old_end, 0, new_end))
    escape = before.escape
    escape_line = "" if escape == "\\" else f"# escape={escape}\n"
    out: list[Node] = []
    old_comments: Counter[str] = Counter()
    new_comments: Counter[str] = Counter()
    moved = 0  # lines the runs so far added
    cursor = 0
    for old_start, old_end, new_start, new_end in regions:
        kept = new[cursor:new_start]
        shifted = _shifted(kept, moved) if moved else kept
        if shifted is None:  # pragma: no cover - node classes this code does not know
            return None
        out.extend(shifted)
        text = "".join(node.to_string() for node in new[new_start:new_end])
        old_text = "".join(node.to_string() for node in old[old_start:old_end])
        if new_start > 0 and _dangles(new[new_start - 1]):
            return None
        nodes: Sequence[Node] = ()
        if new_start == 0:
            fragment = parse_fragment(after.bom + text)
            if fragment.bom != after.bom or fragment.escape != escape:
                return None
            nodes = fragment.nodes
        elif text:
            if old_start < len(old):
                first_line = old[old_start].line + moved
            else:
                first_line = old[-1].line + old[-1].to_string().count("\n") + moved
            nodes = _read_run(text, escape_line, first_line)
        if "".join(node.to_string() for node in nodes) != text:
            return None  # pragma: no cover - the parser is lossless
        if nodes and new_end < len(new) and _dangles(nodes[-1]):
            return None
        intended = [reading_key(n) for n in new[new_start:new_end] if isinstance(n, Instruction)]
        actual = [reading_key(n) for n in nodes if isinstance(n, Instruction)]
        if intended != actual:
            return None
        old_comments += _comment_lines_of(old[old_start:old_end])
        new_comments += _comment_lines_of(nodes)
        out.extend(nodes)
        moved += text.count("\n") - old_text.count("\n")
        cursor = new_end
    kept = new[cursor:]
    shifted = _shifted(kept, moved) if moved else kept
    if shifted is None:  # pragma: no cover - node classes this code does not know
        return None
    out.extend(shifted)
    reparsed = Dockerfile(after.bom, tuple(out))
    if directive_block(before) - directive_block(reparsed):
        return None
    if old_comments - new_comments:
        return None
    if moved_pragma(before, after):
        return None
    return reparsed


def _read_run(text: str, escape_line: str, first_line: int) -> tuple[Node, ...]:
    """The nodes the whole-file parse gives ``text`` (a run of edited nodes below the
    directive block, after a node that ends its line) when it starts at ``first_line``.

    The lexer reads the run's first line with the directive block over, so the run is
    parsed after ``escape_line`` (the file's escape directive, or nothing) and a blank
    line that ends the block.  Without that blank line the text is what a rule's
    ``Dockerfile.parse_instructions`` parsed, whose parse is remembered: it reads the
    same when its first line is not taken for a directive either (no directive among
    its nodes, no BOM, no error), since the lexer's state after that line is then the
    same (the escape character, the block over) and every position is a line and a
    column within it.  Otherwise the blank line is put in.
    """
    head = escape_line.count("\n")
    try:
        fragment = parse_fragment(escape_line + text)
    except ParseError:
        fragment = None
    if fragment is not None and not fragment.bom:
        read = fragment.nodes[head:]
        if not any(isinstance(node, Directive) for node in read):
            return _shifted(read, first_line - 1 - head) or ()
    fragment = parse_fragment(escape_line + "\n" + text)
    return _shifted(fragment.nodes[head + 1 :], first_line - 2 - head) or ()


#: The fields of each node class, as ``_shifted`` copies them (checked before use).
_NODE_FIELDS: dict[type, tuple[str, ...]] = {
    Piece: ("kind", "text", "line", "column"),
    Heredoc: ("name", "lines", "terminator", "eol", "line"),
    Instruction: ("pieces", "heredocs", "reading", "logical", "start_line", "end_line", "segments"),
    Comment: ("text", "eol", "line", "column"),
    BlankLine: ("text", "eol", "line", "column"),
    Directive: ("text", "eol", "line", "column"),
}


#: Values cached on an instruction that depend on its text, reading and the kinds of its
#: pieces but not on a line number (``Instruction.text``, ``.cmd``, ``.comments``,
#: ``model.mounts_of``; the continuation indents of ``Dockerfile.style``, the ``&&``
#: layout of ``rules._hygiene`` and DF007's empty continuation lines, each kept as
#: ``(escape, value)`` or as an offset from the instruction's first line):
#: ``_shifted`` hands them to the moved copy, which would compute the same
#: (``tests/test_round_caches.py`` checks it on every fixture's rounds).
LINE_FREE_CACHES = (
    "text",
    "cmd",
    "comments",
    "_mounts",
    "_continuation_indents",
    "_and_breaks",
    "_empty_continuation",
)


@functools.cache
def _fields_known() -> bool:
    return all(
        tuple(field.name for field in dataclasses.fields(cls)) == names
        for cls, names in _NODE_FIELDS.items()
    )


def _shifted(nodes: Sequence[Node], lines: int) -> tuple[Node, ...] | None:
    """``nodes`` as the parser reads them ``lines`` lines further down, or None.

    Every position in a node is a line number and a column within that line (offsets
    inside an instruction are relative to its start), so text that the lexer reads in
    the same state, only lower in the file, gives the same nodes with each line number
    moved.  None when a node class has fields this copy does not know about.
    """
    if not _fields_known():  # pragma: no cover - a node class changed: re-read instead
        return None
    out: list[Node] = []
    for node in nodes:
        # The constructors, not ``dataclasses.replace`` (which reads the fields each call).
        if type(node) is Instruction:
            moved = Instruction(
                tuple(
                    Piece(piece.kind, piece.text, piece.line + lines, piece.column)
                    for piece in node.pieces
                ),
                tuple(
                    Heredoc(h.name, h.lines, h.terminator, h.eol, h.line + lines)
                    for h in node.heredocs
                ),
                node.reading,
                node.logical,
                node.start_line + lines,
                node.end_line + lines,
                node.segments,
            )
            _carry_caches(node, moved)
            out.append(moved)
        elif type(node) is Comment:
            out.append(Comment(node.text, node.eol, node.line + lines, node.column))
        elif type(node) is BlankLine:
            out.append(BlankLine(node.text, node.eol, node.line + lines, node.column))
        elif type(node) is Directive:
            out.append(Directive(node.text, node.eol, node.line + lines, node.column))
        else:  # pragma: no cover - every node class is above
            return None
    return tuple(out)


def _carry_caches(old: Instruction, new: Instruction) -> None:
    """Give ``new`` (``old`` moved by ``_shifted``) what ``old`` computed that does not
    depend on lines: rules read these every round, and about half of the instructions a
    later round sees are such copies (those below an edit that added or removed lines)."""
    cache = old.__dict__
    if not cache:
        return
    into = new.__dict__
    for key in LINE_FREE_CACHES:
        if key in cache:
            into[key] = cache[key]
    carry_run_shell(old, new)


def _dangles(node: Node) -> bool:
    """Whether a line put right after ``node`` would join it (no line end, or a
    continuation at its end)."""
    if not node.to_string().endswith("\n"):
        return True
    return isinstance(node, Instruction) and ends_in_continuation(node)


def verify_whole(before: Dockerfile, after: Dockerfile) -> tuple[Dockerfile | None, str]:
    """``verify`` by re-parsing the whole of ``after``'s text."""
    text = after.to_string()
    try:
        reparsed = parse(text)
    except ParseError as error:
        return None, f"result does not parse: {error}"
    if reparsed.to_string() != text:  # pragma: no cover - the parser is lossless
        return None, "result does not round-trip"
    intended = [reading_key(i) for i in after.instructions]
    actual = [reading_key(i) for i in reparsed.instructions]
    if intended != actual:
        return None, "result reads differently from what the rule built"
    demoted = directive_block(before) - directive_block(reparsed)
    if demoted:
        name, value = sorted(demoted)[0]
        return None, f"result turns the parser directive `# {name}={value}` into a comment"
    lost = comment_lines(before) - comment_lines(reparsed)
    if lost:
        return None, f"result loses comment lines: {sorted(lost)[:3]}"
    moved = moved_pragma(before, after)  # hadolint would then report what it silenced
    if moved:
        return None, f"result breaks a suppression: {moved}"
    return reparsed, ""


def _may_apply(fix: Fix | None, settings: Settings) -> bool:
    if fix is None or fix.applicability is Applicability.DISPLAY_ONLY:
        return False
    return fix.applicability is Applicability.SAFE or settings.unsafe_fixes


def can_apply(rule: Rule, settings: Settings) -> bool:
    """Whether some fix of ``rule`` may be applied under ``settings`` (its declared kinds).

    A rule that cannot need not run after the first round: from then on findings matter
    only for the fixes they select (``_select`` ignores every other finding), and the
    reported findings are the first round's.
    """
    return any(
        kind is Applicability.SAFE or (kind is Applicability.UNSAFE and settings.unsafe_fixes)
        for kind in rule.kinds
    )


def _selectable(fix: Fix | None, settings: Settings) -> bool:
    return fix is not None and bool(fix.edits) and _may_apply(fix, settings)


def _fixable(findings: Sequence[Finding], settings: Settings) -> list[Finding]:
    """The findings ``_select`` may take, in order: all that matters after the first round.

    Filtering before ``suppress`` selects the same fixes, since after the first round
    suppression only drops findings one by one (by the finding and the pragmas); and a
    round left with none reads no pragmas (most later rounds confirm the fixed point).
    """
    return [finding for finding in findings if _selectable(finding.fix, settings)]


def _select(findings: Sequence[Finding], settings: Settings) -> list[tuple[Finding, Fix]]:
    """The fixes to apply this round: applicable, and not touching the same nodes."""
    touched: set[int] = set()
    selected = []
    for finding in findings:
        fix = finding.fix
        if fix is None or not _selectable(fix, settings):
            continue
        if fix.touched() & touched:
            continue  # overlaps an earlier fix of this round; the next round retries
        touched |= fix.touched()
        selected.append((finding, fix))
    return selected


def _apply_all(current: Dockerfile, selected: Sequence[tuple[Finding, Fix]]) -> Dockerfile | None:
    """The round's fixes all at once, verified with one re-parse (None: find the culprit)."""
    try:
        candidate = apply_fixes(current, [fix for _, fix in selected])
    except EditRefused:
        return None
    verified, _why = verify(current, candidate)
    return verified


def run_rules(rules: Sequence[Rule], context: RuleContext) -> list[Finding]:
    findings: list[Finding] = []
    for rule in rules:
        found = rule.run(context)
        if rule.preconditions:
            found = [enforce_preconditions(rule, finding, context) for finding in found]
        findings.extend(found)
    findings.sort(key=lambda f: (f.line, f.column, f.code))
    return findings


def _fix_sites(finding: Finding, fix: Fix, context: RuleContext) -> list[tuple[object, object]]:
    """(stage facts, instruction) pairs a fix edits, plus the finding's own instruction."""
    model = context.model
    sites: list[tuple[object, object]] = []
    at = model.instruction_at_line(finding.line)
    if at is not None:
        sites.append((model.stage_of(at), at))
    for edit in fix.edits:
        if isinstance(edit.old, Instruction):
            sites.append((model.stage_of(edit.old), edit.old))
    return sites


def enforce_preconditions(rule: Rule, finding: Finding, context: RuleContext) -> Finding:
    """The finding with its fix withdrawn (or made unsafe) where the rule's declared
    preconditions fail (or cannot be decided) on a stage the fix edits."""
    from dockfix.model.preconditions import evaluate

    fix = finding.fix
    if fix is None:
        return finding
    failed: list[str] = []
    unknown: list[str] = []
    for stage, instruction in _fix_sites(finding, fix, context):
        for precondition in rule.preconditions:
            verdict = evaluate(
                precondition,
                context.model,
                stage,  # type: ignore[arg-type]
                instruction,  # type: ignore[arg-type]
                may_add_syntax=context.settings.syntax_directive,
            )
            if verdict.holds is False and verdict.reason not in failed:
                failed.append(verdict.reason)
            elif verdict.holds is None and verdict.reason not in unknown:
                unknown.append(verdict.reason)
    if failed:
        note = "; ".join(failed)
        return dataclasses.replace(
            finding, fix=None, note=f"{finding.note}; {note}" if finding.note else note
        )
    # A reason the rule already gives (about the same stage) is not repeated.
    unknown = [reason for reason in unknown if reason not in fix.reason]
    if unknown:
        reason = "; ".join(unknown)
        reason = f"{fix.reason}; {reason}" if fix.reason else reason
        applicability = (
            Applicability.UNSAFE if fix.applicability is Applicability.SAFE else fix.applicability
        )
        return dataclasses.replace(
            finding, fix=dataclasses.replace(fix, applicability=applicability, reason=reason)
        )
    return finding


def fix_document(
    document: Dockerfile,
    rules: Sequence[Rule],
    settings: Settings,
    *,
    path: Path | None = None,
    context_dir: Path | None = None,
    apply: bool = True,
) -> FixResult:
    """Lint ``document`` and, when ``apply``, fix it to a fixed point."""
    original = document.to_string()
    reported: tuple[Finding, ...] = ()
    fixed: Counter[str] = Counter()
    problems: list[Problem] = []
    current = document
    build_context = BuildContext(context_dir)
    # After the first round only fixes matter: rules whose fixes may not apply sit out.
    fixing_rules = [rule for rule in rules if can_apply(rule, settings)]
    for round_number in range(MAX_ROUNDS + 1):
        context = RuleContext(current, path, context_dir, settings, build_context)
        present = {instruction.cmd for instruction in current.instructions}
        candidates = rules if round_number == 0 else fixing_rules
        findings = run_rules([rule for rule in candidates if rule.may_report(present)], context)
        if round_number > 0:
            findings = _fixable(findings, settings)
        # Suppressed findings are neither reported nor fixed (pragmas read afresh each round).
        if findings or round_number == 0:
            findings = suppress(findings, current, rules, settings, first_round=round_number == 0)
        if round_number == 0:
            reported = tuple(findings)
        if not apply:
            break
        selected = _select(findings, settings)
        if not selected:
            break
        # Fast path: all of the round's fixes at once, verified with one re-parse.
        verified = _apply_all(current, selected)
        if verified is None:
            # Find the culprit: apply one by one, keeping the ones that verify.
            # ``working`` keeps the node identities of ``current`` (only replaced nodes
            # are new), so every fix of the round still finds the nodes it refers to.
            working, verified = current, current
            accepted = []
            for finding, fix in selected:
                try:
                    attempt = apply_fix(working, fix)
                except EditRefused as refused:
                    checked, why = None, str(refused)
                else:
                    checked, why = verify(current, attempt)
                if checked is None:
                    problems.append(
                        Problem(
                            finding.line,
                            finding.column,
                            f"internal error: {finding.code} fix dropped: {why}",
                        )
                    )
                    continue
                working, verified = attempt, checked
                accepted.append((finding, fix))
            selected = accepted
        for finding, _ in selected:
            fixed[finding.code] += 1
        progressed = bool(selected)
        current = verified
        if not progressed:
            break
    else:
        problems.append(
            Problem(1, 1, f"fixes did not converge after {MAX_ROUNDS} rounds; file left as it was")
        )
        return FixResult(original, original, reported, Counter(), tuple(problems))
    companions = _companions(reported, settings, fixed) if apply else ()
    return FixResult(original, current.to_string(), reported, fixed, tuple(problems), companions)


def _companions(
    findings: Sequence[Finding], settings: Settings, fixed: Counter[str]
) -> tuple[CompanionEdit, ...]:
    """The first round's applicable edits of other files (one per file), counted as fixes."""
    found: dict[str, CompanionEdit] = {}
    for finding in findings:
        fix = finding.fix
        if fix is None or fix.companion is None or not _may_apply(fix, settings):
            continue
        if fix.companion.path not in found:
            found[fix.companion.path] = fix.companion
            fixed[finding.code] += 1
    return tuple(found.values())
