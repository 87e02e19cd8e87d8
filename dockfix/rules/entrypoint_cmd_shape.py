"""DF209 entrypoint-cmd-shape: ``ENTRYPOINT`` and ``CMD`` that do not combine as meant.

What it does
    Works out, for each stage that sets ``CMD`` or ``ENTRYPOINT``, the pair the image
    ends up with (a ``CMD`` of the stage, else the one it inherits from a stage it
    builds on, unless the stage sets an ``ENTRYPOINT``, which clears an inherited
    ``CMD``) and reports the combinations of Docker's table "Understand how CMD and
    ENTRYPOINT interact" that cannot be what the author meant:

    * an ``ENTRYPOINT`` in shell form with a ``CMD``: the shell form never receives
      ``CMD`` (nor ``docker run`` arguments), so the ``CMD`` is dead;
    * an exec-form ``ENTRYPOINT`` running a program, with a ``CMD`` in shell form: the
      program gets ``/bin/sh -c "<cmd>"`` as its arguments;
    * an exec-form ``ENTRYPOINT ["sh", "-c", "script"]`` whose script does not read
      ``$0``/``$1``.../``$@``, with a ``CMD``: ``sh -c`` hands the ``CMD`` to the script
      as positional parameters, which it ignores;
    * a ``CMD`` array that repeats the ``ENTRYPOINT``'s program
      (``ENTRYPOINT ["python", "app.py"]`` + ``CMD ["python", "app.py"]`` runs
      ``python app.py python app.py``);
    * a ``CMD`` array that starts with an option (``CMD ["--bind", ":8000"]``) where no
      ``ENTRYPOINT`` applies (none in the file, and the base is an official image known
      to have none: ``python``, ``debian``, ``alpine``...; servers' images such as
      ``redis`` have one that takes options): the container would try to run ``--bind``.

    An ``ENTRYPOINT`` that is a launcher or wrapper script (``tini``, ``dumb-init``,
    ``gosu``, ``su-exec``, ``env``, a ``*.sh`` file, a name with ``entrypoint``) runs
    its arguments as a command, so a shell-form or repeated ``CMD`` works there and is
    not reported (DF204 reports the shell form for signals).  Windows stages are not
    checked (their shell form runs under ``cmd /S /C``).  An ``ENTRYPOINT`` with
    its program and fixed arguments and no ``CMD`` is fine, and not reported.

Why is this bad?
    ``ENTRYPOINT`` is the program, ``CMD`` its default arguments (practice 10).  In the
    combinations above the container runs something else than what is written: a
    command that is silently ignored, or a program started with nonsense arguments.

Example
    ``ENTRYPOINT ["gunicorn"]`` with ``CMD gunicorn app:app --bind :8000`` runs
    ``gunicorn /bin/sh -c "gunicorn app:app --bind :8000"``; write
    ``CMD ["app:app", "--bind", ":8000"]``.

Fix safety
    No fix (display only): what was meant (the ``CMD`` or the ``ENTRYPOINT``) is the
    author's call.

References
    practices.md row 10; Docker's Dockerfile reference, "Understand how CMD and
    ENTRYPOINT interact"; hadolint DL3025 and BuildKit ``JSONArgsRecommended`` (the
    shell form, reported by DF204).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import FixAvailability
from dockfix.lazy_dataclass import dataclass
from dockfix.model import Platform, StageFacts
from dockfix.rules._runtime import applying
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.syntax import Instruction

#: Programs that run their arguments as a command.
_LAUNCHERS = frozenset(
    {"tini", "tini-static", "dumb-init", "gosu", "su-exec", "env", "exec", "nohup", "catatonit"}
    | {"s6-svscan", "init", "chpst", "runuser", "setpriv", "sudo", "xvfb-run", "pipenv"}
    | {"poetry", "uv", "pdm", "ddtrace-run", "opentelemetry-instrument", "newrelic-admin"}
    | {"aws-lambda-rie", "fixuid", "entrypoint"}
)
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
#: Positional parameters a ``sh -c`` script may read its arguments from.
_POSITIONAL = lazy_re.compile(r"\$(?:[0-9@*#]|\{[0-9@*#])")


@dataclass(frozen=True)
class Pair:
    """The ENTRYPOINT and CMD a stage's image runs with (None: not set in the file)."""

    entrypoint: Instruction | None
    cmd: Instruction | None


def _last(facts: StageFacts, cmd: str) -> Instruction | None:
    found = applying(facts.stage.instructions, cmd)
    return found[-1] if found else None


def pair_of(facts: StageFacts) -> Pair:
    """The stage's effective ENTRYPOINT and CMD, as far as the file sets them."""
    entrypoint: Instruction | None = None
    for ancestor in facts.lineage:
        entrypoint = _last(ancestor, "ENTRYPOINT")
        if entrypoint is not None:
            break
    cmd: Instruction | None = None
    for ancestor in facts.lineage:
        cmd = _last(ancestor, "CMD")
        if cmd is not None:
            break
        if _last(ancestor, "ENTRYPOINT") is not None:
            break  # an ENTRYPOINT clears the CMD it inherits
    return Pair(entrypoint, cmd)


