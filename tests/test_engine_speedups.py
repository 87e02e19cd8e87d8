"""The engine's shortcuts give exactly what the long way gives.

* After the first round only rules whose fixes may apply run (``engine.can_apply``):
  sound only if no rule emits a fix of a kind it does not declare (``Rule.kinds``).
* A rule with ``keywords`` does not run on a file without those instructions: sound only
  if its findings sit on such instructions.
* ``verify`` re-reads only the edited nodes where that is the same as re-parsing the
  whole file (``engine.verify_changed``): the trees must be equal, node for node.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fixture_cases import cases, context_of, read

from dockfix import engine
from dockfix.edits import Applicability, Edit, Fix
from dockfix.engine import apply_fix, fix_document, verify, verify_whole
from dockfix.rules import ALL_RULES
from dockfix.rules.base import Finding, Rule, RuleContext, Settings
from dockfix.syntax import Dockerfile, ParseError, parse
from dockfix.syntax.nodes import Comment, Instruction, Node

CASES = cases()


def _inputs() -> Iterator[tuple[Path, str]]:
    for case in CASES:
        yield case, read(case)


def _same_tree(left: Dockerfile, right: Dockerfile) -> None:
    assert left.bom == right.bom
    assert left.to_string() == right.to_string()
    assert [type(n) for n in left.nodes] == [type(n) for n in right.nodes]
    assert left.nodes == right.nodes  # lines and columns of every piece included
    for a, b in zip(left.instructions, right.instructions, strict=True):
        assert engine.reading_key(a) == engine.reading_key(b)
        assert a.logical == b.logical
        assert a.segments == b.segments


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_incremental_verify_equals_whole_file(
    monkeypatch: pytest.MonkeyPatch, unsafe: bool
) -> None:
    """Every verification of every fixture's fix rounds, both ways."""
    calls = {"incremental": 0, "whole": 0}

    def both(before: Dockerfile, after: Dockerfile) -> tuple[Dockerfile | None, str]:
        whole, why = verify_whole(before, after)
        try:
            quick = engine.verify_changed(before, after)
        except ParseError:
            quick = None
        if quick is None:
            calls["whole"] += 1
        else:
            calls["incremental"] += 1
            assert whole is not None, why
            _same_tree(quick, whole)
        return whole, why

    monkeypatch.setattr(engine, "verify", both)
    settings = Settings(unsafe_fixes=unsafe)
    for case, text in _inputs():
        fix_document(parse(text), ALL_RULES, settings, path=case, context_dir=context_of(case))
    assert calls["incremental"] > calls["whole"]


