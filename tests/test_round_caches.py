"""What later rounds keep from earlier ones gives exactly what computing afresh gives.

* ``engine._shifted`` hands a moved instruction copy the line-free values its original
  cached (``engine.LINE_FREE_CACHES``, ``run_shell``): each must equal what the copy
  computes itself, and fixing with or without the hand-over must give the same results.
* After the first round findings without a fix to take are dropped before suppression:
  fixing is the same as suppressing all of them first.
* The model reads platform evidence once per instruction and package changes once per
  shell text: a model built on instructions that already carry them equals one built
  on a fresh parse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixture_cases import cases, context_of, read

from dockfix import engine
from dockfix.engine import FixResult, fix_document
from dockfix.model import NO_CONTEXT, FileModel, Platform, mounts_of
from dockfix.model.runs import run_shell
from dockfix.rules import ALL_RULES
from dockfix.rules._hygiene import _and_breaks
from dockfix.rules.base import Settings
from dockfix.rules.no_empty_continuation import _empty_lines_removed
from dockfix.syntax import ParseError, parse
from dockfix.syntax.document import _continuation_indents
from dockfix.syntax.nodes import Instruction

CASES = cases()


def _inputs() -> Iterator[tuple[Path, str]]:
    for case in CASES:
        yield case, read(case)


def _fix_all(settings: Settings) -> list[FixResult]:
    results = []
    for case, text in _inputs():
        try:
            document = parse(text)
        except ParseError:
            continue
        results.append(
            fix_document(document, ALL_RULES, settings, path=case, context_dir=context_of(case))
        )
    return results


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_moved_copies_carry_what_they_would_compute(
    monkeypatch: pytest.MonkeyPatch, unsafe: bool
) -> None:
    """Every hand-over of every fixture's rounds, checked against a copy without caches."""
    real = engine._carry_caches
    carried = {"values": 0}
    # Recorded, not asserted here: ``verify`` takes the whole-file path on any exception.
    wrong: list[str] = []

    def checked(old: Instruction, new: Instruction) -> None:
        real(old, new)
        fresh = dataclasses.replace(new)  # the same fields, nothing cached
        for key in engine.LINE_FREE_CACHES:
            if key in new.__dict__:
                carried["values"] += 1
                if new.__dict__[key] != _computed(fresh, key, new.__dict__[key]):
                    wrong.append(key)
        if "_run_shell" in new.__dict__:
            carried["values"] += 1
            if new.__dict__["_run_shell"] != run_shell(fresh):
                wrong.append("_run_shell")

    monkeypatch.setattr(engine, "_carry_caches", checked)
    _fix_all(Settings(unsafe_fixes=unsafe))
    assert not wrong
    assert carried["values"] > 1000


def _computed(fresh: Instruction, key: str, carried: object) -> object:
    """What ``fresh`` (a copy with nothing cached) computes for the cache ``key``, in the
    form the cache keeps it; ``carried`` gives the escape character a cache was read with."""
    if key == "_mounts":
        return mounts_of(fresh)
    if key == "_empty_continuation":
        return _empty_lines_removed(fresh)
    if key in ("_continuation_indents", "_and_breaks"):
        assert isinstance(carried, tuple)
        escape = carried[0]
        read = _continuation_indents if key == "_continuation_indents" else _and_breaks
        return (escape, read(fresh, escape))
    return getattr(fresh, key)


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_fixing_is_the_same_without_the_hand_over(
    monkeypatch: pytest.MonkeyPatch, unsafe: bool
) -> None:
    """Multi-round fixes of every fixture, with and without carried caches."""
    settings = Settings(unsafe_fixes=unsafe)
    with_caches = _fix_all(settings)
    monkeypatch.setattr(engine, "_carry_caches", lambda old, new: None)
    without = _fix_all(settings)
    assert [r.output for r in with_caches] == [r.output for r in without]
    assert [r.findings for r in with_caches] == [r.findings for r in without]
    assert [r.fixed for r in with_caches] == [r.fixed for r in without]
    assert [r.problems for r in with_caches] == [r.problems for r in without]
    assert sum(len(r.fixed) > 1 for r in with_caches) > 10  # multi-rule, multi-round files


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_fixing_is_the_same_when_later_rounds_suppress_every_finding(
    monkeypatch: pytest.MonkeyPatch, unsafe: bool
) -> None:
    settings = Settings(unsafe_fixes=unsafe)
    filtered = _fix_all(settings)
    monkeypatch.setattr(engine, "_fixable", lambda findings, settings: list(findings))
    unfiltered = _fix_all(settings)
    assert [(r.output, r.findings, r.fixed, r.problems) for r in filtered] == [
        (r.output, r.findings, r.fixed, r.problems) for r in unfiltered
    ]


def _facts(model: FileModel) -> list[tuple[object, ...]]:
    return [
        (facts.platform, facts.platform_reason, facts.installed, facts.end)
        for facts in model.stages
    ]


def test_model_from_cached_instructions_equals_a_fresh_one() -> None:
    for _, text in _inputs():
        try:
            document = parse(text)
        except ParseError:
            continue
        first = FileModel(document, NO_CONTEXT)
        again = FileModel(document, NO_CONTEXT)  # reads what the first build cached
        fresh = FileModel(parse(text), NO_CONTEXT)
        assert _facts(first) == _facts(again) == _facts(fresh)


@pytest.mark.parametrize(
    ("text", "platform", "reason"),
    [
        # The first Linux evidence gives the reason...
        ("FROM x\nRUN /bin/true\nRUN apt-get update\n", Platform.LINUX, "RUN /bin/true (line 2)"),
        # ... Windows evidence anywhere wins, even later in the same RUN.
        (
            "FROM x\nRUN apt-get update && cmd.exe /c dir\n",
            Platform.WINDOWS,
            "RUN cmd.exe (line 2)",
        ),
        (
            'FROM x\nSHELL ["/bin/sh", "-c"]\nRUN cmd.exe /c dir\n',
            Platform.WINDOWS,
            "RUN cmd.exe (line 3)",
        ),
        (
            'FROM x\nRUN ["/bin/sh", "-c", "true"]\nWORKDIR C:\\\\app\n',
            Platform.WINDOWS,
            "Windows path in WORKDIR (line 3)",
        ),
        ("FROM x\nCOPY a b\n", Platform.UNKNOWN, ""),
    ],
)
def test_platform_evidence_order(text: str, platform: Platform, reason: str) -> None:
    for _ in range(2):  # the second build reads the cached evidence
        (facts,) = FileModel(parse(text), NO_CONTEXT).stages
        assert (facts.platform, facts.platform_reason) == (platform, reason)


def test_package_changes_in_order() -> None:
    text = (
        "FROM x\n"
        "RUN apt-get install -y curl=7.8 wget && apt-get purge -y wget\n"
        "FROM x AS second\n"
        "RUN apk del curl && apk add curl git\n"
    )
    document = parse(text)
    first, second = FileModel(document, NO_CONTEXT).stages
    assert first.installed == {"curl"}
    assert second.installed == {"curl", "git"}
    assert _facts(FileModel(document, NO_CONTEXT)) == _facts(FileModel(parse(text), NO_CONTEXT))
