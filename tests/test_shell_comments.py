"""``#`` comments inside RUNs are the author's text: the verifier drops a fix that
loses one or changes its text, which is also what a command joined after one does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from throwaway_rule import one_fix_rule

from dockfix.edits import Applicability, Edit, Fix
from dockfix.engine import fix_document, verify
from dockfix.rules.base import Settings
from dockfix.shell.comments import shell_comments
from dockfix.syntax import Dockerfile, Instruction, parse


@pytest.mark.parametrize(
    ("text", "comments"),
    [
        ("apt-get update # refresh", ("# refresh",)),
        ("apt-get update", ()),
        ("echo \"a # b\" 'c # d'", ()),
        ("echo ${x#y} a#b", ()),
        ("echo a && echo b # one # two", ("# one # two",)),
        # A comment inside a backtick substitution is part of its word, and must not
        # swallow what follows the closing backtick.
        ("apt-get install -y git `# for composer` unzip `# ditto`", ()),
    ],
)
def test_the_grammar_finds_the_comments(text: str, comments: tuple[str, ...]) -> None:
    assert shell_comments(text) == comments


@given(st.text(alphabet="ab #'\"$`{}\\;&|\n", max_size=40))
def test_any_text_gives_an_answer_and_texts_without_hash_none(text: str) -> None:
    found = shell_comments(text)
    assert all(comment.startswith("#") for comment in found)
    if "#" not in text:
        assert found == ()


def _joined_after_the_comment(document: Dockerfile) -> Fix | None:
    """What DF102 used to do: ``RUN a # note`` + ``RUN b`` -> ``RUN a # note && \\ b``."""
    runs = [node for node in document.nodes if isinstance(node, Instruction) and node.cmd == "RUN"]
    if len(runs) != 2:
        return None
    merged = document.make_instruction(
        f"{runs[0].to_string().rstrip()} && \\\n    {runs[1].value[0]}\n"
    )
    return Fix((Edit(runs[0], (merged,)), Edit(runs[1], ())), Applicability.SAFE)


TEXT = "FROM debian:12\nRUN apt-get update # refresh\nRUN apt-get install -y curl\n"


def test_a_command_joined_after_a_comment_is_dropped() -> None:
    result = fix_document(parse(TEXT), [one_fix_rule(_joined_after_the_comment)], Settings())
    assert result.output == TEXT
    (problem,) = result.problems
    assert "DF999 fix dropped: result loses comment lines" in problem.message
    assert "# refresh (in a RUN)" in problem.message


def test_deleting_a_run_with_a_comment_fails_verify_on_both_paths() -> None:
    before = parse(TEXT)
    after = Dockerfile(before.bom, (before.nodes[0], before.nodes[2]))
    verified, why = verify(before, after)
    assert verified is None
    assert "# refresh (in a RUN)" in why


def test_a_fix_that_keeps_the_comment_passes() -> None:
    before = parse(TEXT)
    changed = before.make_instruction("RUN apt-get update -q # refresh\n")
    after = Dockerfile(before.bom, (before.nodes[0], changed, before.nodes[2]))
    verified, why = verify(before, after)
    assert why == ""
    assert verified is not None
    assert verified.to_string() == after.to_string()
