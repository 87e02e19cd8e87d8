"""Fingerprints of dockfix's results on every corpus file, to prove a change alters nothing.

Why: speed work (and refactors) must leave every output, finding, note and fix exactly
as it was; the fixture tests cover chosen cases, this covers the real-world corpus.
For each file and each of three settings (safe fixes; unsafe with the wheels split;
unsafe with the venv split) it hashes the fixed text, every finding (code, position,
message, note, fix applicability and reason), the fixed counts, the engine's problems
and the companion edits, and writes one line per file and setting::

    .venv/bin/python scripts/fingerprints.py before.tsv      # on the old tree
    .venv/bin/python scripts/fingerprints.py after.tsv       # on the new tree
    diff before.tsv after.tsv                                 # must print nothing

Run the old tree through ``PYTHONPATH=<worktree>`` (or a ``git worktree`` of the old
commit) with the same interpreter.  Takes about 80 s; prints the CPU time it used.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockfix.rules.base import Settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dockerfiles"


def fingerprint(path: Path, settings: Settings) -> str:
    """The hash of everything ``fix_document`` says about one file under ``settings``."""
    from dockfix.engine import fix_document
    from dockfix.rules import ALL_RULES
    from dockfix.syntax import ParseError, parse

    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    try:
        document = parse(text)
    except ParseError as error:
        return f"parse error {error}"
    result = fix_document(document, ALL_RULES, settings, path=path, context_dir=None)
    parts = [result.output]
    for finding in result.findings:
        fix = finding.fix
        facts = (finding.code, finding.line, finding.column, finding.message, finding.note)
        kind = (fix.applicability.value, fix.reason) if fix else None
        parts.append(repr((*facts, kind)))
    parts.append(repr(sorted(result.fixed.items())))
    parts.append(repr([str(problem) for problem in result.problems]))
    parts.append(repr([(c.path, c.old_text, c.new_text) for c in result.companions]))
    return hashlib.md5("\x00".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="where to write the fingerprints (TSV)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}, nothing to fingerprint")
        return 0
    sys.path.append(str(ROOT))  # after PYTHONPATH, so that it can name another tree
    from dockfix.rules.base import Settings
    from dockfix.strategies import SplitStrategy

    configurations = {
        "safe": Settings(),
        "unsafe-wheels": Settings(unsafe_fixes=True, split_strategy=SplitStrategy.WHEELS),
        "unsafe-venv": Settings(unsafe_fixes=True, split_strategy=SplitStrategy.VENV),
    }
    files = sorted(args.corpus.glob("*"))
    start = time.process_time()
    lines = [
        f"{label}\t{path.name}\t{fingerprint(path, settings)}"
        for label, settings in configurations.items()
        for path in files
    ]
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} fingerprints, {time.process_time() - start:.1f} s CPU", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
