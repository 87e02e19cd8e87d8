"""parse_shell: offsets, structure, helpers and the constructs that need care."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from dockfix.shell import (
    Compound,
    Group,
    ListNode,
    Pipeline,
    ShellParseError,
    ShellScript,
    SimpleCommand,
    Subshell,
    Word,
    command_name,
    command_words,
    iter_nodes,
    iter_simple_commands,
    operators,
    parse_shell,
    top_level_and_chain,
)


def texts(words: tuple[Word, ...]) -> list[str]:
    return [w.text for w in words]


def all_words(script: ShellScript) -> list[Word]:
    found: list[Word] = []
    for node in iter_nodes(script):
        if isinstance(node, SimpleCommand):
            found.extend(node.words + node.assignments)
            for redirect in node.redirects:
                if redirect.target is not None:
                    found.append(redirect.target)
        if isinstance(node, Compound):
            found.extend(node.words)
    return found


def assert_offsets(script: ShellScript) -> None:
    for word in all_words(script):
        assert word.text == script.text[word.start : word.end]
        assert word.text, "words are never empty"


def only_command(text: str) -> SimpleCommand:
    commands = list(iter_simple_commands(parse_shell(text)))
    assert len(commands) == 1, commands
    return commands[0]


# -- words and offsets -----------------------------------------------------------


def test_words_carry_exact_offsets() -> None:
    text = "apt-get update && apt-get install -y gcc   libpq-dev && rm -rf /var/lib/apt/lists/*"
    script = parse_shell(text)
    commands = list(iter_simple_commands(script))
    assert [texts(c.words) for c in commands] == [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "gcc", "libpq-dev"],
        ["rm", "-rf", "/var/lib/apt/lists/*"],
    ]
    libpq = commands[1].words[4]
    assert (libpq.start, libpq.end) == (43, 52)
    assert commands[1].start == 18 and commands[1].end == 52
    assert_offsets(script)


def test_quoted_words_keep_raw_text_and_offsets() -> None:
    text = """echo "a b" 'c d' e\\ f "x\\"y" --opt="v w" """
    cmd = only_command(text)
    assert texts(cmd.words) == ["echo", '"a b"', "'c d'", "e\\ f", '"x\\"y"', '--opt="v w"']
    assert [w.value for w in cmd.words] == ["echo", "a b", "c d", "e f", 'x"y', "--opt=v w"]
    for word in cmd.words:
        assert text[word.start : word.end] == word.text


@pytest.mark.parametrize(
    ("raw", "value", "literal"),
    [
        ("plain", "plain", True),
        ("'single $x'", "single $x", True),
        ('"double"', "double", True),
        ('"a\\$b"', "a$b", True),
        ('"keep\\n"', "keep\\n", True),
        ("a'b'\"c\"", "abc", True),
        ("pkg=1.2.*", "pkg=1.2.*", True),
        ("$HOME/x", "$HOME/x", False),
        ('"$HOME"', '"$HOME"', False),
        ("`date`", "`date`", False),
        ("'unbalanced", "'unbalanced", False),
    ],
)
def test_word_value(raw: str, value: str, literal: bool) -> None:
    word = Word(raw, 0, len(raw))
    assert word.value == value
    assert word.is_literal is literal


def test_sub_word_offsets() -> None:
    word = Word("--target=/opt", 10, 23)
    tail = word.sub_word(9)
    assert tail == Word("/opt", 19, 23)


