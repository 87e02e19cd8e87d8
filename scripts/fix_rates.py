"""How often each rule's findings get fixed on real files, and why the rest are not.

Runs every rule over a corpus of Dockerfiles (``../shared/corpus/dockerfiles`` by default)
with ``--unsafe-fixes`` semantics and prints, per rule code: findings on the input, how
many of them carry a fix (safe or unsafe), and the most common reasons given for findings
without a fix (the finding's note, with quoted names and numbers folded so that reasons
of one kind count together).

    .venv/bin/python scripts/fix_rates.py                     # all rules
    .venv/bin/python scripts/fix_rates.py --code DF202 --code DF201 --top 15
    .venv/bin/python scripts/fix_rates.py --json rates.json   # machine-readable too

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
from dockfix.rules import select_rules  # noqa: E402
from dockfix.rules.base import Settings  # noqa: E402
from dockfix.syntax import ParseError, parse  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dockerfiles"


def fold(note: str) -> str:
    """A reason with its specifics (quoted names, numbers, images) folded away."""
    note = re.sub(r"`[^`]*`", "`…`", note)
    note = re.sub(r"'[^']*'", "'…'", note)
    note = re.sub(r"\d+", "N", note)
    return note[:160]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--code", action="append", default=[], help="only these rule codes")
    parser.add_argument("--top", type=int, default=8, help="reasons shown per rule")
    parser.add_argument("--limit", type=int, default=0, help="only the first N files")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
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
    problems = 0
    for path in files:
        try:
            document = parse(path.read_text(encoding="utf-8", errors="surrogateescape"))
        except ParseError:
            continue
        result = fix_document(document, rules, settings, path=path, context_dir=None)
        problems += len(result.problems)
        applied.update(result.fixed)
        for finding in result.findings:
            found[finding.code] += 1
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
        for reason, count in reasons[code].most_common(args.top):
            print(f"        {count:5}  {reason}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
