"""The shell model of many RUN texts must stay exactly what a reference tree produced.

Why: ``dockfix/shell`` is tuned for speed (issue 10), and a faster conversion must build
the very same model.  ``shell_reference.json`` holds the model, as a stable dump, that
main's code at 6ad37f3 produced for

* ``CASES`` below: hand-written tricky texts (here-documents, nested substitutions,
  quotes, escapes, comments, continuations, compound commands, redirections...),
  including texts the parser refuses (the error message and offset are the model then);
* a varied sample of corpus RUN texts (file name, RUN index, full dump), readable on
  failure;
* one digest per corpus file of all its RUN texts' dumps: every shell RUN of the corpus
  is compared, not only the sample.

Corpus parts skip with a message when ``../shared/corpus`` is absent, and a corpus file
whose RUN texts changed since the fixture was made is skipped, counted, not failed.

The fixture is regenerated only when the model is *meant* to change, on the tree whose
output is the new reference: ``python tests/shell/test_shell_reference.py --write``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dockfix.shell import ShellParseError, ShellScript, Word, parse_shell

FIXTURE = Path(__file__).with_name("shell_reference.json")
CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "dockerfiles"
#: How many corpus texts the fixture dumps in full (the rest only as digests).
SAMPLE_SIZE = 260

CASES = [
    "",
    "   ",
    "# only a comment",
    "apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
    "apt-get update \\\n && apt-get install -y \\\n    curl \\\n    git",
    "a; b & c && d || e",
    "a &",
    "a && b &",
    "a | b | c && d",
    "a | b || c | d",
    "! a | b",
    "! a && b",
    "a |& b",
    "(cd /src && make) | tee log && { a; b; } > out; ! c | d &",
    "( a ; b ) > log 2>&1",
    "{ a; b; } 2>/dev/null || true",
    "{ }",
    "()",
    "a;; b",
    "name (args)",
    "echo $(echo $(echo `echo hi`))",
    'echo "$(cat <<EOF\nx\nEOF\n)"',
    'x=$(a "$(b \'c\')" d) && echo "$x"',
    "echo `a` `b`",
    "pkg `# why` pkg2",
    "echo `echo \\`echo deep\\``",
    "echo `unterminated",
    'echo \'single "quoted" $x\' "double \'q\' $y \\" \\$z"',
    "echo $'ansi\\tc' $\"translated\"",
    "echo a\\ b c\\\\ d \\$e",
    'echo a"b"\\\nc',
    'echo "unterminated',
    "echo 'unterminated",
    "cmd # trailing comment\nnext",
    "a \\\n  # a comment line inside\n  && b",
    "set -eux; \\\n    apt-get update; \\\n    apt-get install -y x",
    "cat <<EOF > /etc/conf\nline $HOME\nEOF",
    "cat <<'EOF' | sh\necho hi\nEOF",
    "cat <<EOF && x\nbody\nEOF",
    "cat <<-EOF\n\tindented\n\tEOF",
    "cat <<EOF\nno end",
    "cat <<A <<B\na\nA\nb\nB",
    "python - <<EOF\nprint(1)\nEOF\necho done",
    "if [ -f x ]; then a; elif [ -d y ]; then b; else c; fi",
    "if true\nthen\n  a\nfi",
    "if true; then fi",
    'if [[ $a == b* ]] && [ -n "$c" ]; then echo ok; fi > log',
    'for x in a b "c d"; do echo $x; done',
    "for x; do echo $x; done",
    "for ((i=0; i<3; i++)); do echo $i; done",
    "select x in a b; do break; done",
    'while read -r line; do echo "$line"; done < file',
    "until false; do sleep 1; done &",
    'case "$x" in a|b) echo ab ;; c) echo c ;& *) echo other ;; esac',
    "case $x in\n  (a) one\n  ;;\n  *) two;;\nesac",
    "f() { echo in f; }; f",
    "function g { echo g; } 2>&1",
    "f() ( echo sub )",
    'A=1 B="2 3" cmd arg',
    "A=1",
    "A=1 B=2",
    "export A=1 B=$(date) && unset C",
    "declare -a arr=(1 2 3); local x=1",
    "arr[0]=x cmd",
    "--opt=v --other=w",
    "U=a/$(b)/$C/d cmd",
    "time -p make test",
    "time A=1 make",
    "time",
    'echo >&2 "x y" a',
    "pip install a>=1.0 b>=2",
    'cmd 2>&1 >/dev/null 3>&- <in <<<"here string" &>all',
    "exec 3<>file; cmd >&3",
    "exec 3>file; cmd >&3 2>&- 1<&0",
    "cmd 2>&1 >/dev/null 3>&- <in &>all >>append",
    'cat <<< "here string" && cat <<<$x',
    "> file",
    "cmd >\nfile",
    "curl -fsSL https://x/gpg | apt-key add - 2>/dev/null && apt-get update",
    "make -j$(( $(nproc) + 1 )) && echo ${VAR:-default} ${#x} ${x/a/b}",
    "((i++))",
    "(( cmd ))",
    '[ -f x ] && [[ -d y || -z "$z" ]] && test -x z',
    "diff <(sort a) <(sort b) > >(tee log)",
    "echo {a,b,c} {1..3} *.txt ?(x) ~/path",
    "echo {a,b,c} {1..3} *.txt ~/path [ab]*",
    "cat <<EOF | grep x && y\nbody\nEOF\nz",
    "a && cat > f <<EOF || b\nbody\nEOF",
    "for f in *; do\n  case $f in *.py) python $f;; esac\ndone",
    "while true; do if a; then break; fi; done | tail -1",
    "] }",
    "a; done",
    "echo ok; fi",
    "a && && b",
    "a |",
    "echo \u00e9t\u00e9 && echo \u65e5\u672c && cmd \U0001f600 x",
    "echo caf\u00e9 > /tmp/\u00fc && ls",
    "Write-Host ('Downloading {0} ...' -f $url)",
    "a\r\nb",
    "echo a \\\r\n b",
    "sh -c 'a && b' && bash -c \"c; d\"",
    "a || { echo failed; exit 1; }",
    "coproc x { a; }",
    "trap 'rm -f $tmp' EXIT; tmp=$(mktemp)",
    'eval "$(ssh-agent -s)"',
    "cd /app && npm ci --only=production && npm cache clean --force",
    "wget -qO- https://x | tar -xz -C /opt && ln -s /opt/x /usr/bin/x",
]


def dump(value: Any, text: str) -> Any:
    """A JSON-able, field-by-field dump of a model value; a ``Word`` is ``[start, end]``.

    A word's text is checked to be ``text[start:end]`` (the model's promise) rather than
    stored, which keeps the fixture small.  Other dataclasses give ``[class name,
    fields...]`` so that a new field or a new class shows up as a difference.
    """
    if isinstance(value, Word):
        assert value.text == text[value.start : value.end], value
        return [value.start, value.end]
    if isinstance(value, tuple):
        return [dump(item, text) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return [type(value).__name__, *(dump(getattr(value, f.name), text) for f in fields)]
    assert value is None or isinstance(value, str | int), value  # bool is an int
    return value


def model_of(text: str) -> Any:
    """The dump of ``parse_shell(text)``'s body, or ``["error", message, offset]``."""
    try:
        script = parse_shell(text)
    except ShellParseError as error:
        return ["error", error.message, error.offset]
    assert isinstance(script, ShellScript) and script.text == text
    return dump(script.body, text)


