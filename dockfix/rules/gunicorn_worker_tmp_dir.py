"""DF206 gunicorn-worker-tmp-dir: gunicorn's worker heartbeat file on a disk-backed directory.

What it does
    Inserts ``--worker-tmp-dir /dev/shm`` right after the ``gunicorn`` word of a
    ``CMD``/``ENTRYPOINT`` that starts gunicorn without it: in exec form as two new
    array elements, in shell form (and in a JSON ``["sh", "-c", script]``) as text.
    ``gunicorn``, ``/usr/local/bin/gunicorn`` (any ``.../bin/``; ``/etc/init.d/gunicorn``
    is a script, not gunicorn), ``python -m gunicorn`` and gunicorn behind
    launchers (``exec``, ``env``, ``poetry run``, ``ddtrace-run``, ``gosu user``...) are
    found; uvicorn workers (``-k uvicorn.workers.UvicornWorker``) are still gunicorn.

Why is this bad?
    Every gunicorn worker signals that it is alive by calling ``fchmod`` on a file in its
    temporary directory.  In a container that directory is on the overlay file system,
    where the call can block for seconds on a busy disk, and the arbiter then kills the
    workers as timed out.
    ``/dev/shm`` is a tmpfs in every Docker, Podman and Kubernetes container.

Example
    ``CMD ["gunicorn", "app:app"]`` becomes
    ``CMD ["gunicorn", "--worker-tmp-dir", "/dev/shm", "app:app"]``.

Fix safety
    Safe: the option only moves the heartbeat file.  Reported instead, because the option
    may already be set elsewhere and a command-line option would override it:

    * ``GUNICORN_CMD_ARGS`` set by ``ENV`` in the stage or a stage it builds on, or named
      in the command itself (gunicorn reads it as more options);
    * a configuration file: ``-c``/``--config``, ``--paste`` (a PasteDeploy ini file
      with a ``[server:main]`` section), or a ``gunicorn.conf.py`` (gunicorn's
      default, read from the working directory) copied into the image by name, or found
      in a copied folder of the build context when the context is known.

    For an ``ENTRYPOINT`` running gunicorn, the stage's CMD (its arguments) is searched
    for the options too.  Windows images are left alone (no ``/dev/shm``).  Options
    given only at run time (``docker run IMAGE ARGS``) cannot be seen.

References
    practices.md row 20; gunicorn's settings reference (``worker_tmp_dir``) and FAQ
    ("How do I avoid Gunicorn excessively blocking in os.fchmod?").
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.model import BuildContext, FileModel, Platform, StageFacts
from dockfix.model.preconditions import Precondition
from dockfix.rules._runtime import (
    Arg,
    CommandLine,
    applying,
    command_lines,
    find_program,
    has_option,
    json_tokens,
)
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.syntax import Instruction, Stage

NEW_WORDS = ("--worker-tmp-dir", "/dev/shm")
_GUNICORN = frozenset({"gunicorn"})
_TMP_DIR = frozenset({"--worker-tmp-dir"})
#: Options naming a file gunicorn reads settings from (PasteDeploy ini files too).
_CONFIG = frozenset({"-c", "--config", "--paste", "--paster"})
#: Options that make gunicorn print and exit rather than serve.
_NOT_SERVING = frozenset({"-v", "--version", "-h", "--help", "--check-config", "--print-config"})
DEFAULT_CONFIG = "gunicorn.conf.py"
CMD_ARGS = "GUNICORN_CMD_ARGS"


def copies_default_config(stage_chain: tuple[Stage, ...], build_context: BuildContext) -> bool:
    """Does a COPY/ADD bring a ``gunicorn.conf.py`` (gunicorn's default file) in?

    By name in any source; or, when the build context is on disk, inside a local folder
    that is copied (``COPY . .``, ``COPY app/ /app/``).
    """
    for stage in stage_chain:
        for instruction in applying(stage.instructions, "COPY") + applying(
            stage.instructions, "ADD"
        ):
            sources = instruction.value[:-1]
            if any(posixpath.basename(s.rstrip("/")) == DEFAULT_CONFIG for s in sources):
                return True
            if not build_context.present or instruction.flag("from") is not None:
                continue
            for source in sources:
                if build_context.is_dir(source) and build_context.is_file(
                    posixpath.join(source, DEFAULT_CONFIG)
                ):
                    return True
    return False


def extra_arguments(stage: Stage, line: CommandLine) -> tuple[Arg, ...]:
    """For an ENTRYPOINT, the stage's exec-form CMD: it is passed as more arguments."""
    if line.instruction.cmd != "ENTRYPOINT":
        return ()
    cmds = applying(stage.instructions, "CMD")
    if not cmds:
        return ()
    return json_tokens(cmds[-1]) or ()


def report_reason(
    model: FileModel, stage: StageFacts, line: CommandLine, options: tuple[Arg, ...]
) -> str:
    """Why the option may already be set elsewhere ("" when it cannot be)."""
    if stage.end.defines(CMD_ARGS) or CMD_ARGS in line.instruction.logical:
        return f"gunicorn reads more options from {CMD_ARGS}"
    if has_option(options, _CONFIG):
        return "gunicorn reads a configuration file (-c/--config/--paste)"
    if copies_default_config(tuple(f.stage for f in stage.lineage), model.context):
        return f"a {DEFAULT_CONFIG} is copied into the image; gunicorn reads it by default"
    return ""


def fixes(
    model: FileModel, stage: StageFacts, instruction: Instruction
) -> Iterator[tuple[CommandLine, Arg, str]]:
    """Each gunicorn run of ``instruction`` that lacks the option: where, and why not fixed."""
    for line in command_lines(instruction):
        index = find_program(line.args, _GUNICORN)
        if index is None:
            continue
        options = line.args[index + 1 :] + extra_arguments(stage.stage, line)
        if has_option(options, _TMP_DIR) or has_option(options, _NOT_SERVING):
            continue  # already set, or gunicorn is not started as a server
        yield line, line.args[index], report_reason(model, stage, line, options)


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    message = "gunicorn without --worker-tmp-dir: its heartbeat file is on the overlay disk"
    for stage in context.model.stages:
        if stage.platform is Platform.WINDOWS:
            continue  # no /dev/shm (and no gunicorn) on Windows
        for instruction in stage.stage.instructions:
            for line, word, reason in fixes(context.model, stage, instruction):
                at = line.position(word)
                if reason:
                    yield rule.finding(message, at, note=reason)
                    continue
                new = line.insert_after(document, word, NEW_WORDS)
                if new is None:
                    yield rule.finding(message, at, note="the script string spans lines")
                    continue
                yield rule.finding(message, at, edits=[Edit(instruction, (new,))])


RULE = Rule(
    code="DF206",
    name="gunicorn-worker-tmp-dir",
    summary="Give gunicorn `--worker-tmp-dir /dev/shm` (heartbeat on tmpfs)",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    preconditions=(Precondition.LINUX,),
)
