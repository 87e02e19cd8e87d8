"""The words of a ``dockfix pr``: commit messages, the PR title and its markdown body.

Written for the maintainer who has to decide whether to merge without asking anyone
(Renovate's standard): per rule what changed and why, where, and how big; what was
not fixed and why; which files were left alone; what building both versions showed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from dockfix import __version__
from dockfix.lazy_dataclass import dataclass
from dockfix.pr.plan import FileChange, Plan, Step
from dockfix.rules.base import Applicability, Rule

COMMIT_TYPE = "fix(dockerfile)"

REMAINING_WHY = (
    "Applying the rules one at a time ended differently from applying them together on "
    "these files: one rule's fix enabled, changed or blocked another's. This commit makes "
    "each of them exactly what `dockfix --write` produces, so the branch ends where a "
    "one-shot run would."
)


@dataclass(frozen=True)
class VerifyOutcome:
    """``dockfix verify`` on one changed file: its verdict and details, or why not run."""

    path: str
    verdict: str
    detail: str = ""
    size_before: float | None = None
    size_after: float | None = None


def section(explanation: str, heading: str) -> str:
    """One section of a rule docstring (``Why is this bad?``...), as one markdown paragraph."""
    lines = explanation.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        return ""
    body = []
    for line in lines[start + 1 :]:
        if line and not line.startswith(" "):
            break
        body.append(line.strip())
    text = " ".join(" ".join(body).split())
    return re.sub(r"``(.+?)``", r"`\1`", text)


def _files(changes: Sequence[FileChange]) -> str:
    return "".join(f"- {c.path} (+{c.added} -{c.removed})\n" for c in changes)


def step_title(step: Step) -> str:
    if step.rule is None:
        return f"{COMMIT_TYPE}: remaining dockfix fixes"
    return f"{COMMIT_TYPE}: {step.rule.code} {step.rule.name}"


def commit_message(step: Step) -> str:
    """A conventional-commit message naming the rule and the files."""
    if step.rule is None:
        why = REMAINING_WHY
    else:
        why = f"{step.rule.summary}."
        reason = section(step.rule.explanation, "Why is this bad?")
        if reason:
            why += "\n\n" + _wrap(reason)
    message = f"{step_title(step)}\n\n{why}\n\nFiles:\n{_files(step.changes)}"
    risks = _risks(step)
    if risks:  # the history keeps what an unsafe fix may change, beside the change
        message += "\n\nMay change:\n" + "\n".join(
            _wrap(f"- {path}:{line}: {text}", width=70).replace("\n", "\n  ")
            for path, line, text in risks
        )
    return message


def _risks(step: Step) -> list[tuple[str, int, str]]:
    """``(path, line, what may change)`` of each unsafe fix the step applied."""
    return [(c.path, line, text) for c in step.changes for line, text in c.unsafe]


def _wrap(text: str, width: int = 72) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return "\n".join(lines)


def title(plan: Plan) -> str:
    codes = [step.rule.code for step in plan.steps if step.rule is not None]
    shown = ", ".join(codes[:3]) + (f" +{len(codes) - 3} more" if len(codes) > 3 else "")
    files = len(plan.changed) + len(plan.companions)
    return f"{COMMIT_TYPE}: dockfix fixes ({shown}) in {files} file{'s' if files != 1 else ''}"


def _md(text: str) -> str:
    """Plain text made safe inside a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _safety(rule: Rule) -> str:
    if rule.applicability is Applicability.SAFE:
        return "safe fix: keeps the build's and the container's behaviour"
    return "unsafe fix (applied because of `--unsafe-fixes`): may change behaviour, review it"


def _step_section(step: Step) -> list[str]:
    out = []
    if step.rule is None:
        out += ["## Remaining fixes", "", REMAINING_WHY, ""]
    else:
        rule = step.rule
        out += [f"## {rule.code} {rule.name}", "", f"**What:** {rule.summary}.", ""]
        why = section(rule.explanation, "Why is this bad?")
        if why:
            out += [f"**Why:** {why}", ""]
        out += [f"**Safety:** {_safety(rule)}. Details: `dockfix --explain {rule.code}`.", ""]
    out += ["| file | added | removed |", "|---|---:|---:|"]
    out += [f"| `{_md(c.path)}` | {c.added} | {c.removed} |" for c in step.changes]
    out.append("")
    risks = _risks(step)
    if risks:
        out += ["**What may change** (the unsafe fixes' own words):", ""]
        out += [f"- `{_md(path)}:{line}`: {_md(why)}" for path, line, why in risks]
        out.append("")
    return out


def _not_fixed(plan: Plan) -> list[str]:
    if not plan.leftovers:
        return []
    groups: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for left in plan.leftovers:
        key = (left.finding.code, left.finding.name)
        groups[key][left.reason].append(f"`{_md(left.path)}:{left.finding.line}`")
    out = ["## Not fixed", "", "Findings still there after this PR, grouped by reason.", ""]
    for (code, name), reasons in sorted(groups.items()):
        count = sum(len(places) for places in reasons.values())
        out.append(f"- **{code} {name}** ({count})")
        for reason, places in sorted(reasons.items(), key=lambda item: -len(item[1])):
            shown = ", ".join(places[:8]) + (
                f" and {len(places) - 8} more" if len(places) > 8 else ""
            )
            out.append(f"  - {_md(reason)}: {shown}")
    return [*out, ""]


def _verification(outcomes: Sequence[VerifyOutcome] | None, note: str) -> list[str]:
    if outcomes is None and not note:
        return []
    out = ["## Verification (`dockfix verify`)", ""]
    if note:
        out += [note, ""]
    if outcomes:
        out += ["| file | verdict | size before | size after | notes |", "|---|---|---:|---:|---|"]
        for o in outcomes:
            before = f"{o.size_before:.1f} MB" if o.size_before is not None else ""
            after = f"{o.size_after:.1f} MB" if o.size_after is not None else ""
            out.append(f"| `{_md(o.path)}` | {o.verdict} | {before} | {after} | {_md(o.detail)} |")
        out.append("")
    return out


def body(
    plan: Plan,
    *,
    unsafe_fixes: bool = False,
    verify: Sequence[VerifyOutcome] | None = None,
    verify_note: str = "",
) -> str:
    """The pull request's markdown description."""
    mode = "safe and unsafe fixes" if unsafe_fixes else "safe fixes only"
    files = len(plan.changed)
    out = [
        f"This pull request was made by `dockfix pr` (dockfix {__version__}, {mode}): "
        f"{len(plan.steps)} commit{'s' if len(plan.steps) != 1 else ''} over {files} "
        f"Dockerfile{'s' if files != 1 else ''}, one commit per rule so that each can be "
        "reviewed or reverted on its own. The final tree equals a one-shot "
        "`dockfix --write` of the same files; every rewrite was re-parsed and checked to "
        "read exactly as intended, and no comment line was lost.",
        "",
        "| commit | files | added | removed |",
        "|---|---:|---:|---:|",
    ]
    for step in plan.steps:
        added = sum(c.added for c in step.changes)
        removed = sum(c.removed for c in step.changes)
        out.append(f"| {_md(step_title(step))} | {len(step.changes)} | {added} | {removed} |")
    out.append("")
    for step in plan.steps:
        out += _step_section(step)
    out += _not_fixed(plan)
    if plan.skipped:
        out += ["## Left alone", "", "dockfix did not touch these files:", ""]
        out += [f"- `{_md(path)}`: {_md(why)}" for path, why in plan.skipped]
        out.append("")
    out += _verification(verify, verify_note)
    return "\n".join(out).rstrip("\n") + "\n"
