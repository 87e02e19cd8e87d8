"""Where tree-sitter-bash reads sh differently, the model must still say what sh does.

Each case here is a tree shape (or a silent misreading) found while moving the
parser to tree-sitter-bash; see ``dockfix/shell/_tree.py`` and ``_convert.py``.
"""

from __future__ import annotations

import pytest

from dockfix.shell import (
    ListNode,
    Pipeline,
    ShellParseError,
    SimpleCommand,
    Word,
    command_name,
    iter_simple_commands,
    parse_shell,
    top_level_and_chain,
)


def words_of(text: str) -> list[list[str]]:
    return [[w.text for w in c.words] for c in iter_simple_commands(parse_shell(text))]


def assert_exact(text: str) -> None:
    for command in iter_simple_commands(parse_shell(text)):
        for word in (*command.words, *command.assignments):
            assert word.text == text[word.start : word.end]
        for redirect in command.redirects:
            assert redirect.text == text[redirect.start : redirect.end]


def test_lone_dash_before_a_redirection_is_kept() -> None:
    """tree-sitter drops the ``-`` of ``apt-key add - 2>/dev/null`` without any error."""
    text = "curl -fsSL https://x/gpg | apt-key add - 2>/dev/null && apt-get update"
    assert words_of(text)[1] == ["apt-key", "add", "-"]
    assert_exact(text)


def test_words_after_a_redirection_belong_to_the_command() -> None:
    """tree-sitter hangs ``"x y" a`` on the ``>&2`` redirection."""
    cmd = parse_shell('echo >&2 "x y" a').body.items[0]
    assert isinstance(cmd, SimpleCommand)
    assert [w.text for w in cmd.words] == ["echo", '"x y"', "a"]
    assert [r.text for r in cmd.redirects] == [">&2"]
    # A classic Dockerfile bug: `pkg>=1.0` redirects to a file named `=1.0`.
    cmd = parse_shell("pip install a>=1.0 b>=2").body.items[0]
    assert [w.text for w in cmd.words] == ["pip", "install", "a", "b"]
    assert [r.target.text for r in cmd.redirects if r.target] == ["=1.0", "=2"]


def test_pipe_binds_tighter_than_and() -> None:
    """tree-sitter nests ``b | c && d`` under the first pipe of ``a | b | c && d``."""
    script = parse_shell("a | b | c && d")
    first, second = script.body.items
    assert isinstance(first, Pipeline) and len(first.commands) == 3
    assert isinstance(second, SimpleCommand)
    assert [op.text for op in script.body.operators] == ["&&"]
    script = parse_shell("set -o pipefail && find . 2>/dev/null | cpio -o")
    assert [type(item).__name__ for item in script.body.items] == ["SimpleCommand", "Pipeline"]


def test_here_document_followed_by_a_pipe_and_a_list() -> None:
    script = parse_shell("cat <<EOF | sh -s && x\nbody\nEOF\n")
    pipeline, last = script.body.items
    assert isinstance(pipeline, Pipeline)
    assert [command_name(c) for c in pipeline.commands] == ["cat", "sh"]
    assert pipeline.commands[0].redirects[0].heredoc == Word("body\nEOF", 23, 31)
    assert isinstance(last, SimpleCommand) and command_name(last) == "x"


def test_negation_covers_the_whole_pipeline() -> None:
    pipeline = parse_shell("! a 2>&1 | b").body.items[0]
    assert isinstance(pipeline, Pipeline) and pipeline.negated
    assert [command_name(c) for c in pipeline.commands] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("echo `a` `b`", [["echo", "`a`", "`b`"]]),
        ("cp `which a` `dirname b`/x", [["cp", "`which a`", "`dirname b`/x"]]),
        ('echo "`a` `b`" c', [["echo", '"`a` `b`"', "c"]]),
        ("echo '`' `b`", [["echo", "'`'", "`b`"]]),
        ("apt-get install `# why` curl `# and` git", [["apt-get", "install", "curl", "git"]]),
    ],
)
def test_backticks_end_at_the_next_backtick(text: str, expected: list[list[str]]) -> None:
    """tree-sitter reads ```a` `b``` as one substitution; sh ends it at the second backtick."""
    found = words_of(text)
    if "#" in text:  # comment-only substitutions are words too, just not package names
        found = [[w for w in words if not w.startswith("`#")] for words in found]
    assert found == expected
    assert_exact(text)


def test_invalid_command_in_backticks_is_an_error() -> None:
    with pytest.raises(ShellParseError) as caught:
        parse_shell("echo `a && ` b")
    assert caught.value.offset == 5


def test_option_looking_assignments_are_words() -> None:
    """tree-sitter takes ``--opt=v`` for an assignment to a variable named ``--opt``."""
    assert words_of("--opt=v --opt=v x") == [["--opt=v", "--opt=v", "x"]]
    assert words_of("--opt=v") == [["--opt=v"]]
    cmd = parse_shell("A=1 --o=v --p=w").body.items[0]
    assert [w.text for w in cmd.assignments] == ["A=1"]
    assert [w.text for w in cmd.words] == ["--o=v", "--p=w"]


def test_assignment_split_after_substitution_is_rejoined() -> None:
    """tree-sitter ends ``U=a/$(b)/$C/d`` at ``/$``; it is one assignment."""
    text = 'U=https://x/$(echo "$P" | tr -d .)/$V/f.tgz curl "$U"'
    cmd = parse_shell(text).body.items[0]
    assert [w.text for w in cmd.assignments] == [text.split(" curl")[0]]
    assert [w.text for w in cmd.words] == ["curl", '"$U"']


def test_special_characters_glued_over_blanks_are_split() -> None:
    """``] }`` comes back as one ``word`` node."""
    assert words_of("echo ] } {} x") == [["echo", "]", "}", "{}", "x"]]


@pytest.mark.parametrize(
    "text",
    [
        "upx x; done",  # a closing keyword where a command starts
        "a;; b",  # ;; outside case
        "{ }",  # empty group
        "if a; then fi",  # empty then-part
        "a | ! b",  # ! after a pipe
        "cat <\n file",  # redirection target on the next line
        "Write-Host ('x' -f $y)",  # name ( ... ): a function definition gone wrong
    ],
)
def test_what_bash_rejects_is_an_error(text: str) -> None:
    with pytest.raises(ShellParseError) as caught:
        parse_shell(text)
    assert 0 <= caught.value.offset <= len(text)


def test_non_ascii_offsets_are_str_indices() -> None:
    """tree-sitter counts UTF-8 bytes; the model counts characters."""
    text = "echo 'héllo wörld' 🐳 && apt-get install -y 日本 `naïve` \"ü\"x"
    assert words_of(text) == [
        ["echo", "'héllo wörld'", "🐳"],
        ["apt-get", "install", "-y", "日本", "`naïve`", '"ü"x'],
    ]
    assert_exact(text)
    with pytest.raises(ShellParseError) as caught:
        parse_shell("echo é 'x")
    assert caught.value.offset == 7


def test_comment_between_commands_and_trailing_newlines() -> None:
    script = parse_shell("a && \\\n  b # c\n\n")
    assert top_level_and_chain(script) is not None
    body = parse_shell("if a\nthen\n  b\nfi").body.items[0].bodies[1]
    assert isinstance(body, ListNode) and [op.text for op in body.operators] == ["\n"]
