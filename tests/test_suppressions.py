"""Suppression comments: dockfix's, hadolint's and BuildKit's, and the pragma guard.

A suppressed finding is neither reported nor fixed; ``--ignore-noqa`` turns every
pragma off; the opt-in DF900 reports dockfix pragmas that silence nothing; and no fix
may move a pragma away from the instruction it applies to.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dockfix.cli import main
from dockfix.engine import FixResult, fix_document, verify
from dockfix.rules import ALL_RULES, lookup, select_rules
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext, Settings
from dockfix.suppressions import BUILDKIT_CHECKS, HADOLINT_CODES, collect, moved_pragma
from dockfix.syntax import Dockerfile, parse
from dockfix.syntax.nodes import Comment


def run(text: str, *codes: str, unsafe: bool = False, ignore_noqa: bool = False) -> FixResult:
    rules = tuple(r for r in ALL_RULES if r.code in codes) if codes else select_rules()
    settings = Settings(unsafe_fixes=unsafe, ignore_noqa=ignore_noqa)
    return fix_document(parse(text), rules, settings)


def codes_of(result: FixResult) -> list[tuple[int, str]]:
    return [(f.line, f.code) for f in result.findings]


APT = "FROM debian:12\n{pragma}RUN apt-get install curl\n"


@pytest.mark.parametrize(
    "pragma",
    [
        "# dockfix: ignore[DF104] we want the prompt\n",
        "# dockfix: ignore[DF106, DF104]\n",
        "# dockfix: ignore[apt-install-without-yes]\n",
        "# dockfix: ignore\n",
        "#dockfix:ignore[df104]\n",
        "# dockfix: ignore[DF104]\n# an ordinary comment in the same block\n",
        "# hadolint ignore=DL3014\n",
        "# hadolint ignore=DL3008,DL3014\n",
        "# dockfix: ignore-file[DF104]\n\n",
        "# hadolint global ignore=DL3014\n\n",
    ],
)
def test_pragma_silences_and_keeps_the_instruction(pragma: str) -> None:
    text = APT.format(pragma=pragma)
    result = run(text, "DF104")
    assert codes_of(result) == []
    assert result.output == text


@pytest.mark.parametrize(
    "pragma",
    [
        "# dockfix: ignore[DF104]\n\n",  # a blank line ends the block
        "# dockfix: ignore[DF108]\n",  # another rule
        "# hadolint ignore=DL3008\n",  # maps to nothing of ours
        "# dockfix: ignored\n",  # not the keyword
        "# dockfix ignore[DF104]\n",  # no colon
    ],
)
def test_pragma_that_does_not_apply(pragma: str) -> None:
    result = run(APT.format(pragma=pragma), "DF104")
    assert [code for _, code in codes_of(result)] == ["DF104"]
    assert "apt-get install -y curl" in result.output


def test_ignore_noqa_disables_every_pragma() -> None:
    text = (
        "# check=skip=all\nFROM debian:12\n# hadolint ignore=DL3014\n"
        "RUN apt-get install curl\n# dockfix: ignore-file\nCMD python app.py\n"
    )
    assert codes_of(run(text, "DF104", "DF204")) == []
    result = run(text, "DF104", "DF204", ignore_noqa=True)
    assert codes_of(result) == [(4, "DF104"), (6, "DF204")]


def test_finding_on_a_continuation_line_belongs_to_its_instruction() -> None:
    text = (
        "FROM debian:12\n# dockfix: ignore[DF104]\nRUN apt-get update && \\\n"
        "    apt-get install curl\n"
    )
    result = run(text, "DF104")
    assert codes_of(result) == []
    assert run(text, "DF104", ignore_noqa=True).findings[0].line == 4


def test_pragmas_follow_their_instruction_across_rounds() -> None:
    """Round one inserts lines above the suppressed RUN; the pragma still holds there."""
    text = (
        "FROM python:3.11-slim\nMAINTAINER me\nRUN apt-get install -y curl\n"
        "# dockfix: ignore[DF104]\nRUN apt-get install wget\nRUN apt-get install vim\n"
    )
    result = run(text, "DF003", "DF104", "DF205")
    assert not result.problems
    assert "RUN apt-get install wget\n" in result.output
    assert "apt-get install -y vim" in result.output
    assert result.output.count("\n") > text.count("\n")  # lines did move


def _edit_env(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    """A test rule reported on the last instruction whose fix rewrites ``ENV A=1``."""
    document = context.document
    env = next(i for i in document.instructions if i.cmd == "ENV")
    if env.value == ("A", "1"):
        edit = Edit(env, (document.make_instruction("ENV A=2"),))
        yield rule.finding("rewrite ENV", document.instructions[-1], edits=[edit])


EDIT_ENV = Rule("DF998", "edit-env", "test", Applicability.SAFE, _edit_env)


def test_fix_touching_a_suppressed_instruction_is_suppressed() -> None:
    """Reported on the CMD, but it would rewrite the ENV whose pragma covers the rule."""
    text = 'FROM debian:12\n# dockfix: ignore\nENV A=1\nCMD ["x"]\n'
    result = fix_document(parse(text), (EDIT_ENV,), Settings())
    assert codes_of(result) == []
    assert result.output == text
    loud = fix_document(parse(text), (EDIT_ENV,), Settings(ignore_noqa=True))
    assert codes_of(loud) == [(4, "DF998")]
    assert "ENV A=2" in loud.output


def test_consecutive_runs_with_a_pragma_on_either_run_stay_apart() -> None:
    for text in (
        "FROM debian:12\n# dockfix: ignore[DF102]\nRUN echo a\nRUN echo b\n",
        "FROM debian:12\nRUN echo a\n# hadolint ignore=DL3059\nRUN echo b\n",
    ):
        result = run(text, "DF102")
        assert codes_of(result) == []
        assert result.output == text


@pytest.mark.parametrize("directive", ["# check=skip=JSONArgsRecommended", "#check=skip=all"])
def test_buildkit_check_skip(directive: str) -> None:
    text = f"# syntax=docker/dockerfile:1\n{directive}\nFROM debian:12\nCMD python app.py\n"
    result = run(text, "DF204")
    assert codes_of(result) == []
    assert result.output == text


def test_buildkit_check_only_in_the_header() -> None:
    text = "FROM debian:12\n# check=skip=all\nCMD python app.py\n"
    assert [code for _, code in codes_of(run(text, "DF204"))] == ["DF204"]


def test_buildkit_skip_all_is_buildkit_checks_only() -> None:
    text = "# check=skip=all;error=true\nFROM debian:12\nRUN apt-get install curl\n"
    assert [code for _, code in codes_of(run(text, "DF104"))] == ["DF104"]


def test_mapping_tables_name_real_rules() -> None:
    known = {rule.code for rule in ALL_RULES}
    for table in (HADOLINT_CODES, BUILDKIT_CHECKS):
        for key, codes in table.items():
            assert set(codes) <= known, key
    for code in HADOLINT_CODES:
        rule = lookup(HADOLINT_CODES[code][0])
        assert rule is not None


# -- DF900 unused-suppression (opt-in) ----------------------------------------------


def test_unused_suppression_is_opt_in() -> None:
    assert "DF900" not in {rule.code for rule in select_rules()}
    assert "DF900" not in {rule.code for rule in select_rules(["ALL"])}
    assert "DF900" not in {rule.code for rule in select_rules(["DF"])}
    for selector in ("DF900", "DF9", "unused-suppression", "DF104,DF900"):
        assert "DF900" in {rule.code for rule in select_rules([selector])}, selector
    assert lookup("DF900") is not None and not lookup("DF900").default_enabled  # type: ignore[union-attr]


def test_unused_suppression_reports_only_dockfix_pragmas() -> None:
    text = (
        "FROM debian:12\n# dockfix: ignore[DF104]\nRUN apt-get install curl\n"
        "# dockfix: ignore[DF104]\nRUN echo hi\n# hadolint ignore=DL3014\nRUN echo ho\n"
    )
    result = run(text, "DF104", "DF900")
    assert codes_of(result) == [(4, "DF900")]
    assert "unused code DF104" in result.findings[0].message
    assert result.output == text
    assert codes_of(run(text, "DF104", "DF900", ignore_noqa=True)) == [(3, "DF104")]


def test_unused_suppression_can_be_silenced_file_wide() -> None:
    text = "# dockfix: ignore-file[DF900]\nFROM debian:12\n# dockfix: ignore\nRUN echo hi\n"
    assert codes_of(run(text, "DF104", "DF900")) == []


# -- the pragma guard ---------------------------------------------------------------


def _mover(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    """A test rule that moves the comment above the last RUN to the top of the file."""
    document = context.document
    run_node = document.instructions[-1]
    index = document.nodes.index(run_node)
    comment = document.nodes[index - 1]
    if isinstance(comment, Comment) and index > 1:
        yield rule.finding(
            "move",
            run_node,
            edits=[Edit(comment, ()), Edit(document.nodes[0], (comment, document.nodes[0]))],
        )


MOVER = Rule("DF999", "mover", "test", Applicability.SAFE, _mover)


@pytest.mark.parametrize(
    ("comment", "dropped"),
    [
        ("# hadolint ignore=DL3008", True),
        ("# dockfix: ignore[DF104]", True),
        ("# an ordinary comment", False),
        ("# hadolint global ignore=DL3008", False),
    ],
)
def test_fix_that_moves_a_pragma_is_dropped(comment: str, dropped: bool) -> None:
    text = f"FROM debian:12\nENV A=1\n{comment}\nRUN apt-get install -y curl\n"
    result = fix_document(parse(text), (MOVER,), Settings())
    if dropped:
        assert result.output == text
        assert result.problems and "breaks a suppression" in result.problems[0].message
    else:
        assert not result.problems
        assert result.output.startswith(comment)


def test_pragma_may_stay_above_the_instruction_that_replaced_its_own() -> None:
    text = "FROM debian:12\n# hadolint ignore=DL3008\nRUN apt-get install curl\n"
    result = run(text, "DF104")
    assert not result.problems
    assert result.output.endswith("# hadolint ignore=DL3008\nRUN apt-get install -y curl\n")


def test_moved_pragma_compares_identities() -> None:
    before = parse("FROM a\n# hadolint ignore=DL3008\nRUN x\nRUN y\n")
    run_x, run_y = before.instructions[1:]
    swapped = Dockerfile(before.bom, (*before.nodes[:2], run_y, run_x))
    assert "moved away" in moved_pragma(before, swapped)
    checked, why = verify(before, swapped)
    assert checked is None and "breaks a suppression" in why
    assert moved_pragma(before, before) == ""


def test_collect_attaches_to_nodes() -> None:
    document = parse("FROM a\n# dockfix: ignore[DF104]\n# note\nRUN x\n\n# dockfix: ignore\n")
    found = collect(document)
    run_node = document.instructions[1]
    assert [p.codes for p in found.by_instruction[id(run_node)]] == [frozenset({"DF104"})]
    assert [p.line for p in found.dangling] == [6]


# -- through the command line -------------------------------------------------------


def test_cli_honours_pragmas_and_ignore_noqa(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    text = APT.format(pragma="# hadolint ignore=DL3014\n")
    path.write_text(text)
    runner = CliRunner()
    quiet = runner.invoke(main, ["--select", "DF104", "--check", str(path)])
    assert quiet.exit_code == 0, quiet.output
    loud = runner.invoke(main, ["--select", "DF104", "--ignore-noqa", str(path)])
    assert loud.exit_code == 1
    assert "DF104" in loud.output
    written = runner.invoke(main, ["--select", "DF104", "--write", str(path)])
    assert written.exit_code == 0
    assert path.read_text() == text


def test_cli_subprocess_reports_unused_suppressions(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM debian:12\n# dockfix: ignore[DF104]\nRUN echo hi\n")
    command = [sys.executable, "-m", "dockfix", "--select", "DF104,DF900", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr  # a report-only finding (see --fail-on)
    assert f"{path}:2:1: DF900 unused suppression (unused code DF104)" in done.stdout
    default = subprocess.run([*command[:3], str(path)], capture_output=True, text=True)
    assert "DF900" not in default.stdout
    assert "Traceback" not in done.stderr + default.stderr
