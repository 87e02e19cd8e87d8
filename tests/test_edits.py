"""The one edit model (``dockfix.edits``): fixes built through the insertion guards, an
engine that refuses raw edits breaking them, and verification that keeps directives."""

from __future__ import annotations

import pytest
from throwaway_rule import one_fix_rule

from dockfix.edits import Applicability, Edit, Fix, FixBuilder, rewrite_shell, splice_shell
from dockfix.engine import EditRefused, apply_fix, apply_fixes, fix_document, verify
from dockfix.model.runs import RunShell, run_shell
from dockfix.problems import Problem
from dockfix.rules.base import Settings
from dockfix.syntax import Dockerfile, Instruction, parse

SYNTAX = "# syntax=docker/dockerfile:1\nFROM python:3.12-slim\nRUN echo hi\n"


def test_a_raw_edit_above_a_syntax_directive_is_refused() -> None:
    document = parse(SYNTAX)
    directive = document.nodes[0]
    label = document.make_instruction("LABEL a=b")
    fix = Fix((Edit(directive, (label, directive)),), Applicability.SAFE)
    with pytest.raises(EditRefused, match="parser directive"):
        apply_fix(document, fix)


def test_the_engine_drops_such_a_fix_with_a_problem() -> None:
    def make_fix(document: Dockerfile) -> Fix | None:
        directive = document.nodes[0]
        if not isinstance(document.nodes[1], Instruction) or document.nodes[1].cmd != "FROM":
            return None
        label = document.make_instruction("LABEL a=b")
        return Fix((Edit(directive, (label, directive)),), Applicability.SAFE)

    result = fix_document(parse(SYNTAX), [one_fix_rule(make_fix)], Settings())
    assert result.output == SYNTAX
    assert result.problems == (
        Problem(
            2,
            1,
            "internal error: DF999 fix dropped: an edit puts a line above the parser "
            "directive `# syntax=docker/dockerfile:1`",
        ),
    )


def test_the_builder_puts_the_same_insertion_below_the_directives() -> None:
    document = parse(SYNTAX)
    label = document.make_instruction("LABEL a=b")
    fix = FixBuilder(document).insert_before(document.nodes[0], label).build(Applicability.SAFE)
    fixed = apply_fix(document, fix)
    assert fixed.to_string() == (
        "# syntax=docker/dockerfile:1\nLABEL a=b\nFROM python:3.12-slim\nRUN echo hi\n"
    )
    assert verify(document, fixed)[1] == ""


def test_builder_prepend_keeps_directives_first_and_a_new_directive_goes_first() -> None:
    document = parse(SYNTAX)
    arg = document.make_instruction("ARG V=1")
    escape = document.make_directive("check", "skip=all")
    builder = FixBuilder(document).prepend(arg).prepend(escape)
    fixed = apply_fix(document, builder.build(Applicability.SAFE))
    assert fixed.to_string().splitlines()[:4] == [
        "# check=skip=all",
        "# syntax=docker/dockerfile:1",
        "ARG V=1",
        "FROM python:3.12-slim",
    ]


def test_builder_merges_edits_of_one_node() -> None:
    document = parse(SYNTAX)
    run = document.instructions[1]
    new_run = document.make_instruction("RUN echo bye")
    env = document.make_instruction("ENV A=1")
    user = document.make_instruction("USER app")
    builder = FixBuilder(document).insert_before(run, env).replace(run, new_run)
    builder.insert_after(run, user)
    assert builder.replaced(run)
    (edit,) = builder.edits()
    assert edit.old is run
    assert [node.to_string() for node in edit.new] == ["ENV A=1\n", "RUN echo bye\n", "USER app\n"]


def test_builder_refuses_to_insert_after_a_dangling_continuation() -> None:
    document = parse("FROM a\nRUN echo \\\n")
    run = document.instructions[1]
    with pytest.raises(ValueError, match="continuation"):
        FixBuilder(document).insert_after(run, document.make_instruction("USER app"))


def test_a_raw_edit_after_a_dangling_continuation_is_refused() -> None:
    document = parse("FROM a\nRUN echo \\\n")
    run = document.instructions[1]
    user = document.make_instruction("USER app")
    with pytest.raises(EditRefused, match="join"):
        apply_fix(document, Fix((Edit(run, (run, user)),), Applicability.SAFE))


def test_a_directive_demoted_to_a_comment_fails_verify() -> None:
    before = parse(SYNTAX)
    # The same lines, but with a comment above the directive: it now reads as a comment,
    # so the comment-line multiset alone would not notice.
    after = parse("# note\n" + SYNTAX)
    checked, why = verify(before, after)
    assert checked is None
    assert why == "result turns the parser directive `# syntax=docker/dockerfile:1` into a comment"