def test_assignments_redirects_and_heredoc() -> None:
    text = "DEBIAN_FRONTEND=noninteractive A='x y' cmd arg > /dev/null 2>&1"
    cmd = only_command(text)
    assert texts(cmd.assignments) == ["DEBIAN_FRONTEND=noninteractive", "A='x y'"]
    assert texts(cmd.words) == ["cmd", "arg"]
    assert [r.text for r in cmd.redirects] == ["> /dev/null", "2>&1"]
    assert cmd.redirects[0].target == Word("/dev/null", 49, 58)
    assert cmd.redirects[1].fd == 2 and cmd.redirects[1].target is None

    text = "cat <<'EOF' > /etc/x.conf\nit's $(not run) && fine\nEOF\necho done"
    script = parse_shell(text)
    cat, echo = iter_simple_commands(script)
    heredoc = cat.redirects[0]
    assert heredoc.operator == "<<" and heredoc.text == "<<'EOF'"
    assert heredoc.heredoc is not None
    assert heredoc.heredoc.text.startswith("it's $(not run)")
    assert texts(echo.words) == ["echo", "done"]
    assert operators(script) == {"\n"}


# -- structure ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a && b", {"&&"}),
        ("a && b || c", {"&&", "||"}),
        ("a; b", {";"}),
        ("a;", {";"}),
        ("a | b", {"|"}),
        ("a |& b", {"|"}),
        ("a &", {"&"}),
        ("a\nb", {"\n"}),
        ("(cd x && make)", set()),
        ("{ a; b; } && c", {"&&"}),
        ("if a; then b; fi", set()),
        ("x && y | z", {"&&", "|"}),
    ],
)
def test_top_level_operators(text: str, expected: set[str]) -> None:
    assert operators(parse_shell(text)) == expected


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("a", 1),
        ("a && b", 2),
        ("apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*", 3),
        ("A=1 a > f && b 2>&1", 2),
        ("a && b # trailing comment", 2),
        ("a && b || c", None),
        ("a; b", None),
        ("a && b;", None),
        ("a | b && c", None),
        ("a && b &", None),
        ("(cd x && make)", None),
        ("a && (b)", None),
        ("a\nb", None),
        ("if a; then b; fi", None),
        ("", None),
    ],
)
def test_top_level_and_chain(text: str, count: int | None) -> None:
    chain = top_level_and_chain(parse_shell(text))
    if count is None:
        assert chain is None
    else:
        assert chain is not None and len(chain) == count
        assert all(isinstance(cmd, SimpleCommand) for cmd in chain)


def test_subshell_group_pipeline_shapes() -> None:
    script = parse_shell("(cd /src && make) | tee log && { a; b; } > out; ! c | d &")
    items = script.body.items
    assert [op.text for op in script.body.operators] == ["&&", ";", "&"]
    first = items[0]
    assert isinstance(first, Pipeline)
    assert isinstance(first.commands[0], Subshell)
    assert texts(first.commands[0].body.items[0].words) == ["cd", "/src"]
    group = items[1]
    assert isinstance(group, Group) and group.redirects[0].text == "> out"
    last = items[2]
    assert isinstance(last, Pipeline) and last.negated
    assert all(isinstance(c, SimpleCommand) and c.background for c in last.commands)
    assert [c.words[0].text for c in iter_simple_commands(script)] == [
        "cd",
        "make",
        "tee",
        "a",
        "b",
        "c",
        "d",
    ]


def test_background_applies_to_whole_and_or_list() -> None:
    script = parse_shell("a; b && c & d")
    flags = {c.words[0].text: c.background for c in iter_simple_commands(script)}
    assert flags == {"a": False, "b": True, "c": True, "d": False}


def test_compounds_are_descended_in_source_order() -> None:
    text = textwrap.dedent(
        """\
        for f in a b; do echo "$f"; done
        while read l; do cd "$l"; done < list
        if [ -f x ]; then pip install x; elif true; then :; else exit 1; fi
        f() { apt-get update; }
        """
    )
    script = parse_shell(text)
    names = [command_name(c) for c in iter_simple_commands(script)]
    assert names == ["echo", "read", "cd", "[", "pip", "true", ":", "exit", "apt-get"]
    kinds = [n.kind for n in iter_nodes(script) if isinstance(n, Compound)]
    assert kinds == ["for", "while", "if", "function"]
    loop = next(n for n in iter_nodes(script) if isinstance(n, Compound))
    assert texts(loop.words) == ["f", "a", "b"]
    assert_offsets(script)


