"""DF201 runs-as-root over the real-world corpus: the fix keeps files valid and names
only users that exist.

The engine runs with DF201 alone, unsafe fixes included, over every corpus file dockfix
parses.  For every file it changed: BuildKit (the ``dockerfile`` wheel) still accepts the
output when it accepted the input; no comment line is lost; a second run changes
nothing; the engine reported no problem; and every ``USER`` that the fix added names a
user that exists.  That last check reads only the output text (``added_unknown_users``):
it does not trust the rule's own idea of which users exist.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from dataclasses import dataclass

import dockerfile
import pytest
from conftest import OracleCannotTell, oracle_records

from dockfix import ParseError, parse
from dockfix.engine import FixResult, comment_lines, fix_document
from dockfix.images import lookup
from dockfix.rules import select_rules
from dockfix.rules.base import Settings

pytestmark = pytest.mark.corpus

RULES = select_rules(["DF201"])
SETTINGS = Settings(unsafe_fixes=True)

#: Words that start a user-creating command, and the options that take a value.
_USER_TOOLS = re.compile(r"(?:^|[\s;&|(])(useradd|adduser)\s+([^;&|\n]*)")
_VALUE_OPTIONS = frozenset(
    re.findall(
        r"\S+",
        """-b -c -d -e -f -g -G -k -K -p -s -u -Z -R -P -h --base-dir --comment --home-dir
        --home --expiredate --inactive --gid --groups --skel --key --password --shell --uid
        --root --prefix --ingroup --gecos --firstuid --lastuid""",
    )
)
#: Note phrases, by the kind of reason they give (for the printed breakdown).
_NOTE_KINDS = (
    ("WORKDIR", "workdir"),
    ("base image is not known", "unknown image"),
    ("port", "privileged port"),
    ("the command runs", "root command"),
    ("root's home", "root's home"),
    ("outside", "writes outside the app folder"),
    ("ENTRYPOINT", "entrypoint"),
    ("entrypoint", "entrypoint"),
    ("to change user", "entrypoint"),
    ("gives files", "chown to another user"),
    ("scratch", "user tool"),
    ("Windows", "user tool"),
    ("useradd", "user tool"),
    ("no tool", "user tool"),
    ("user whose name", "user name"),
    ("in use", "user name"),
    ("switched to", "user name"),
)


@dataclass(frozen=True)
class Outcome:
    name: str
    text: str
    result: FixResult


def _created_in(run_text: str) -> set[str]:
    """Login names that ``useradd``/``adduser`` commands in a RUN's text create."""
    names: set[str] = set()
    for match in _USER_TOOLS.finditer(run_text.replace("\\\n", " ")):
        try:
            words = shlex.split(match.group(2), comments=True)
        except ValueError:
            words = match.group(2).split()
        index = 0
        while index < len(words):
            word = words[index]
            if word in _VALUE_OPTIONS:
                index += 2
                continue
            if not word.startswith("-"):
                names.add(word)
                break
            index += 1
    return names


def _known_nonroot(image_text: str) -> str | None:
    """The non-root user the image table says an image ships (``node``, ``nonroot``)."""
    name, _, tag = image_text.partition(":")
    traits = lookup(name, tag or None)
    return traits.nonroot_user if traits else None


def added_unknown_users(before: str, after: str) -> list[str]:
    """``USER`` lines of ``after`` not in ``before`` that name a user which no RUN of the
    same or an earlier stage creates, which the base image does not ship, and which is
    not a numeric uid."""
    old = Counter(i.text.strip() for i in parse(before).instructions if i.cmd == "USER")
    bad = []
    created: set[str] = set()
    image_user: str | None = None
    for instruction in parse(after).instructions:
        if instruction.cmd == "FROM":
            image_user = _known_nonroot(instruction.value[0]) if instruction.value else None
        elif instruction.cmd == "RUN":
            created |= _created_in(instruction.text)
        elif instruction.cmd == "USER" and instruction.value:
            text = instruction.text.strip()
            if old[text]:
                old[text] -= 1
                continue
            user = instruction.value[0].split(":")[0]
            if not (user.isdigit() or user in created or user == image_user):
                bad.append(f"line {instruction.line}: USER {user}")
    return bad


def test_added_unknown_users_checker() -> None:
    """The checker itself: created, shipped and numeric users pass; others do not."""
    before = 'FROM python:3.12-slim\nCMD ["x"]\n'
    created = 'FROM python:3.12-slim\nRUN useradd -m -s /bin/sh app\nUSER app\nCMD ["x"]\n'
    shipped = "FROM node:20\nUSER node\n"
    numeric = "FROM python:3.12-slim\nUSER 10001\n"
    invented = "FROM python:3.12-slim\nUSER ghost\n"
    assert added_unknown_users(before, created) == []
    assert added_unknown_users(before, shipped) == []
    assert added_unknown_users(before, numeric) == []
    assert added_unknown_users(before, invented) == ["line 2: USER ghost"]
    assert added_unknown_users(invented, invented) == []  # not added by the fix


@pytest.fixture(scope="module")
def outcomes(corpus_texts: dict[str, str]) -> list[Outcome]:
    found = []
    for name, text in corpus_texts.items():
        try:
            document = parse(text)
        except ParseError:
            continue  # BuildKit rejects it too (see test_oracle_corpus)
        found.append(Outcome(name, text, fix_document(document, RULES, SETTINGS)))
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


def _note_kinds(note: str) -> set[str]:
    kinds = set()
    for part in note.split("; "):
        kind = next((k for phrase, k in _NOTE_KINDS if phrase in part), "other")
        kinds.add(kind)
    return kinds


def test_fix_keeps_files_valid_and_names_real_users(outcomes: list[Outcome]) -> None:
    failures: list[str] = []
    findings = fixes = 0
    notes: Counter[str] = Counter()
    for outcome in outcomes:
        name, result = outcome.name, outcome.result
        failures += [f"{name}: engine problem: {problem}" for problem in result.problems]
        for finding in result.findings:
            findings += 1
            fixes += finding.fix is not None
            notes.update(_note_kinds(finding.note) if finding.note else ())
        if not result.changed:
            continue
        if _accepted(outcome.text) and not _accepted(result.output):
            failures.append(f"{name}: BuildKit rejects the output")
        output = parse(result.output)
        lost = comment_lines(parse(outcome.text)) - comment_lines(output)
        if lost:
            failures.append(f"{name}: comment lines lost: {sorted(lost)[:3]}")
        if fix_document(output, RULES, SETTINGS).changed:
            failures.append(f"{name}: a second run changes the output again")
        failures += [f"{name}: {bad}" for bad in added_unknown_users(outcome.text, result.output)]
    changed = sum(1 for outcome in outcomes if outcome.result.changed)
    print(
        f"\nDF201 over {len(outcomes)} files: {findings} findings, {fixes} with a fix, "
        f"{changed} files changed; report-only reasons (files per kind) "
        f"{dict(notes.most_common())}; {len(failures)} failures"
    )
    assert changed, "the corpus has root images with a WORKDIR; none were changed"
    assert not failures, "\n".join(failures[:200])
