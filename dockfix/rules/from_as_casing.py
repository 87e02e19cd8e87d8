"""DF002 from-as-casing: ``FROM image as name`` with ``as`` cased unlike ``FROM``.

What it does
    Makes the ``AS`` keyword of a ``FROM`` instruction use the same case as ``FROM``.

Why is this bad?
    Mixed casing reads as a typo, and BuildKit warns about it (check ``FromAsCasing``).

Example
    ``FROM python:3.12 as builder`` becomes ``FROM python:3.12 AS builder``.

Fix safety
    Safe: BuildKit reads ``AS`` case-insensitively.  A ``FROM`` keyword in mixed case
    (``From``) has no case to match and is left alone.

References
    practices.md, last paragraph (BuildKit checks); BuildKit ``FromAsCasing``.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for instruction in document.instructions:
        if instruction.cmd != "FROM":
            continue
        keyword = instruction.keyword
        words = instruction.pieces_of("word")
        if len(words) < 3 or words[1].text.lower() != "as":
            continue
        as_word = words[1]
        if keyword.isupper():
            wanted = "AS"
        elif keyword.islower():
            wanted = "as"
        else:
            continue
        if as_word.text == wanted:
            continue
        new = document.replace_piece(instruction, as_word, wanted)
        yield rule.finding(
            f"'{as_word.text}' and '{keyword}' keywords' casing do not match",
            as_word,
            edits=[Edit(instruction, (new,))],
        )


RULE = Rule(
    code="DF002",
    name="from-as-casing",
    summary="Write the `AS` of `FROM ... AS name` in the same case as `FROM`",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.ALWAYS,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"FROM"}),
)