def test_empty_and_comment_only_scripts() -> None:
    for text in ("", "   ", "# just a comment", "\n\n# c\n"):
        script = parse_shell(text)
        assert script.body.items == ()
        assert list(iter_simple_commands(script)) == []
        assert top_level_and_chain(script) is None


def test_long_comment_marker_runs_are_cheap() -> None:
    """Regression: the blank-or-comment check once backtracked exponentially on '#' runs."""
    text = "#" * 5000 + "\necho hi"
    assert [command_name(c) for c in iter_simple_commands(parse_shell(text))] == ["echo"]


def test_newline_separated_script_is_one_list() -> None:
    text = "set -eux\napt-get update\n# comment line\napt-get install -y curl\n"
    script = parse_shell(text)
    assert [texts(c.words)[0] for c in script.body.items] == ["set", "apt-get", "apt-get"]
    assert [op.text for op in script.body.operators] == ["\n", "\n"]
    assert script.body.operators[0].start == text.index("\n")
    assert isinstance(script.body, ListNode)


# -- constructs that need care ---------------------------------------------------------


def test_and_inside_command_substitution() -> None:
    text = 'echo "HEAD: $(cd /src && git rev-parse HEAD)" >> /m && x=$(a || b) y'
    script = parse_shell(text)
    commands = list(iter_simple_commands(script))
    assert texts(commands[0].words) == ["echo", '"HEAD: $(cd /src && git rev-parse HEAD)"']
    assert texts(commands[1].assignments) == ["x=$(a || b)"]
    assert top_level_and_chain(script) is not None
    assert_offsets(script)


def test_arithmetic_backtick_comment_and_time() -> None:
    script = parse_shell("make -j$(( $(nproc) + 1 )) && ext `# for tests` && time -p make test")
    commands = list(iter_simple_commands(script))
    assert texts(commands[0].words) == ["make", "-j$(( $(nproc) + 1 ))"]
    assert texts(commands[1].words) == ["ext", "`# for tests`"]
    assert texts(commands[2].words) == ["make", "test"]
    assert_offsets(script)


def test_case_statement_is_modelled() -> None:
    text = (
        'dpkgArch="$(dpkg --print-architecture)" && case "${dpkgArch##*-}" in\n'
        "  amd64) ARCH='x64';;\n"
        "  arm64|aarch64) ARCH='arm64' ; apt-get install -y qemu ;;\n"
        '  *) echo "unsupported"; exit 1 ;;\n'
        "esac && export ARCH"
    )
    script = parse_shell(text)
    case = script.body.items[1]
    assert isinstance(case, Compound) and case.kind == "case"
    assert texts(case.words) == ['"${dpkgArch##*-}"', "amd64", "arm64|aarch64", "*"]
    assert len(case.bodies) == 3
    assert text[case.start : case.end].startswith("case ") and text[case.end - 4 : case.end] == (
        "esac"
    )
    names = [command_name(c) for c in iter_simple_commands(script)]
    assert names == [None, None, None, "apt-get", "echo", "exit", "export"]
    assert_offsets(script)


def test_nested_case_and_case_in_substitution() -> None:
    text = "case a in a) case b in b) echo in;; esac;; esac; x=$(case y in y) echo;; esac)"
    script = parse_shell(text)
    assert [command_name(c) for c in iter_simple_commands(script)] == ["echo", None]
    assert_offsets(script)


def test_quoted_dollar_brace_does_not_hang_bashlex() -> None:
    """A quoted ``${`` is no expansion; bashlex once looped forever on x'${'y (child + timeout)."""
    code = (
        "from dockfix.shell import parse_shell\n"
        "for t in [\"echo x'${'y\", \"echo 'a${'b && c\"]:\n"
        "    print(len(parse_shell(t).body.items))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["1", "2"]


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("echo 'unterminated", 5),
        ('echo "unterminated', 5),
        ("a &&", None),
        ("&& a", 0),
        ("(a", None),
        ("a )", None),
        ("if a; then b", None),
        ("echo `unterminated", 5),
        ("echo $(unterminated", None),
        ("case x in a) b", None),
        ("cat <<EOF\nno end", None),
        ("$url = ('x' -f $y); Write-Host ('a' -f $url)", None),
    ],
)
def test_parse_errors(text: str, offset: int | None) -> None:
    with pytest.raises(ShellParseError) as caught:
        parse_shell(text)
    error = caught.value
    assert 0 <= error.offset <= len(text)
    assert error.message
    if offset is not None:
        assert error.offset == offset
    assert isinstance(error, ValueError)


