"""How often ``dockfix pr``'s rule-by-rule commits end elsewhere than a one-shot ``--write``.

For every corpus file, ``dockfix.pr.plan.make_plan`` applies the rules one at a time (the
per-rule commits) and compares the result with the one-shot fix; files that differ get
the "remaining fixes" commit.  Prints the count, the rules whose steps touched those
files, and the time.  No git involved: the plan is computed in memory.

    .venv/bin/python benchmarks/pr_steps.py [--unsafe-fixes] [--corpus DIR]   # ~5-10 min
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from _common import DEFAULT_CORPUS, corpus_files

from dockfix.pr.plan import make_plan
from dockfix.profiles import Profile
from dockfix.rules import select_rules
from dockfix.rules.base import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, metavar="DIR")
    parser.add_argument("--unsafe-fixes", action="store_true")
    parser.add_argument("--limit", type=int, default=0, help="only the first N files")
    args = parser.parse_args()
    files = corpus_files(args.corpus)
    if files is None:
        return
    if args.limit:
        files = files[: args.limit]
    profile = Profile(select_rules(), Settings(unsafe_fixes=args.unsafe_fixes))
    start = time.perf_counter()
    plan = make_plan([(path, path.name, profile) for path in files])
    elapsed = time.perf_counter() - start
    remaining = next((step for step in plan.steps if step.rule is None), None)
    differ = [change.path for change in remaining.changes] if remaining else []
    rules: Counter[str] = Counter()
    for step in plan.steps:
        if step.rule is not None:
            rules.update(step.rule.code for change in step.changes if change.path in differ)
    mode = "unsafe" if args.unsafe_fixes else "safe"
    print(f"{len(files)} files ({mode} fixes), {len(plan.changed)} changed, {elapsed:.1f} s")
    print(f"rule-by-rule differs from one-shot on {len(differ)} files: {' '.join(differ)}")
    counts = ", ".join(f"{code} {n}" for code, n in rules.most_common())
    print(f"rules with a step in those files: {counts}")


if __name__ == "__main__":
    main()
