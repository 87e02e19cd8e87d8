"""Runs rules, applies their fixes to a fixed point, and proves each rewrite harmless.

Modelled on ruff's fix loop: every round runs all rules on the current tree, applies
the fixes that may be applied and do not touch the same node as an earlier fix of the
round, and repeats until nothing changes (at most ``MAX_ROUNDS``).  Each applied fix
is verified on the printed text: the result must parse, every instruction must read
the way the rule built it, and no comment line may disappear.  A fix that fails is
dropped and reported as an internal error; a file that does not converge is left as
it was.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dockfix.model import BuildContext
from dockfix.rules.base import Applicability, Finding, Fix, Rule, RuleContext, Settings
from dockfix.suppressions import moved_pragma, suppress
from dockfix.syntax import Dockerfile, ParseError, parse
from dockfix.syntax.nodes import Comment, Directive, Instruction, Node

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
    problems: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return self.output != self.original


def comment_lines(document: Dockerfile) -> Counter[str]:
    """Every comment line of the file, stripped, counted (a multiset)."""
    found: Counter[str] = Counter()
    for node in document.nodes:
        if isinstance(node, Comment | Directive):
            found[node.text.strip()] += 1
        elif isinstance(node, Instruction):
            found.update(line.strip() for line in node.comments)
    return found


def _reading_key(instruction: Instruction) -> tuple[object, ...]:
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


def apply_fix(document: Dockerfile, fix: Fix) -> Dockerfile:
    """The tree with the fix's node replacements made."""
    replacements = {id(edit.old): edit.new for edit in fix.edits}
    nodes: list[Node] = []
    for node in document.nodes:
        nodes.extend(replacements.get(id(node), (node,)))
    return Dockerfile(document.bom, tuple(nodes))


def verify(before: Dockerfile, after: Dockerfile) -> tuple[Dockerfile | None, str]:
    """Re-parse ``after``'s text; return the fresh tree, or None and why it is wrong."""
    text = after.to_string()
    try:
        reparsed = parse(text)
    except ParseError as error:
        return None, f"result does not parse: {error}"
    if reparsed.to_string() != text:  # pragma: no cover - the parser is lossless
        return None, "result does not round-trip"
    intended = [_reading_key(i) for i in after.instructions]
    actual = [_reading_key(i) for i in reparsed.instructions]
    if intended != actual:
        return None, "result reads differently from what the rule built"
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


def _select(findings: Sequence[Finding], settings: Settings) -> list[tuple[Finding, Fix]]:
    """The fixes to apply this round: applicable, and not touching the same nodes."""
    touched: set[int] = set()
    selected = []
    for finding in findings:
        fix = finding.fix
        if fix is None or not _may_apply(fix, settings):
            continue
        if fix.touched() & touched:
            continue  # overlaps an earlier fix of this round; the next round retries
        touched |= fix.touched()
        selected.append((finding, fix))
    return selected


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
    problems: list[str] = []
    current = document
    build_context = BuildContext(context_dir)
    for round_number in range(MAX_ROUNDS + 1):
        context = RuleContext(current, path, context_dir, settings, build_context)
        findings = run_rules(rules, context)
        # Suppressed findings are neither reported nor fixed (pragmas read afresh each round).
        findings = suppress(findings, current, rules, settings, first_round=round_number == 0)
        if round_number == 0:
            reported = tuple(findings)
        if not apply:
            break
        selected = _select(findings, settings)
        if not selected:
            break
        # Fast path: all of the round's fixes at once, verified with one re-parse.
        candidate = current
        for _, fix in selected:
            candidate = apply_fix(candidate, fix)
        verified, _why = verify(current, candidate)
        if verified is None:
            # Find the culprit: apply one by one, keeping the ones that verify.
            # ``working`` keeps the node identities of ``current`` (only replaced nodes
            # are new), so every fix of the round still finds the nodes it refers to.
            working, verified = current, current
            accepted = []
            for finding, fix in selected:
                attempt = apply_fix(working, fix)
                checked, why = verify(current, attempt)
                if checked is None:
                    problems.append(
                        f"{finding.line}:{finding.column}: internal error: {finding.code} "
                        f"fix dropped: {why}"
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
        problems.append(f"fixes did not converge after {MAX_ROUNDS} rounds; file left as it was")
        return FixResult(original, original, reported, Counter(), tuple(problems))
    return FixResult(original, current.to_string(), reported, fixed, tuple(problems))
