"""The runtime rules (DF204-DF207) fix the real-world corpus without harm.

The engine runs with just these rules, unsafe fixes included, over every corpus file
dockfix parses.  For every file a rule changed: BuildKit (the ``dockerfile`` wheel)
still accepts the output when it accepted the input, and reads it as dockfix does; no
comment line is lost; a second run changes nothing; the engine reported no problem.

DF204 is checked for meaning too: with DF204 alone, every ``CMD``/``ENTRYPOINT`` that
went from shell form to exec form must run what ``/bin/sh -c`` ran.  A plain-words
array must equal ``shlex.split`` of the old text (and, for texts made of characters no
shell interprets, what a real ``/bin/sh`` splits them into); a ``/bin/sh -c`` array must
hold the old text, or the old text with ``exec`` in front.

hadolint measures the result: DL3025 ("Use arguments JSON notation for CMD and
ENTRYPOINT") must drop, and no changed file may gain a finding of any code.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import dockerfile
import pytest
from conftest import OracleCannotTell, dockfix_records, oracle_records, record_differences

from dockfix import ParseError, parse
from dockfix.engine import FixResult, comment_lines, fix_document
from dockfix.rules import select_rules
from dockfix.rules.base import Settings
from dockfix.syntax import Instruction

pytestmark = pytest.mark.corpus

CODES = ("DF204", "DF205", "DF206", "DF207")
RULES = select_rules(CODES)
EXEC_FORM_RULES = select_rules(("DF204",))
SETTINGS = Settings(unsafe_fixes=True)
HADOLINT = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "hadolint"
#: Texts a real shell may be asked to split: nothing here can expand or run anything.
_INERT = re.compile(r"[\w\-./:=,+@%^ '\"]+")


@dataclass(frozen=True)
class Outcome:
    """One corpus file: its text, the result of all four rules, and of DF204 alone."""

    name: str
    text: str
    result: FixResult
    exec_form_only: FixResult


@pytest.fixture(scope="module")
def outcomes(corpus_texts: dict[str, str]) -> list[Outcome]:
    found = []
    for name, text in corpus_texts.items():
        try:
            document = parse(text)
        except ParseError:
            continue  # BuildKit rejects it too (see test_oracle_corpus)
        found.append(
            Outcome(
                name,
                text,
                fix_document(document, RULES, SETTINGS),
                fix_document(document, EXEC_FORM_RULES, SETTINGS),
            )
        )
    return found


def _accepted(text: str) -> bool | None:
    """Whether BuildKit accepts ``text``; None when the oracle cannot tell."""
    try:
        oracle_records(text)
    except dockerfile.GoParseError:
        return False
    except OracleCannotTell:
        return None
    return True


def test_fixes_keep_files_valid_and_stable(outcomes: list[Outcome]) -> None:
    failures: list[str] = []
    changed: Counter[str] = Counter()
    fixes: Counter[str] = Counter()
    findings: Counter[str] = Counter()
    for outcome in outcomes:
        name, result = outcome.name, outcome.result
        findings.update(finding.code for finding in result.findings)
        failures += [f"{name}: engine problem: {problem}" for problem in result.problems]
        if not result.changed:
            continue
        changed.update(result.fixed.keys())
        fixes.update(result.fixed)
        if _accepted(outcome.text) and not _accepted(result.output):
            failures.append(f"{name}: BuildKit rejects the output")
        elif _accepted(result.output):
            theirs, ours = oracle_records(result.output), dockfix_records(result.output)
            failures += [f"{name}: {d}" for d in record_differences(theirs, ours)][:1]
        output = parse(result.output)
        lost = comment_lines(parse(outcome.text)) - comment_lines(output)
        if lost:
            failures.append(f"{name}: comment lines lost: {sorted(lost)[:3]}")
        if fix_document(output, RULES, SETTINGS).changed:
            failures.append(f"{name}: a second run changes the output again")
    files = sum(1 for outcome in outcomes if outcome.result.changed)
    print(
        f"\nruntime rules over {len(outcomes)} files: {files} changed; "
        f"files changed per rule {dict(sorted(changed.items()))}; "
        f"fixes per rule {dict(sorted(fixes.items()))}; "
        f"findings per rule {dict(sorted(findings.items()))}; {len(failures)} failures"
    )
    assert files, "the corpus has shell-form CMDs and Python images; none were changed"
    assert not failures, "\n".join(failures[:200])


def _shell_split(text: str) -> list[str] | None:
    """How a real ``/bin/sh`` splits ``text`` into words, for inert texts only."""
    sh = shutil.which("sh")
    if sh is None or not _INERT.fullmatch(text):
        return None
    done = subprocess.run(
        [sh, "-c", f"printf '%s\\0' {text}"], capture_output=True, check=True, timeout=10
    )
    return done.stdout.decode("utf-8").split("\0")[:-1]


def _converted(before: Instruction, after: Instruction) -> bool:
    return before.cmd in ("CMD", "ENTRYPOINT") and not before.is_json and after.is_json


def exec_form_difference(before: Instruction, after: Instruction) -> tuple[str, str | None]:
    """``(kind, difference)`` for one conversion: the kind of array, and what differs."""
    text, words = before.value[0], list(after.value)
    if words[:2] == ["/bin/sh", "-c"]:
        if len(words) == 3 and words[2] in (text, f"exec {text}"):
            return "sh -c", None
        return "sh -c", f"{words!r} does not run {text!r}"
    expected = shlex.split(text)
    if expected[:1] == ["exec"]:
        expected = expected[1:]
    if words != expected:
        return "words", f"{words!r} != shlex.split {expected!r}"
    real = _shell_split(text)
    if real is None:
        return "words", None
    if real[:1] == ["exec"]:
        real = real[1:]
    if real != words:
        return "words", f"{words!r} != /bin/sh's words {real!r}"
    return "words (also checked with /bin/sh)", None


def test_exec_form_runs_what_the_shell_ran(outcomes: list[Outcome]) -> None:
    failures: list[str] = []
    kinds: Counter[str] = Counter()
    for outcome in outcomes:
        result = outcome.exec_form_only
        if not result.changed:
            continue
        before = parse(outcome.text).instructions
        after = parse(result.output).instructions
        if len(before) != len(after):
            failures.append(f"{outcome.name}: DF204 changed the number of instructions")
            continue
        for old, new in zip(before, after, strict=True):
            if not _converted(old, new):
                if old.text != new.text:
                    failures.append(f"{outcome.name}:{old.line}: not a conversion: {new.text!r}")
                continue
            kind, difference = exec_form_difference(old, new)
            kinds[kind] += 1
            if difference:
                failures.append(f"{outcome.name}:{old.line}: {difference}")
    print(f"\nDF204 conversions: {dict(sorted(kinds.items()))}; {len(failures)} failures")
    assert kinds["sh -c"] and kinds["words (also checked with /bin/sh)"]
    assert not failures, "\n".join(failures[:200])


def _hadolint_codes(folder: Path, names: list[str]) -> dict[str, Counter[str]]:
    """hadolint's findings per file, as a multiset of codes (one run for all files)."""
    done = subprocess.run(
        [str(HADOLINT), "--no-fail", "--format", "json", *names],
        cwd=folder,
        capture_output=True,
        check=True,
        timeout=600,
    )
    codes: dict[str, Counter[str]] = {name: Counter() for name in names}
    for item in json.loads(done.stdout or b"[]"):
        codes[item["file"]][item["code"]] += 1
    return codes