def test_bash_constructs_are_modelled() -> None:
    """``[[ ]]``, arrays, ``select`` and ``coproc`` are bash, and bash is what tree-sitter reads.

    These were listed in ``test_parse_errors`` only because bashlex could not read
    them; the model now describes them as bash does.
    """
    script = parse_shell("[[ -f x ]] && y")
    test = next(iter_simple_commands(script))
    assert texts(test.words) == ["[[", "-f", "x", "]]"]
    assert [command_name(c) for c in iter_simple_commands(script)] == ["[[", "y"]
    assert top_level_and_chain(script) is not None

    array = only_command("x=(1 2) cmd")
    assert texts(array.assignments) == ["x=(1 2)"]
    assert texts(array.words) == ["cmd"]

    script = parse_shell("select x in a; do b; done")
    select = script.body.items[0]
    assert isinstance(select, Compound) and select.kind == "select"
    assert texts(select.words) == ["x", "a"]
    assert [command_name(c) for c in iter_simple_commands(script)] == ["b"]

    # tree-sitter-bash has no coproc keyword: a command named coproc, which is
    # also what dash (Docker's usual /bin/sh) would run.
    assert texts(only_command("coproc a").words) == ["coproc", "a"]


def test_parse_error_message_shows_original_token() -> None:
    with pytest.raises(ShellParseError) as caught:
        parse_shell("Write-Host ('Downloading {0} ...' -f $url)")
    assert "'Downloading {0} ...'" in caught.value.message


@pytest.mark.parametrize("depth", [50, 2000])
def test_deep_nesting_never_crashes(depth: int) -> None:
    for text in ("(" * depth + "a" + ")" * depth, "$(" * depth + "a" + ")" * depth):
        try:
            script = parse_shell(text)
        except ShellParseError:
            continue
        assert_offsets(script)


# -- command_name ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("cd /app", "cd"),
        ("export PATH=/x:$PATH", "export"),
        ("A=1 B=2 export C", "export"),
        ("/usr/bin/apt-get install x", "apt-get"),
        ("sudo -u root -E cd /x", "cd"),
        ("sudo DEBIAN_FRONTEND=x apt-get update", "apt-get"),
        ("env -i PATH=/bin FOO=bar make", "make"),
        ("exec -a name gunicorn app", "gunicorn"),
        ("command -p ls", "ls"),
        ("command -v pip", "command"),
        ("nice -n 10 make", "make"),
        ("nohup sleep 1", "sleep"),
        ("time make", "make"),
        ("sudo env A=1 nice -n 5 pip install x", "pip"),
        ("A=1", None),
        ("> file", None),
        ("exec 3>&1", None),
        ('"cd" x', "cd"),
        ("$PIP install x", "$PIP"),
    ],
)
def test_command_name(text: str, name: str | None) -> None:
    assert command_name(only_command(text)) == name


def test_command_words_skip_wrappers() -> None:
    cmd = only_command("sudo -E env A=1 apt-get install -y x")
    assert texts(command_words(cmd)) == ["apt-get", "install", "-y", "x"]


def test_cd_detection_across_structures() -> None:
    script = parse_shell("(cd /tmp && make) && if true; then cd /x; fi && echo $(cd /y)")
    cds = [c for c in iter_simple_commands(script) if command_name(c) == "cd"]
    assert [texts(c.words)[1] for c in cds] == ["/tmp", "/x"]
