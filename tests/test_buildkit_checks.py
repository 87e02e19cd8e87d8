"""Every BuildKit build check (``docker build --check``) and dockfix's answer to it.

Each check's "bad" example from Docker's documentation (the URL above it) goes through
the CLI's runner, and the answer must be the one the README's BuildKit-checks table claims:

* ``fixed (DFxxx)``: running that rule turns the bad example into Docker's "good"
  example (where dockfix's rewrite differs from the page, the expected text says how
  and why);
* ``reported (DFxxx)``: a finding of that code, without a fix;
* ``out of scope``: dockfix accepts the file and has no rule for it (the table says why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockfix.files import SourceFile
from dockfix.rules import lookup, select_rules
from dockfix.rules.base import Rule, Settings
from dockfix.runner import FileReport, process_text

TABLE = Path(__file__).resolve().parents[1] / "README.md"
DOCS = "https://docs.docker.com/reference/build-checks/"


@dataclass(frozen=True)
class Check:
    page: str  # the check's page under DOCS
    bad: str
    answer: str  # as in the table: "fixed (DF005)", "reported (DF013)", "out of scope"
    good: str | None = None  # for fixed: the output of the rule
    unsafe: bool = False  # the fix needs --unsafe-fixes
    #: Files of a build context to run the example in (name, text); none: no context.
    context: tuple[tuple[str, str], ...] = ()


CHECKS: dict[str, Check] = {
    # https://docs.docker.com/reference/build-checks/stage-name-casing/
    # Docker's good example renames the stage to `builder-base`; dockfix only lowercases
    # (and lowercases every reference to it), which keeps `--target BuilderBase` working.
    "StageNameCasing": Check(
        "stage-name-casing",
        "FROM alpine AS BuilderBase\n",
        "fixed (DF005)",
        "FROM alpine AS builderbase\n",
    ),
    # https://docs.docker.com/reference/build-checks/from-as-casing/
    # (Docker's good example also renames the stage; dockfix only fixes the casing.)
    "FromAsCasing": Check(
        "from-as-casing",
        "FROM debian:latest as builder\n",
        "fixed (DF002)",
        "FROM debian:latest AS builder\n",
    ),
    # https://docs.docker.com/reference/build-checks/no-empty-continuation/
    # Docker's good example puts a comment on the empty line; dockfix removes the line.
    "NoEmptyContinuation": Check(
        "no-empty-continuation",
        "FROM alpine\nEXPOSE \\\n\n80\n",
        "fixed (DF007)",
        "FROM alpine\nEXPOSE \\\n80\n",
    ),
    # https://docs.docker.com/reference/build-checks/consistent-instruction-casing/
    "ConsistentInstructionCasing": Check(
        "consistent-instruction-casing",
        'From alpine\nRun echo hello > /greeting.txt\nEntRYpOiNT ["cat", "/greeting.txt"]\n',
        "fixed (DF006)",
        'FROM alpine\nRUN echo hello > /greeting.txt\nENTRYPOINT ["cat", "/greeting.txt"]\n',
    ),
    # https://docs.docker.com/reference/build-checks/duplicate-stage-name/
    "DuplicateStageName": Check(
        "duplicate-stage-name",
        "FROM debian:latest AS builder\nRUN apt-get update; apt-get install -y curl\n\n"
        "FROM golang:latest AS builder\n",
        "reported (DF013)",
    ),
    # https://docs.docker.com/reference/build-checks/reserved-stage-name/
    "ReservedStageName": Check(
        "reserved-stage-name",
        "FROM alpine AS scratch\nFROM alpine AS context\n",
        "reported (DF014)",
    ),
    # https://docs.docker.com/reference/build-checks/json-args-recommended/
    # Plain-words ENTRYPOINT: unsafe (arguments given at run time start reaching the
    # program).  The comment below it is kept as it was.
    "JSONArgsRecommended": Check(
        "json-args-recommended",
        "FROM alpine\nENTRYPOINT my-program start\n"
        "# entrypoint becomes: /bin/sh -c my-program start\n",
        "fixed (DF204)",
        'FROM alpine\nENTRYPOINT ["my-program", "start"]\n'
        "# entrypoint becomes: /bin/sh -c my-program start\n",
        unsafe=True,
    ),
    # https://docs.docker.com/reference/build-checks/maintainer-deprecated/
    # Docker's example has no FROM: a LABEL before the first FROM would belong to no
    # stage, so that exact file is reported (see test_maintainer_example_alone); with a
    # FROM above it, it is fixed.
    "MaintainerDeprecated": Check(
        "maintainer-deprecated",
        "FROM alpine\nMAINTAINER moby@example.com\n",
        "fixed (DF003)",
        'FROM alpine\nLABEL org.opencontainers.image.authors="moby@example.com"\n',
    ),
    # https://docs.docker.com/reference/build-checks/undefined-arg-in-from/
    "UndefinedArgInFrom": Check(
        "undefined-arg-in-from",
        "FROM node:22${VARIANT} AS jsbuilder\n",
        "reported (DF015)",
    ),
    # https://docs.docker.com/reference/build-checks/workdir-relative-path/
    "WorkdirRelativePath": Check(
        "workdir-relative-path",
        "FROM nginx AS web\nWORKDIR usr/share/nginx/html\nCOPY public .\n",
        "fixed (DF010)",
        "FROM nginx AS web\nWORKDIR /usr/share/nginx/html\nCOPY public .\n",
    ),
    # https://docs.docker.com/reference/build-checks/undefined-var/
    "UndefinedVar": Check(
        "undefined-var",
        "FROM alpine AS base\nCOPY $foo .\n",
        "out of scope",
    ),
    # https://docs.docker.com/reference/build-checks/multiple-instructions-disallowed/
    # Docker's good example joins both commands into one CMD, which changes what the
    # container runs; dockfix deletes the CMD that never ran.
    "MultipleInstructionsDisallowed": Check(
        "multiple-instructions-disallowed",
        'FROM alpine\nCMD echo "Hello, Norway!"\nCMD echo "Hello, Sweden!"\n'
        '# Only "Hello, Sweden!" will be printed\n',
        "fixed (DF011)",
        'FROM alpine\nCMD echo "Hello, Sweden!"\n# Only "Hello, Sweden!" will be printed\n',
    ),
    # https://docs.docker.com/reference/build-checks/legacy-key-value-format/
    # The page's example is `ARG foo bar`, but BuildKit reads that as two ARGs (`foo`
    # and `bar`) and only checks ENV and LABEL (see test_legacy_arg_example); the same
    # example with ENV is the one the check is about.
    "LegacyKeyValueFormat": Check(
        "legacy-key-value-format",
        "FROM alpine\nENV foo bar\n",
        "fixed (DF001)",
        "FROM alpine\nENV foo=bar\n",
    ),
    # https://docs.docker.com/reference/build-checks/redundant-target-platform/
    "RedundantTargetPlatform": Check(
        "redundant-target-platform",
        "FROM --platform=$TARGETPLATFORM alpine AS builder\nRUN apk add --no-cache git\n",
        "fixed (DF009)",
        "FROM alpine AS builder\nRUN apk add --no-cache git\n",
    ),
    # https://docs.docker.com/reference/build-checks/secrets-used-in-arg-or-env/
    "SecretsUsedInArgOrEnv": Check(
        "secrets-used-in-arg-or-env",
        "FROM scratch\nARG AWS_SECRET_ACCESS_KEY\n",
        "reported (DF301)",
    ),
    # https://docs.docker.com/reference/build-checks/invalid-default-arg-in-from/
    "InvalidDefaultArgInFrom": Check(
        "invalid-default-arg-in-from",
        "ARG TAG\nFROM busybox:${TAG}\n",
        "reported (DF016)",
    ),
    # https://docs.docker.com/reference/build-checks/from-platform-flag-const-disallowed/
    "FromPlatformFlagConstDisallowed": Check(
        "from-platform-flag-const-disallowed",
        "FROM --platform=linux/amd64 alpine AS base\nRUN apk add --no-cache git\n",
        "reported (DF017)",
    ),
    # https://docs.docker.com/reference/build-checks/copy-ignored-file/
    # The page's `.dockerignore` holds `*/tmp/*`, which under Docker's own matcher
    # (moby/patternmatcher: `*` stays within one path segment, patterns are anchored at
    # the context root) excludes `a/tmp/x` but not `tmp/helloworld.txt`; the example means
    # `tmp/*`, which is what the context here holds.
    "CopyIgnoredFile": Check(
        "copy-ignored-file",
        "FROM scratch\nCOPY ./tmp/helloworld.txt /helloworld.txt\n",
        "reported (DF018)",
        context=((".dockerignore", "tmp/*\n"), ("tmp/helloworld.txt", "hello\n")),
    ),
    # https://docs.docker.com/reference/build-checks/invalid-definition-description/
    "InvalidDefinitionDescription": Check(
        "invalid-definition-description",
        "# a non-descriptive comment\nFROM scratch AS base\n\n"
        "# another non-descriptive comment\nARG VERSION=1\n",
        "out of scope",
    ),
    # https://docs.docker.com/reference/build-checks/expose-proto-casing/
    "ExposeProtoCasing": Check(
        "expose-proto-casing",
        "FROM alpine\nEXPOSE 80/TcP\n",
        "fixed (DF008)",
        "FROM alpine\nEXPOSE 80/tcp\n",
    ),
    # https://docs.docker.com/reference/build-checks/expose-invalid-format/
    # (the page's second example, `EXPOSE 80:80`, is in test_expose_invalid_format_host_port)
    "ExposeInvalidFormat": Check(
        "expose-invalid-format",
        "FROM alpine\nEXPOSE 127.0.0.1:80:80\n",
        "fixed (DF012)",
        "FROM alpine\nEXPOSE 80\n",
    ),
    # https://docs.docker.com/reference/build-checks/invalid-base-image-platform/
    # (the page has no example yet: an amd64-only image pulled for an arm64 build)
    "InvalidBaseImagePlatform": Check(
        "invalid-base-image-platform",
        "FROM --platform=linux/arm64 example.com/amd64-only-image\n",
        "out of scope",
    ),
}

_ROW = re.compile(r"^\| \[(?P<check>\w+)\]\((?P<url>[^)]+)\) \| (?P<answer>[^|]+?) \|")


def _table() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            rows[match["check"]] = (match["url"], match["answer"].strip())
    return rows


def _run(
    text: str, rules: tuple[Rule, ...], *, unsafe: bool = False, context_dir: Path | None = None
) -> FileReport:
    source = SourceFile(Path("Dockerfile"), text, "utf-8", False, "\n", None)
    settings = Settings(unsafe_fixes=unsafe)
    return process_text(source, "Dockerfile", rules, settings, apply=True, context_dir=context_dir)


def _code(answer: str) -> str:
    match = re.search(r"\((DF\d{3})\)", answer)
    assert match, answer
    return match.group(1)


def test_table_lists_every_check() -> None:
    rows = _table()
    assert len(CHECKS) == 22
    assert sorted(rows) == sorted(CHECKS)
    for name, check in CHECKS.items():
        url, answer = rows[name]
        assert url == f"{DOCS}{check.page}/", name
        assert answer == check.answer, f"{name}: the table says {answer!r}"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_docs_example(name: str, tmp_path: Path) -> None:
    check = CHECKS[name]
    context_dir = tmp_path if check.context else None
    for relative, text in check.context:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    if check.answer == "out of scope":
        report = _run(check.bad, select_rules())
        assert not report.errors, report.errors
        return
    code = _code(check.answer)
    rule = lookup(code)
    assert rule is not None, f"{code} is not registered"
    # Every default rule on: the finding is there (and nothing breaks).
    report = _run(check.bad, select_rules(), unsafe=True, context_dir=context_dir)
    assert not report.errors, report.errors
    found = [f for f in report.findings if f.code == code]
    assert found, f"no {code} finding: {[f.code for f in report.findings]}"
    if check.answer.startswith("reported"):
        assert all(f.applicability is None for f in found), found
        return
    assert check.answer.startswith("fixed") and check.good is not None
    alone = _run(check.bad, (rule,), unsafe=check.unsafe)
    assert not alone.errors, alone.errors
    assert alone.output == check.good
    if check.unsafe:
        assert _run(check.bad, (rule,)).output is None, "the fix should need --unsafe-fixes"


def test_maintainer_example_alone() -> None:
    # https://docs.docker.com/reference/build-checks/maintainer-deprecated/ (verbatim)
    report = _run("MAINTAINER moby@example.com\n", select_rules(), unsafe=True)
    assert not report.errors
    found = [f for f in report.findings if f.code == "DF003"]
    assert found and found[0].applicability is None and "FROM" in found[0].note


def test_expose_invalid_format_host_port() -> None:
    # https://docs.docker.com/reference/build-checks/expose-invalid-format/ (second example)
    rule = lookup("DF012")
    assert rule is not None
    assert _run("FROM alpine\nEXPOSE 80:80\n", (rule,)).output == "FROM alpine\nEXPOSE 80\n"


def test_legacy_arg_example() -> None:
    # https://docs.docker.com/reference/build-checks/legacy-key-value-format/ (verbatim):
    # `ARG foo bar` declares two build arguments; `ARG foo=bar` would declare one with a
    # default, so dockfix must leave it alone.
    report = _run("FROM alpine\nARG foo bar\n", select_rules(), unsafe=True)
    assert not report.errors
    assert report.output is None
    assert not [f for f in report.findings if f.code == "DF001"]
