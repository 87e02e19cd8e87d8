"""How often each rule's findings get fixed on real files, and why the rest are not.

Runs every rule over a corpus of Dockerfiles (``../shared/corpus/dockerfiles`` by default)
with ``--unsafe-fixes`` semantics and prints, per rule code: findings on the input, how
many of them carry a fix (safe or unsafe), and the most common reasons given for findings
without a fix (the finding's note, with quoted names and numbers folded so that reasons
of one kind count together).

    .venv/bin/python scripts/fix_rates.py                     # all rules
    .venv/bin/python scripts/fix_rates.py --code DF202 --code DF201 --top 15
    .venv/bin/python scripts/fix_rates.py --json rates.json   # machine-readable too
    .venv/bin/python scripts/fix_rates.py --code DF202 --by-family  # per base family

A finding "is fixed" here when the engine, run with unsafe fixes on, offers a fix for it
on the first round: that is what ``dockfix --unsafe-fixes --write`` would apply (the
engine still verifies each fix; ``problems`` counts fixes it dropped).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dockfix.engine import fix_document  # noqa: E402
from dockfix.model import BuildContext  # noqa: E402
from dockfix.model.build import FileModel  # noqa: E402
from dockfix.rules import select_rules  # noqa: E402
from dockfix.rules.base import Settings  # noqa: E402
from dockfix.syntax import Dockerfile, ParseError, parse  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dockerfiles"


def fold(note: str) -> str:
    """A reason with its specifics (quoted names, numbers, images) folded away."""
    note = re.sub(r"`[^`]*`", "`…`", note)
    note = re.sub(r"'[^']*'", "'…'", note)
    note = re.sub(r"\d+", "N", note)
    return note[:160]


def _families(document: Dockerfile) -> dict[int, str]:
    """Each line of a stage -> the family of the stage's base image (through ``FROM
    <stage>``), as the stage model knows it; ``unknown`` where the table does not."""
    model = FileModel(document, BuildContext(None))
    lines: dict[int, str] = {}
    for facts in model.stages:
        family = facts.traits.family.value if facts.traits is not None else "unknown"
        stage = facts.stage
        last = max([stage.from_instruction.line, *(i.end_line for i in stage.instructions)])
        for line in range(stage.from_instruction.line, last + 1):
            lines[line] = family
    return lines


def _print_families(code: str, counts: Counter[tuple[str, str, bool]]) -> dict[str, list[int]]:
    families = sorted({family for rule, family, _ in counts if rule == code})
    table: dict[str, list[int]] = {}
    for family in families:
        fixed, unfixed = counts[code, family, True], counts[code, family, False]
        table[family] = [fixed, fixed + unfixed]
        rate = fixed / (fixed + unfixed) if fixed + unfixed else 0.0
        print(f"        {family:12} {fixed:5} / {fixed + unfixed:<5} {rate:5.0%}")
    linux = ("debian", "alpine", "rhel")
    fixed = sum(table.get(family, [0, 0])[0] for family in linux)
    total = sum(table.get(family, [0, 0])[1] for family in linux)
    if total:
        print(f"        {'debian+alpine+rhel':18} {fixed} / {total} {fixed / total:5.1%}")
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--code", action="append", default=[], help="only these rule codes")
    parser.add_argument("--top", type=int, default=8, help="reasons shown per rule")
    parser.add_argument("--limit", type=int, default=0, help="only the first N files")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--by-family",
        action="store_true",
        help="also split each rule's figures by the family of the finding's stage's base "
        "image, as the stage model knows it (debian, alpine, rhel...; unknown)",
    )
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}, nothing to measure")
        return 0
    files = sorted(args.corpus.glob("*"))
    if args.limit:
        files = files[: args.limit]
    rules = select_rules()
    settings = Settings(unsafe_fixes=True)
    found: Counter[str] = Counter()
    fixable: Counter[str] = Counter()
    applied: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    by_family: Counter[tuple[str, str, bool]] = Counter()
    problems = 0
    for path in files:
        try:
            document = parse(path.read_text(encoding="utf-8", errors="surrogateescape"))
        except ParseError:
            continue
        result = fix_document(document, rules, settings, path=path, context_dir=None)
        problems += len(result.problems)
        applied.update(result.fixed)
        families = _families(document) if args.by_family else {}
        for finding in result.findings:
            found[finding.code] += 1
            if args.by_family:
                family = families.get(finding.line, "unknown")
                by_family[finding.code, family, finding.fix is not None] += 1
            if finding.fix is not None:
                fixable[finding.code] += 1
            else:
                reasons[finding.code][fold(finding.note or "(no reason given)")] += 1
    codes = sorted(found) if not args.code else sorted(set(args.code))
    print(f"{len(files)} files; engine problems (dropped fixes, non-convergence): {problems}")
    print(f"{'code':6} {'found':>6} {'fixed':>6} {'rate':>6}  applied (all rounds)")
    figures = {}
    for code in codes:
        rate = fixable[code] / found[code] if found[code] else 0.0
        print(f"{code:6} {found[code]:6} {fixable[code]:6} {rate:6.0%}  {applied[code]}")
        figures[code] = {
            "found": found[code],
            "fixed": fixable[code],
            "applied": applied[code],
            "reasons": reasons[code].most_common(args.top),
        }
        if args.by_family:
            figures[code]["by_family"] = _print_families(code, by_family)
        for reason, count in reasons[code].most_common(args.top):
            print(f"        {count:5}  {reason}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