def _digest(*parts: Any) -> str:
    data = json.dumps(parts, ensure_ascii=True, separators=(",", ":"))
    return hashlib.md5(data.encode("ascii")).hexdigest()[:12]


@functools.cache
def corpus_runs() -> dict[str, list[str]]:
    """The shell texts of each corpus file's shell-form RUNs, by file name (files that parse).

    The texts are what ``dockfix.model.runs`` hands the shell parser: a shell-form
    RUN's value, without here-documents.  Read once for both corpus tests.
    """
    return dict(_read_corpus())


def _read_corpus() -> Iterator[tuple[str, list[str]]]:
    from dockfix.syntax import ParseError, parse

    for path in sorted(CORPUS.glob("*.Dockerfile")):
        try:
            document = parse(path.read_text(encoding="utf-8", errors="surrogateescape"))
        except ParseError:
            continue
        texts = [
            node.value[0]
            for node in document.instructions
            if node.cmd == "RUN" and not node.is_json and not node.heredocs and node.value
        ]
        yield path.name, texts


def _reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def _need_corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"real-world corpus not found at {CORPUS.resolve()} (../shared/corpus)")


def test_cases_match_the_reference() -> None:
    reference = _reference()["cases"]
    assert [text for text, _ in reference] == CASES, "CASES changed: regenerate on main's tree"
    for text, expected in reference:
        assert model_of(text) == expected, text


