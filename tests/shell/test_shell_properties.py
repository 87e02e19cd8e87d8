"""Property tests: whatever the input, parse_shell fails cleanly or gives exact offsets."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockfix.shell import (
    Compound,
    ShellParseError,
    ShellScript,
    SimpleCommand,
    classify,
    iter_nodes,
    iter_simple_commands,
    parse_shell,
    top_level_and_chain,
)

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Words a RUN line really contains, including the constructs the parser needs help with.
WORDS = st.sampled_from(
    [
        "apt-get",
        "install",
        "-y",
        "--no-install-recommends",
        "pip",
        "--no-cache-dir",
        "-r",
        "requirements.txt",
        "/var/lib/apt/lists/*",
        "'single quoted'",
        '"double $HOME"',
        '"$(cd /src && git rev-parse HEAD)"',
        "$(( 1 + 2 ))",
        "${VAR:-default}",
        "`date`",
        "x'${'y",
        "a\\ b",
        "--opt=value",
        "pkg==1.0",
        "cd",
        "export",
        "make",
        "echo",
        "'héllo wörld'",
        "日本語",
        "🐳=1",
    ]
)
OPERATORS = st.sampled_from(["&&", "||", ";", "|", "&", "\n"])
BLANKS = st.sampled_from([" ", "  ", "\t", " \t "])


def assert_exact_offsets(script: ShellScript) -> None:
    text = script.text
    for node in iter_nodes(script):
        assert 0 <= node.start <= node.end <= len(text)
        words = ()
        if isinstance(node, SimpleCommand):
            words = node.words + node.assignments
            for redirect in node.redirects:
                assert redirect.text == text[redirect.start : redirect.end]
        elif isinstance(node, Compound):
            words = node.words
        for word in words:
            assert word.text == text[word.start : word.end]
            assert word.text


@st.composite
def scripts(draw: st.DrawFn, operators: st.SearchStrategy[str] = OPERATORS) -> tuple:
    commands = draw(st.lists(st.lists(WORDS, min_size=1, max_size=5), min_size=1, max_size=6))
    pieces: list[str] = []
    ops: list[str] = []
    for index, words in enumerate(commands):
        if index:
            op = draw(operators)
            ops.append(op)
            pieces.append(draw(BLANKS) + op + draw(BLANKS))
        pieces.append(draw(BLANKS).join(words))
    return "".join(pieces), commands, ops


@_SETTINGS
@given(scripts())
def test_assembled_scripts_parse_with_exact_offsets(generated: tuple) -> None:
    text, _, _ = generated
    try:
        script = parse_shell(text)
    except ShellParseError as error:
        assert 0 <= error.offset <= len(text)
        return
    assert_exact_offsets(script)
    for command in iter_simple_commands(script):
        classify(command)  # must not raise on anything the parser accepts


@_SETTINGS
@given(scripts(operators=st.just("&&")))
def test_and_chains_are_recognised(generated: tuple) -> None:
    text, commands, _ = generated
    script = parse_shell(text)
    chain = top_level_and_chain(script)
    assert chain is not None
    assert len(chain) == len(commands)
    for parsed, words in zip(chain, commands, strict=True):
        assert [w.text for w in parsed.assignments + parsed.words] == words
    assert_exact_offsets(script)


@_SETTINGS
@given(scripts(operators=st.sampled_from(["||", ";", "|", "&", "\n"])))
def test_other_operators_are_not_and_chains(generated: tuple) -> None:
    text, commands, _ = generated
    try:
        script = parse_shell(text)
    except ShellParseError:
        return
    if len(commands) > 1:
        assert top_level_and_chain(script) is None


SHELL_CHARS = st.sampled_from(
    [
        *"ab -'\"\\$()`;&|<>\n#{}=*!",
        *["case", "esac", " in ", ")", ";;", "if ", "then ", "fi", "time ", "$((", "))"],
        *["<<EOF\n", "\nEOF\n", "<<'EOF'\n", "for ", "do ", "done", "[[", "]]", " && "],
        *["é", "🐳", "日本", "--o=v ", "2>&1", " - "],
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(SHELL_CHARS, max_size=30).map("".join))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        script = parse_shell(text)
    except ShellParseError as error:
        assert 0 <= error.offset <= len(text)
        return
    assert_exact_offsets(script)
