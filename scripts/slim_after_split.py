"""Does every DF202 split of a full python image also end on ``-slim``?

Issue 11 asks that DF203 (full python base image) be fixed wherever DF202 splits.  DF203
does not fix those files itself: DF202's split moves the final stage to ``-slim``.  This
script checks that on a corpus: for every file where DF202 offers a fix and DF203 reports
a full image, it runs every rule with ``--unsafe-fixes`` semantics and reads the final
stage's image in the output.

    .venv/bin/python scripts/slim_after_split.py                # ../shared/corpus
    .venv/bin/python scripts/slim_after_split.py --corpus DIR

Exits 1 when a split leaves the final stage on the full image.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dockfix.engine import fix_document  # noqa: E402
from dockfix.rules import select_rules  # noqa: E402
from dockfix.rules.base import Settings  # noqa: E402
from dockfix.syntax import ParseError, parse  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpus/dockerfiles")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}, nothing to measure")
        return 0
    rules = select_rules()
    settings = Settings(unsafe_fixes=True)
    splits, full_left = 0, []
    for path in sorted(args.corpus.glob("*")):
        try:
            document = parse(path.read_text(encoding="utf-8", errors="surrogateescape"))
        except ParseError:
            continue
        if not document.stages:
            continue
        result = fix_document(document, rules, settings, path=path, context_dir=None)
        split = any(f.code == "DF202" and f.fix is not None for f in result.findings)
        full = any(f.code == "DF203" for f in result.findings)
        if not (split and full):
            continue
        splits += 1
        final = parse(result.output).stages[-1].image.text
        if "slim" not in final:
            full_left.append(f"{path.name}: {document.stages[-1].image.text} -> {final}")
    print(
        f"DF202 splits of a full python image: {splits}; final stage on -slim: "
        f"{splits - len(full_left)}"
    )
    for line in full_left:
        print(f"  still full: {line}")
    return 1 if full_left else 0


if __name__ == "__main__":
    raise SystemExit(main())