@pytest.mark.skipif(not HADOLINT.exists(), reason="hadolint is not installed in .venv")
def test_hadolint_dl3025_drops_and_nothing_new(
    outcomes: list[Outcome], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("hadolint")
    pairs = []
    for index, outcome in enumerate(o for o in outcomes if o.result.changed):
        before, after = f"{index}.before.Dockerfile", f"{index}.after.Dockerfile"
        (folder / before).write_bytes(outcome.text.encode("utf-8", "surrogateescape"))
        (folder / after).write_bytes(outcome.result.output.encode("utf-8", "surrogateescape"))
        pairs.append((outcome.name, before, after))
    codes = _hadolint_codes(folder, [name for _, *files in pairs for name in files])
    failures = []
    totals: Counter[str] = Counter()
    for name, before, after in pairs:
        old, new = codes[before], codes[after]
        totals["DL3025 before"] += old["DL3025"]
        totals["DL3025 after"] += new["DL3025"]
        totals["all before"] += sum(old.values())
        totals["all after"] += sum(new.values())
        gained = new - old
        if gained:
            failures.append(f"{name}: hadolint gains {dict(gained)}")
    print(f"\nhadolint on {len(pairs)} changed files: {dict(totals)}; {len(failures)} failures")
    assert totals["DL3025 after"] < totals["DL3025 before"]
    assert not failures, "\n".join(failures[:200])