def test_rules_emit_only_declared_fix_kinds_and_keywords(monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``can_apply`` and ``Rule.keywords`` rely on, over every fixture's rounds."""
    real_run = Rule.run
    seen: set[str] = set()

    def checked(rule: Rule, context: RuleContext) -> list[Finding]:
        found = real_run(rule, context)
        for finding in found:
            seen.add(rule.code)
            if finding.fix is not None:
                assert finding.fix.applicability in rule.kinds, (rule.code, finding)
            if rule.keywords:
                owner = _instruction_at(context.document, finding.line)
                assert owner is not None and owner.cmd in rule.keywords, (rule.code, finding)
        return found

    monkeypatch.setattr(Rule, "run", checked)
    monkeypatch.setattr(engine, "can_apply", lambda rule, settings: True)
    monkeypatch.setattr(Rule, "may_report", lambda rule, present: True)
    for unsafe in (False, True):
        for case, text in _inputs():
            fix_document(
                parse(text),
                ALL_RULES,
                Settings(unsafe_fixes=unsafe),
                path=case,
                context_dir=context_of(case),
            )
    assert {rule.code for rule in ALL_RULES if rule.keywords} <= seen


def _instruction_at(document: Dockerfile, line: int) -> Instruction | None:
    for instruction in document.instructions:
        if instruction.start_line <= line <= max(instruction.end_line, instruction.start_line):
            return instruction
    return None


def test_can_apply_follows_settings() -> None:
    by_code = {rule.code: rule for rule in ALL_RULES}
    unsafe_only = [r for r in ALL_RULES if r.kinds and Applicability.SAFE not in r.kinds]
    assert unsafe_only, "some rule fixes only unsafely"
    for rule in unsafe_only:
        assert not engine.can_apply(rule, Settings())
        assert engine.can_apply(rule, Settings(unsafe_fixes=True)) == (
            Applicability.UNSAFE in rule.kinds
        )
    never = [r for r in ALL_RULES if not r.kinds]
    for rule in never:
        assert not engine.can_apply(rule, Settings(unsafe_fixes=True))
    assert engine.can_apply(by_code["DF001"], Settings())


def test_keyword_rules_skip_files_without_their_instructions() -> None:
    ran: list[str] = []

    def spy(rule: Rule, context: RuleContext) -> Iterator[Finding]:
        ran.append(rule.code)
        return iter(())

    add_rule = Rule("DF999", "spy", "", Applicability.SAFE, spy, keywords=frozenset({"ADD"}))
    any_rule = Rule("DF998", "spy-all", "", Applicability.SAFE, spy)
    fix_document(parse("FROM alpine\nRUN true\n"), [add_rule, any_rule], Settings())
    assert ran == ["DF998"]
    ran.clear()
    fix_document(parse("FROM alpine\nADD a /a\n"), [add_rule, any_rule], Settings())
    assert ran == ["DF999", "DF998"]


def _replace(document: Dockerfile, index: int, text: str) -> Dockerfile:
    old = document.instructions[index]
    new = document.parse_instructions(text)
    return apply_fix(document, Fix((Edit(old, new),), Applicability.SAFE))


@pytest.mark.parametrize(
    ("text", "index", "new", "incremental"),
    [
        # same line count: only the edited instruction is re-read
        ("FROM a\nRUN x\nRUN y\n", 1, "RUN z\n", True),
        # more lines: the span runs to the end of the file
        ("FROM a\nRUN x\nRUN y\n", 1, "RUN z\nRUN w\n", True),
        # escape directive: the span is read with it
        ("# escape=`\nFROM a\nRUN x `\n  y\nRUN q\n", 1, "RUN z `\n  w\n", True),
        # heredoc after the edit
        ("FROM a\nRUN x\nRUN <<EOF\nhi\nEOF\n", 1, "RUN z\n", True),
        # file without a final line end
        ("FROM a\nRUN x\nRUN y", 2, "RUN z", True),
        # the first node changes: read from the top
        ("FROM a\nRUN x\n", 0, "FROM b\n", True),
        ("\ufeffFROM a\nRUN x\n", 0, "FROM b\nRUN y\n", True),
        # right after the directive block: read from the top, directives included
        ("# syntax=docker/dockerfile:1\nFROM a\nRUN x\n", 0, "FROM b\n", True),
        ("# escape=`\nFROM a\nRUN x `\n  y\n", 0, "FROM b\nRUN q\n", True),
    ],
)
def test_incremental_verify_cases(text: str, index: int, new: str, incremental: bool) -> None:
    before = parse(text)
    after = _replace(before, index, new)
    quick = engine.verify_changed(before, after)
    whole, why = verify_whole(before, after)
    assert whole is not None, why
    assert (quick is not None) == incremental
    if quick is not None:
        _same_tree(quick, whole)
    got, _ = verify(before, after)
    assert got is not None
    _same_tree(got, whole)


def test_incremental_verify_failures_take_the_whole_file_path() -> None:
    before = parse("FROM a\n# keep\nRUN x \\\n# inner\n  y\nRUN q\n")
    lost = _replace(before, 1, "RUN x y\n")
    assert engine.verify_changed(before, lost) is None
    got, why = verify(before, lost)
    assert got is None
    assert why == verify_whole(before, lost)[1]
    assert "loses comment lines" in why


def _edit_nodes(document: Dockerfile, index: int, new: tuple[Node, ...]) -> Dockerfile:
    old = document.nodes[index]
    return apply_fix(document, Fix((Edit(old, new),), Applicability.SAFE))


def test_incremental_verify_directive_edits() -> None:
    before = parse("# hello\nFROM a\nRUN x\n")
    directive = before.make_directive("syntax", "docker/dockerfile:1")
    first = before.nodes[0]
    # A directive put above a comment: read from the top, down to the first instruction.
    after = _edit_nodes(before, 0, (directive, first))
    quick = engine.verify_changed(before, after)
    whole, why = verify_whole(before, after)
    assert quick is not None and whole is not None, why
    _same_tree(quick, whole)
    # An edit of the first of two directives: the second must not be read after the span.
    before = parse("# syntax=docker/dockerfile:1\n# escape=`\nFROM a\n")
    replacement = before.make_directive("syntax", "docker/dockerfile:1.7")
    after = _edit_nodes(before, 0, (replacement,))
    assert engine.verify_changed(before, after) is None
    assert (
        verify(before, after)
        == verify_whole(before, after)
        == (
            None,
            "result turns the parser directive `# syntax=docker/dockerfile:1` into a comment",
        )
    )


@pytest.mark.parametrize(
    ("text", "inserted"),
    [
        # a plain comment first: the span reads as a rule's own parse of it
        ("FROM a\nRUN x\nRUN y\n", "# note\nRUN z\n"),
        # first lines that would be directives (or bad ones) at the top of a text alone
        ("FROM a\nRUN x\nRUN y\n", "# syntax=foo\nRUN z\n"),
        ("FROM a\nRUN x\nRUN y\n", "# escape=x\nRUN z\n"),
        ("# escape=`\nFROM a\nRUN x\nRUN y\n", "# escape=\\\nRUN z\n"),
        ("# escape=`\nFROM a\nRUN x\nRUN y\n", "# syntax=foo\nRUN z `\n  w\n"),
        ("# escape=`\nFROM a\nRUN x\nRUN y\n", "# note\nRUN z `\n  w\n"),
    ],
)
def test_incremental_verify_reads_a_span_below_the_directive_block(
    text: str, inserted: str
) -> None:
    """A span's first line is read with the directive block over, as in the whole file."""
    before = parse(text)
    head = "" if before.escape == "\\" else f"# escape={before.escape}\n"
    donor = parse(head + "FROM z\n" + inserted)
    start = next(i for i, n in enumerate(donor.nodes) if n is donor.instructions[0]) + 1
    index = next(i for i, n in enumerate(before.nodes) if n is before.instructions[1])
    after = _edit_nodes(before, index, donor.nodes[start:])
    quick = engine.verify_changed(before, after)
    whole, why = verify_whole(before, after)
    assert quick is not None and whole is not None, why
    _same_tree(quick, whole)
    assert isinstance(quick.nodes[index], Comment)


def test_incremental_verify_open_continuation() -> None:
    """A span whose last line continues would swallow the tail: the whole-file path."""
    before = parse("FROM a\nRUN x\nRUN y\n")
    old = before.instructions[1]
    (new,) = before.parse_instructions("RUN x \\\n")
    after = Dockerfile(before.bom, tuple(new if n is old else n for n in before.nodes))
    assert engine.verify_changed(before, after) is None
    got, why = verify(before, after)
    assert got is None
    assert why == verify_whole(before, after)[1]


@pytest.mark.parametrize(
    "edits",
    [
        # two runs, the first adding a line: the nodes between and after move down
        [(1, ("RUN a\n", "RUN b\n")), (3, ("RUN c\n",))],
        # a deletion and an insertion
        [(1, ()), (3, ("RUN c\n", "# note\n", "RUN d\n"))],
        # a run at the top and one at the end
        [(0, ("FROM b\n",)), (4, ('CMD ["x"]\n',))],
    ],
)
def test_incremental_verify_several_runs(edits: list[tuple[int, tuple[str, ...]]]) -> None:
    before = parse("FROM a\nRUN x\n# keep\nRUN y\nCMD x\n")
    fixes = []
    for index, texts in edits:
        old = before.nodes[index]
        new = parse("FROM z\n" + "".join(texts)).nodes[1:]  # new nodes, as rules make
        fixes.append(Fix((Edit(old, tuple(new)),), Applicability.SAFE))
    after = before
    for fix in fixes:
        after = apply_fix(after, fix)
    assert len(engine.changed_regions(before, after)) == len(edits)
    quick = engine.verify_changed(before, after)
    whole, why = verify_whole(before, after)
    assert quick is not None and whole is not None, why
    _same_tree(quick, whole)


def test_parse_fragment_hands_out_fresh_equal_nodes() -> None:
    """A remembered parse gives equal trees whose nodes, pieces and heredocs are new
    objects each time (edits find them by identity) with nothing cached on them."""
    from dockfix.syntax.document import parse_fragment

    text = "# a comment\n\nRUN --mount=type=cache,target=/x echo hi\nCOPY <<EOF /a\nbody\nEOF\n"
    first, second = parse_fragment(text), parse_fragment(text)
    _same_tree(first, parse(text))
    _same_tree(second, parse(text))
    for a, b in zip(first.nodes, second.nodes, strict=True):
        assert a is not b
    first.instructions[0].flags  # noqa: B018 - caches a property on the first copy only
    for a, b in zip(first.instructions, second.instructions, strict=True):
        assert "flags" not in b.__dict__
        assert not {id(p) for p in a.pieces} & {id(p) for p in b.pieces}
        assert not {id(h) for h in a.heredocs} & {id(h) for h in b.heredocs}
    with pytest.raises(ParseError):
        parse_fragment("RUN <<EOF\nnever ends\n")


def test_fresh_node_copies_every_field() -> None:
    """``fresh_node`` lists each node class's fields by hand: a new field must be added there."""
    import dataclasses

    from dockfix.syntax.nodes import BlankLine, Comment, Directive, Heredoc, Piece

    line_fields = ("text", "eol", "line", "column")
    instruction_fields = ("pieces", "heredocs", "reading", "logical", "start_line", "end_line")
    known = {
        Piece: ("kind", "text", "line", "column"),
        Heredoc: ("name", "lines", "terminator", "eol", "line"),
        Instruction: (*instruction_fields, "segments"),
        Comment: line_fields,
        BlankLine: line_fields,
        Directive: line_fields,
    }
    for cls, names in known.items():
        assert tuple(field.name for field in dataclasses.fields(cls)) == names
