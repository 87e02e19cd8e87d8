"""Regenerate fixture expectations for named cases and show what changed.

A fixture case is ``fixtures/<rule-name>/<stem>.in.Dockerfile``; its expectations are
``<stem>.out.Dockerfile`` (safe fixes), ``<stem>.unsafe.out.Dockerfile`` (only when
``--unsafe-fixes`` gives something else) and ``<stem>.findings``.  This script runs each
named case through the engine exactly as ``tests/test_fixtures.py`` does (with its
``.settings.json`` and ``.context/``), writes the expectation files, and prints a unified
diff of every file it changed: read that diff before committing, the tests only check that
the files match what the code does now.

    python scripts/update_fixtures.py consecutive-run           # every case of a rule
    python scripts/update_fixtures.py DF102                     # the same, by code
    python scripts/update_fixtures.py consecutive-run/basic     # one case
    python scripts/update_fixtures.py fixtures/consecutive-run/basic.in.Dockerfile
    python scripts/update_fixtures.py --all                     # every case

``--dry-run`` prints the diff without writing anything.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import fixture_cases  # noqa: E402  (tests/fixture_cases.py: the fixture test's own runner)

from dockfix.rules import lookup  # noqa: E402

FIXTURES = fixture_cases.FIXTURES


def select(names: Sequence[str]) -> list[Path]:
    """Cases named by rule (code or name), ``rule-name/stem`` or path; SystemExit if unknown."""
    every = fixture_cases.cases()
    chosen: list[Path] = []
    for name in names:
        path = Path(name)
        if path.suffix == ".Dockerfile" and path.resolve().is_file():
            found = [case for case in every if case == path.resolve()]
        elif "/" in name.strip("/"):
            folder, _, stem = name.strip("/").removeprefix("fixtures/").partition("/")
            stem = stem.removesuffix(".in.Dockerfile")
            found = [
                c for c in every if c.parent.name == folder and c.name == f"{stem}.in.Dockerfile"
            ]
        else:
            rule = lookup(name)
            folder = rule.name if rule is not None else name
            found = [case for case in every if case.parent.name == folder]
        if not found:
            raise SystemExit(f"update_fixtures: no fixture case matches {name!r}")
        chosen.extend(case for case in found if case not in chosen)
    return chosen


def _text(path: Path) -> str | None:
    return fixture_cases.read(path) if path.is_file() else None


def _diff(path: Path, before: str | None, after: str | None) -> str:
    name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()
    lines = difflib.unified_diff(
        (before or "").splitlines(keepends=True),
        (after or "").splitlines(keepends=True),
        fromfile=f"a/{name}" if before is not None else "/dev/null",
        tofile=f"b/{name}" if after is not None else "/dev/null",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def update(cases: Iterable[Path], *, write: bool = True) -> list[str]:
    """Regenerate the cases' expectations; the diffs of the files that changed.

    With ``write=False`` the cases are regenerated in a scratch copy of their folders and
    the committed files are left as they are.
    """
    diffs = []
    for case in cases:
        if write:
            target = case
            scratch = None
        else:
            scratch = Path(tempfile.mkdtemp(prefix="dockfix-fixtures-"))
            folder = scratch / case.parent.name
            shutil.copytree(case.parent, folder, symlinks=True)
            target = folder / case.name
        try:
            committed = fixture_cases.expected_paths(case)
            before = [_text(path) for path in committed]
            fixture_cases.update(target)
            after = [_text(path) for path in fixture_cases.expected_paths(target)]
        finally:
            if scratch is not None:
                shutil.rmtree(scratch)
        for path, old, new in zip(committed, before, after, strict=True):
            if old != new:
                diffs.append(_diff(path, old, new))
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("cases", nargs="*", help="rule code/name, rule-name/stem, or a path")
    parser.add_argument("--all", action="store_true", help="every fixture case")
    parser.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    args = parser.parse_args(argv)
    if not args.cases and not args.all:
        parser.error("name the cases to update (or --all)")
    cases = fixture_cases.cases() if args.all else select(args.cases)
    diffs = update(cases, write=not args.dry_run)
    sys.stdout.write("".join(diffs))
    verb = "would change" if args.dry_run else "changed"
    print(
        f"update_fixtures: {len(cases)} case(s), {len(diffs)} expectation file(s) {verb}"
        + ("; review the diff above before committing" if diffs else ""),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