def test_rewrite_shell_inserts_after_a_word_before_a_continuation() -> None:
    document = parse("FROM a\nRUN apt-get install \\\n    curl\n")
    shell = run_shell(document.instructions[1])
    assert shell is not None and not isinstance(shell, str)
    end = shell.script.text.index("install") + len("install")
    new = rewrite_shell(document, shell, [(end, end, " -y")])
    assert new.to_string() == "RUN apt-get install -y \\\n    curl\n"
    replaced = rewrite_shell(document, shell, [(0, len("apt-get"), "apt")])
    assert replaced.to_string() == "RUN apt install \\\n    curl\n"


def test_builder_insert_after_a_last_line_without_a_line_ending_keeps_the_ending() -> None:
    document = parse("FROM a\nRUN echo hi")
    run = document.instructions[1]
    user = document.make_instruction("USER app")
    fixed = apply_fix(
        document, FixBuilder(document).insert_after(run, user).build(Applicability.SAFE)
    )
    assert fixed.to_string() == "FROM a\nRUN echo hi\nUSER app"


def _shell_of(document: Dockerfile, index: int = 1) -> RunShell:
    shell = run_shell(document.instructions[index])
    assert shell is not None and not isinstance(shell, str)
    return shell


def test_splice_shell_keeps_a_crossed_comment_on_the_next_continued_line() -> None:
    document = parse("FROM a\nRUN apk add \\\n    # compilers\n    gcc \\\n    # tools\n    curl\n")
    shell = _shell_of(document)
    text = shell.script.text
    start = text.index("add") + len("add")
    end = text.index("gcc") + len("gcc")
    splice = splice_shell(document, shell, [(start, end, "")])
    assert splice.instruction.to_string() == (
        "RUN apk add \\\n    # compilers\n    # tools\n    curl\n"
    )
    assert splice.above == ()
    assert splice.instruction.value == ("apk add     curl",)


def test_splice_shell_puts_a_comment_above_a_run_left_with_one_line() -> None:
    document = parse("FROM a\nRUN apk update && apk add \\\n    # compilers\n    gcc\n")
    shell = _shell_of(document)
    text = shell.script.text
    start = text.index("update") + len("update")
    splice = splice_shell(document, shell, [(start, len(text), "")])
    assert splice.instruction.to_string() == "RUN apk update\n"
    assert [comment.to_string() for comment in splice.above] == ["# compilers\n"]


def test_splice_shell_keeps_comments_with_the_backtick_escape() -> None:
    document = parse("# escape=`\nFROM a\nRUN apk add `\n    # compilers\n    gcc `\n    curl\n")
    shell = _shell_of(document)
    text = shell.script.text
    start = text.index("add") + len("add")
    end = text.index("gcc") + len("gcc")
    splice = splice_shell(document, shell, [(start, end, "")])
    assert splice.instruction.to_string() == "RUN apk add `\n    # compilers\n    curl\n"


def test_rewrite_shell_without_comments_in_the_way_is_unchanged() -> None:
    document = parse("FROM a\nRUN apk add gcc \\\n    curl\n")
    shell = _shell_of(document)
    start = shell.script.text.index("gcc")
    assert rewrite_shell(document, shell, [(start, start + len("gcc "), "")]).to_string() == (
        "RUN apk add \\\n    curl\n"
    )


def test_fixes_applied_in_one_pass_equal_one_after_another() -> None:
    document = parse("FROM a\nENV A 1\nENV B 2\nLABEL x y\nCMD c\n")
    env_a, env_b, label = document.nodes[1], document.nodes[2], document.nodes[3]
    fixes = [
        Fix((Edit(env_a, (document.make_instruction("ENV A=1"),)),), Applicability.SAFE),
        Fix((Edit(env_b, ()),), Applicability.SAFE),
        Fix((Edit(label, (document.make_instruction("LABEL z=1"), label)),), Applicability.SAFE),
    ]
    one_by_one = document
    for fix in fixes:
        one_by_one = apply_fix(one_by_one, fix)
    assert apply_fixes(document, fixes).to_string() == one_by_one.to_string()
    assert one_by_one.to_string() == "FROM a\nENV A=1\nLABEL z=1\nLABEL x y\nCMD c\n"


def test_two_fixes_of_one_node_are_refused_in_one_pass() -> None:
    document = parse("FROM a\nENV A 1\n")
    env = document.nodes[1]
    fixes = [
        Fix((Edit(env, (document.make_instruction("ENV A=1"),)),), Applicability.SAFE),
        Fix((Edit(env, ()),), Applicability.SAFE),
    ]
    with pytest.raises(EditRefused, match="two edits of one node"):
        apply_fixes(document, fixes)