def is_launcher(program: str) -> bool:
    name = posixpath.basename(program)
    return (
        name in _LAUNCHERS
        or name.endswith((".sh", ".bash"))
        or "entrypoint" in name.lower()
        or name.startswith("docker-")
    )


def _empty(instruction: Instruction) -> bool:
    return instruction.is_json and not instruction.value


def _shown(instruction: Instruction) -> str:
    return " ".join(instruction.value) if instruction.is_json else instruction.value[0]


#: Official images known to have no ENTRYPOINT (servers' images often have one that
#: puts the server before options: ``redis``, ``postgres``, ``nginx``...).
_NO_ENTRYPOINT = frozenset(
    {"python", "debian", "ubuntu", "alpine", "golang", "rust", "fedora", "rockylinux"}
    | {"almalinux", "amazonlinux", "busybox", "eclipse-temurin", "openjdk", "pypy"}
)


def _base_entrypoint(facts: StageFacts) -> bool | None:
    """Whether the base image sets an ENTRYPOINT (None: not known)."""
    image = facts.root.image
    if image is None or facts.root.stage.image.has_variables:
        return None
    if image.registry in (None, "docker.io") and image.repository in _NO_ENTRYPOINT:
        return False
    return None


def problems(facts: StageFacts, pair: Pair) -> Iterator[tuple[Instruction, str]]:
    entrypoint, cmd = pair.entrypoint, pair.cmd
    if cmd is not None and (_empty(cmd) or not cmd.value):
        cmd = None
    if entrypoint is not None and (_empty(entrypoint) or not entrypoint.value):
        entrypoint = None
    if entrypoint is None:
        if cmd is None or not cmd.is_json or not cmd.value[0].startswith("-"):
            return
        if pair.entrypoint is None and _base_entrypoint(facts) is not False:
            return  # the base image may set an ENTRYPOINT that takes the options
        yield (
            cmd,
            f"CMD starts with the option `{cmd.value[0]}` but no ENTRYPOINT applies: the "
            f"container would try to run `{cmd.value[0]}`; put the program first or set "
            "ENTRYPOINT",
        )
        return
    if cmd is None:
        return
    at = cmd if facts.contains(cmd) else entrypoint
    if not entrypoint.is_json:
        yield (
            at,
            f"CMD `{_shown(cmd)}` is ignored: an ENTRYPOINT in shell form runs "
            "`/bin/sh -c` and never receives CMD (nor `docker run` arguments); write "
            "ENTRYPOINT as a JSON array, or drop the CMD",
        )
        return
    words = entrypoint.value
    program = words[0]
    if (
        posixpath.basename(program) in _SHELLS
        and len(words) >= 3
        and words[1].startswith("-")
        and words[1].endswith("c")
    ):
        if len(words) == 3 and not _POSITIONAL.search(words[2]):
            yield (
                at,
                f"CMD `{_shown(cmd)}` is ignored: `{program} -c` hands it to the "
                "ENTRYPOINT's script as $0, $1..., which the script does not read; "
                'add `"$@"` to the script (with a `--` or name for $0) or drop the CMD',
            )
        return
    if is_launcher(program) or posixpath.basename(program) in _SHELLS:
        return
    if not cmd.is_json:
        yield (
            at,
            f"CMD in shell form reaches the ENTRYPOINT as arguments: the container runs "
            f'`{" ".join(words)} /bin/sh -c "{_shown(cmd)}"`; write CMD as a JSON array '
            f"of {posixpath.basename(program)}'s arguments",
        )
        return
    if posixpath.basename(cmd.value[0]) == posixpath.basename(program):
        yield (
            at,
            f"CMD repeats the ENTRYPOINT's program: the container runs "
            f"`{' '.join(words)} {_shown(cmd)}`; CMD should hold only the arguments",
        )


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    for facts in context.model.stages:
        if facts.platform is Platform.WINDOWS:
            continue  # the shell form runs under `cmd /S /C` there
        own = applying(facts.stage.instructions, "CMD") + applying(
            facts.stage.instructions, "ENTRYPOINT"
        )
        if not own:
            continue  # judged where it was set
        for at, message in problems(facts, pair_of(facts)):
            yield rule.finding(message, at)


RULE = Rule(
    code="DF209",
    name="entrypoint-cmd-shape",
    summary="Make `ENTRYPOINT` the program and `CMD` its default arguments",
    applicability=Applicability.DISPLAY_ONLY,
    fix_availability=FixAvailability.NEVER,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"CMD", "ENTRYPOINT"}),
)
