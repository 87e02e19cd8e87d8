"""hadolint's findings before and after dockfix, on the corpus files dockfix changes.

Practice 15 says no hadolint finding may appear because of a fix.  This script runs the
engine with the chosen rules over the corpus, lints each changed file before and after
with hadolint (``--format json``), and prints per-code counts for the codes of interest
and every file that *gained* a hadolint code it did not have (any code).  Exit status 1
when some file gained a code.

    python benchmarks/hadolint_delta.py                       # the package hygiene rules
    python benchmarks/hadolint_delta.py --rules ALL --unsafe  # every rule, unsafe fixes too
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from _common import DEFAULT_CORPUS, corpus_files, print_header, tool

from dockfix import ParseError, parse
from dockfix.engine import fix_document
from dockfix.rules import select_rules
from dockfix.rules.base import Settings

#: The hadolint codes the package hygiene rules answer (DF104 DL3014, DF105 DL3009,
#: DF106 DL3015, DF108 DL3019, DF109 DL3032/DL3040), plus DL3059 (consecutive RUNs),
#: which DF103's merge lowers.
DEFAULT_CODES = "DL3009,DL3014,DL3015,DL3019,DL3032,DL3040,DL3059"
DEFAULT_RULES = "DF103,DF104,DF105,DF106,DF107,DF108,DF109"
#: Files per hadolint run (it lints many files in one process, much faster than one each).
BATCH = 200


def lint(paths: Sequence[Path], hadolint: Path, cwd: Path) -> dict[str, Counter[str]]:
    """hadolint's codes per file name (a multiset: a code may fire on several lines)."""
    found: dict[str, Counter[str]] = {path.name: Counter() for path in paths}
    for start in range(0, len(paths), BATCH):
        batch = [str(path) for path in paths[start : start + BATCH]]
        completed = subprocess.run(
            [str(hadolint), "--no-fail", "--format", "json", *batch],
            cwd=cwd,  # an empty folder: no project .hadolint.yaml is picked up
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0 and not completed.stdout.strip():
            sys.exit(f"hadolint failed: {completed.stderr.strip()[-500:]}")
        for item in json.loads(completed.stdout or "[]"):
            found[Path(item["file"]).name][item["code"]] += 1
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", default=DEFAULT_RULES, help="rule codes (default: %(default)s)")
    parser.add_argument("--unsafe", action="store_true", help="apply unsafe fixes too")
    parser.add_argument(
        "--codes", default=DEFAULT_CODES, help="hadolint codes to count (default: %(default)s)"
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, metavar="DIR")
    args = parser.parse_args(argv)
    files = corpus_files(args.corpus)
    if files is None:
        return 0
    rules = select_rules([args.rules])
    hadolint = tool("hadolint")
    print_header(f"hadolint before/after: rules {args.rules}, unsafe={args.unsafe}", args.corpus)

    with tempfile.TemporaryDirectory(prefix="dockfix-hadolint-") as folder:
        root = Path(folder)
        (root / "before").mkdir()
        (root / "after").mkdir()
        (root / "cwd").mkdir()
        changed: list[str] = []
        for path in files:
            data = path.read_bytes()
            text = data.decode("utf-8", "surrogateescape")
            try:
                document = parse(text)
            except ParseError:
                continue
            result = fix_document(document, rules, Settings(unsafe_fixes=args.unsafe))
            if not result.changed:
                continue
            changed.append(path.name)
            (root / "before" / path.name).write_bytes(data)
            output = result.output.encode("utf-8", "surrogateescape")
            (root / "after" / path.name).write_bytes(output)
        before = lint([root / "before" / name for name in changed], hadolint, root / "cwd")
        after = lint([root / "after" / name for name in changed], hadolint, root / "cwd")

    print(f"files changed by the rules: {len(changed)} of {len(files)}")
    print(f"{'code':8} {'before':>7} {'after':>7} {'files before':>13} {'files after':>12}")
    for code in [c.strip() for c in args.codes.split(",") if c.strip()]:
        total_before = sum(counts[code] for counts in before.values())
        total_after = sum(counts[code] for counts in after.values())
        files_before = sum(1 for counts in before.values() if counts[code])
        files_after = sum(1 for counts in after.values() if counts[code])
        print(f"{code:8} {total_before:7} {total_after:7} {files_before:13} {files_after:12}")
    all_before = sum(sum(counts.values()) for counts in before.values())
    all_after = sum(sum(counts.values()) for counts in after.values())
    print(f"{'all':8} {all_before:7} {all_after:7}")

    gained = {
        name: sorted(set(after[name]) - set(before[name]))
        for name in changed
        if set(after[name]) - set(before[name])
    }
    print(f"files that gained a hadolint code: {len(gained)}")
    for name, codes in sorted(gained.items()):
        print(f"  {name}: {', '.join(codes)}")
    return 1 if gained else 0


if __name__ == "__main__":
    sys.exit(main())
