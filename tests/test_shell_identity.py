"""A file's results must not depend on which files the process read before it.

Rules match shell nodes by identity (``id(command)``: the commands a split moves, the
installs a rewrite drops), so every node a rule compares must come from the one parse
that the instruction holds (``run_shell``).  The package commands were once cached by
text beside the parse cache: after ``parse_text`` forgot a text, an instruction got a new
parse but the old parse's package commands, no command matched, and DF202 refused
splits it makes for the same file read alone ("the pip install on line 26 is inside a
pipeline, group or condition"), in 6 of the corpus's 6,279 file-and-settings runs,
depending on the files read before.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_cases import cases, findings_text, read, run_case

from dockfix.model.runs import RunShell, parse_text, run_shell
from dockfix.shell import iter_simple_commands
from dockfix.syntax import parse

SPLIT_CASES = [case for case in cases() if case.parent.name == "build-tools-in-final-image"]


def _run(document_text: str) -> RunShell:
    shell = run_shell(parse(document_text).instructions[-1])
    assert isinstance(shell, RunShell)
    return shell


def test_package_commands_are_nodes_of_the_instructions_own_parse() -> None:
    text = "FROM debian\nRUN apt-get update && apt-get install -y gcc && pip install x\n"
    first = _run(text)
    first.packages()
    parse_text.cache_clear()  # as when the cache has forgotten the text
    second = _run(text)
    assert second.script is not first.script
    nodes = {id(command) for command in iter_simple_commands(second.script)}
    packages = second.packages()
    assert len(packages) == 3
    assert all(id(package.command) in nodes for package in packages)


@pytest.mark.parametrize("unsafe", [False, True])
def test_split_results_do_not_depend_on_earlier_files(unsafe: bool) -> None:
    """Every DF202 fixture, run again after the parse cache forgot every text (but other
    caches kept theirs), says and writes exactly what it did the first time."""
    assert SPLIT_CASES, "no DF202 fixtures found"
    first = {case: _outcome(case, unsafe) for case in SPLIT_CASES}
    parse_text.cache_clear()
    again = {case: _outcome(case, unsafe) for case in SPLIT_CASES}
    assert [case.name for case in SPLIT_CASES if again[case] != first[case]] == []


def _outcome(case: Path, unsafe: bool) -> tuple[str, str]:
    result = run_case(case, unsafe=unsafe)
    assert result.original == read(case)
    return findings_text(result), result.output