@pytest.mark.corpus
def test_corpus_sample_matches_the_reference() -> None:
    _need_corpus()
    texts = corpus_runs()
    stale = 0
    for name, index, text_digest, expected in _reference()["sample"]:
        found = texts.get(name, [])
        if index >= len(found) or _digest(found[index]) != text_digest:
            stale += 1
            continue
        assert model_of(found[index]) == expected, (name, index, found[index])
    print(f"\n{stale} sampled corpus texts changed since the fixture was made")
    assert stale < 10


@pytest.mark.corpus
def test_every_corpus_run_matches_the_reference() -> None:
    _need_corpus()
    reference = _reference()["files"]
    stale = compared = 0
    differ = []
    for name, texts in corpus_runs().items():
        text_digest, model_digest = reference.get(name, ("", ""))
        if _digest(texts) != text_digest:
            stale += 1
            continue
        compared += len(texts)
        if _digest([model_of(text) for text in texts]) != model_digest:
            differ.append(name)
    print(f"\n{compared} corpus RUN texts compared; {stale} files changed since the fixture")
    assert not differ, f"the shell model differs in {len(differ)} files: {differ[:10]}"
    assert compared > 1000


def _features(text: str, model: Any) -> set[str]:
    """What a text exercises, to pick a varied sample (model shapes and raw syntax)."""
    found: set[str] = set()
    stack = [model]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            if item and isinstance(item[0], str) and len(item) > 1:
                found.add(item[0] if item[0] != "Compound" else f"Compound:{item[1]}")
                if item[0] == "Redirect":
                    found.add(f"redirect:{item[4]}")
            stack.extend(item)
    for marker in ("<<", "$(", "`", "\\\n", "#", "'", '"', "${", "$((", "\\ ", "&>", "<(", "\t"):
        if marker in text:
            found.add(f"text:{marker}")
    if not text.isascii():
        found.add("non-ascii")
    if model and model[0] == "error":
        found.add(f"error:{model[1].split(' ')[0]}")
    return found


def write_fixture() -> None:
    """Write ``shell_reference.json`` from the tree on ``sys.path`` (see the docstring)."""
    cases = [[text, model_of(text)] for text in CASES]
    files: dict[str, list[str]] = {}
    candidates: list[tuple[str, int, str, Any]] = []
    if CORPUS.is_dir():
        for name, texts in corpus_runs().items():
            models = [model_of(text) for text in texts]
            files[name] = [_digest(texts), _digest(models)]
            candidates += [
                (name, i, t, m) for i, (t, m) in enumerate(zip(texts, models, strict=True))
            ]
    # Greedy: each pick adds the most features not yet covered (shorter texts first on
    # ties); then every n-th of the rest, short texts only, to fill the sample.
    seen: set[str] = set()
    chosen: dict[tuple[str, int], Any] = {}
    features = [_features(text, model) for _, _, text, model in candidates]
    by_length = sorted(range(len(candidates)), key=lambda i: len(candidates[i][2]))
    while len(chosen) < SAMPLE_SIZE // 2:
        best = max(by_length, key=lambda i: len(features[i] - seen), default=None)
        if best is None or not features[best] - seen:
            break
        seen |= features[best]
        chosen[candidates[best][:2]] = candidates[best]
    short = [i for i in by_length if len(candidates[i][2]) < 400]
    step = max(1, len(short) // SAMPLE_SIZE)
    for i in sorted(short[::step]):
        if len(chosen) >= SAMPLE_SIZE:
            break
        chosen.setdefault(candidates[i][:2], candidates[i])
    sample = [[name, i, _digest(text), model] for name, i, text, model in chosen.values()]
    sample.sort(key=lambda row: (row[0], row[1]))
    data = {"cases": cases, "sample": sample, "files": files}
    FIXTURE.write_text(json.dumps(data, ensure_ascii=True, separators=(",", ":")) + "\n")
    print(f"{FIXTURE}: {len(cases)} cases, {len(sample)} sampled texts, {len(files)} files")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit(f"usage: {sys.argv[0]} --write  (on the reference tree only)")
    write_fixture()
