"""Checks BuildKit makes after parsing, when it turns nodes into build instructions.

BuildKit's parser accepts ``RUN --bogus x`` and ``FROOM x``; its ``instructions``
package then refuses them.  dockfix reports such files as errors and never rewrites
them: a fix cannot make a file that does not build any better.
"""

from __future__ import annotations

from dockfix.lazy_dataclass import dataclass
from dockfix.syntax.document import Dockerfile
from dockfix.syntax.nodes import Instruction

#: Flags each instruction accepts (BuildKit's ``instructions/parse.go``, dockerfile:1).
ALLOWED_FLAGS: dict[str, frozenset[str]] = {
    "FROM": frozenset({"platform"}),
    "RUN": frozenset({"mount", "network", "security"}),
    "COPY": frozenset({"from", "chown", "chmod", "link", "parents", "exclude"}),
    "ADD": frozenset({"chown", "chmod", "link", "checksum", "keep-git-dir", "exclude"}),
    "HEALTHCHECK": frozenset({"interval", "timeout", "start-period", "start-interval", "retries"}),
}
KNOWN_INSTRUCTIONS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)


#: Argument counts BuildKit's ``instructions`` package insists on.
_EXACTLY_ONE = frozenset({"MAINTAINER", "WORKDIR", "USER", "STOPSIGNAL"})
_AT_LEAST_ONE = frozenset({"EXPOSE", "VOLUME", "ENV", "LABEL", "ARG"})
_AT_LEAST_TWO = frozenset({"COPY", "ADD"})


@dataclass(frozen=True)
class Problem:
    """A reason BuildKit would refuse to build the file, at a 1-based position."""

    line: int
    column: int
    message: str


def validate(document: Dockerfile) -> list[Problem]:
    """Problems BuildKit reports after parsing (unknown instructions and flags)."""
    problems: list[Problem] = []
    for instruction in document.instructions:
        problems.extend(_check(instruction))
    return problems


def _check(instruction: Instruction) -> list[Problem]:
    cmd = instruction.cmd
    if cmd not in KNOWN_INSTRUCTIONS:
        return [Problem(instruction.line, instruction.column, f"unknown instruction: {cmd}")]
    if cmd == "ONBUILD" and instruction.reading.flags:
        flag = instruction.reading.flags[0]
        return [Problem(instruction.line, instruction.column, f"unknown flag: {flag} (on ONBUILD)")]
    if cmd == "ONBUILD" and instruction.sub_cmd is not None:
        cmd = instruction.sub_cmd
        if cmd in ("ONBUILD", "FROM", "MAINTAINER"):
            return [
                Problem(
                    instruction.line,
                    instruction.column,
                    f"{cmd} isn't allowed as an ONBUILD trigger",
                )
            ]
        if cmd not in KNOWN_INSTRUCTIONS:
            return [Problem(instruction.line, instruction.column, f"unknown instruction: {cmd}")]
    arity = _arity_problem(cmd, instruction.value)
    if arity:
        return [Problem(instruction.line, instruction.column, arity)]
    allowed = ALLOWED_FLAGS.get(cmd, frozenset())
    return [
        Problem(flag.piece.line, flag.piece.column, f"unknown flag: --{flag.name} (on {cmd})")
        for flag in instruction.flags
        if flag.name not in allowed
    ]


def _arity_problem(cmd: str, value: tuple[str, ...]) -> str | None:
    count = len(value)
    if cmd in _EXACTLY_ONE and count != 1:
        return f"{cmd} requires exactly one argument"
    if cmd in _AT_LEAST_ONE and count < 1:
        return f"{cmd} requires at least one argument"
    if cmd in _AT_LEAST_TWO and count < 2:
        return f"{cmd} requires at least two arguments"
    if cmd == "FROM" and not (count == 1 or (count == 3 and value[1].lower() == "as")):
        return "FROM requires either one or three arguments"
    return None
