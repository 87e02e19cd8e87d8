"""DF208 several-processes: a ``CMD``/``ENTRYPOINT`` that starts several long-lived processes.

What it does
    Reads the shell script of a ``CMD``/``ENTRYPOINT`` (the shell form, or a JSON
    ``["sh", "-c", script]``) and reports:

    * a command sent to the background with ``&`` while the script goes on
      (``nginx & gunicorn app:app``);
    * a service started and left running before the next command
      (``service nginx start && ...``, ``/etc/init.d/x start``, ``rc-service x start``,
      ``systemctl start x``);
    * a program that puts itself in the background by default, followed by another
      command: ``cron``, ``crond``, ``sshd``, ``rsyslogd``, ``syslogd``, ``atd``, and
      ``nginx`` without ``daemon off;``;
    * ``supervisord`` (or ``supervisord`` started through a launcher): a process
      manager exists to run several programs.

    Scripts started by the command (``docker-entrypoint.sh``) are not read.

Why is this bad?
    A container's life is its main process: the runtime watches it, restarts the
    container when it exits, sends it ``SIGTERM`` on stop and collects its output.  A
    second process started in the background is invisible to all of that: when it
    crashes the container still looks healthy, it gets ``SIGKILL`` instead of a clean
    stop, and its logs may go nowhere.  One process per container, several containers
    (compose services, pod containers) scale and restart each part on its own.

Example
    ``CMD service cron start && gunicorn app:app``: run cron in a container of its own
    (or use the scheduler of the platform), and ``CMD ["gunicorn", "app:app"]`` here.

Fix safety
    No fix (display only): splitting a container is a design change.  ``supervisord``
    is reported too, with a note: it is the right tool when the processes must share
    the container (a legacy application and its helper), so the finding may be
    suppressed with a reason where that is so.

References
    practices.md row 8; Docker's "Run multiple processes in a container".
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules._runtime import command_lines, find_program, parse_script
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.shell import SimpleCommand, iter_simple_commands
from dockfix.syntax import Instruction

#: Programs that detach from the terminal unless told otherwise.
DAEMONS = frozenset({"cron", "crond", "sshd", "rsyslogd", "syslogd", "atd", "nginx"})
#: Launchers whose next word is the program.
_LAUNCHERS = frozenset({"exec", "nohup", "sudo", "setsid", "nice", "stdbuf"})
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})


def script_of(instruction: Instruction) -> str | None:
    """The shell script a ``CMD``/``ENTRYPOINT`` runs, or None (exec form of a program)."""
    if not instruction.value:
        return None
    if not instruction.is_json:
        return instruction.value[0]
    words = instruction.value
    if (
        len(words) >= 3
        and posixpath.basename(words[0]) in _SHELLS
        and words[1].startswith("-")
        and words[1].endswith("c")
    ):
        return words[2]
    return None


def program(command: SimpleCommand) -> tuple[str, list[str]] | None:
    """The program a simple command runs (launchers skipped) and its arguments."""
    words = [word.value if word.is_literal else None for word in command.words]
    index = 0
    while index < len(words):
        value = words[index]
        if value is None:
            return None
        name = posixpath.basename(value)
        if name in _LAUNCHERS:
            index += 1
            while index < len(words) and (words[index] or "").startswith("-"):
                index += 1
            continue
        rest = [word or "" for word in words[index + 1 :]]
        return value, rest
    return None


def service_started(command: SimpleCommand) -> str | None:
    """The service a ``service x start``-like command starts, or None."""
    found = program(command)
    if found is None:
        return None
    value, args = found
    name = posixpath.basename(value)
    if name in ("service", "rc-service") and len(args) >= 2 and args[1] in ("start", "restart"):
        return args[0]
    if value.startswith("/etc/init.d/") and args[:1] in (["start"], ["restart"]):
        return name
    if name == "systemctl" and len(args) >= 2 and args[0] in ("start", "restart"):
        return args[1]
    return None


def daemon(command: SimpleCommand) -> str | None:
    """A program that detaches by default (``nginx`` unless ``daemon off``)."""
    found = program(command)
    if found is None:
        return None
    value, args = found
    name = posixpath.basename(value)
    if name not in DAEMONS:
        return None
    joined = " ".join(args)
    if name == "nginx" and ("daemon off" in joined or "-h" in args or "-t" in args):
        return None
    if name in ("sshd", "rsyslogd", "syslogd", "atd") and ("-D" in args or "-n" in args):
        return None  # told to stay in the foreground
    if name in ("cron", "crond") and ("-f" in args or "-n" in args):
        return None
    return name


def problems(script_text: str) -> list[str]:
    """What in the script starts a long-lived process beside the main one."""
    script = parse_script(script_text)
    if script is None:
        return []
    commands = list(iter_simple_commands(script))
    found: list[str] = []
    for index, command in enumerate(commands):
        later = commands[index + 1 :]
        if not later:
            break
        following = _name(later[-1])
        started = program(command)
        shown = posixpath.basename(started[0]) if started else command.words[0].text
        if command.background and command.words:
            found.append(f"`{shown}` runs in the background beside `{following}`")
            continue
        service = service_started(command)
        if service is not None:
            found.append(f"the `{service}` service keeps running beside `{following}`")
            continue
        detached = daemon(command)
        if detached is not None:
            found.append(f"`{detached}` detaches and keeps running beside `{following}`")
    return found


def _name(command: SimpleCommand) -> str:
    started = program(command)
    if started is None:
        return command.words[0].text if command.words else "the next command"
    return posixpath.basename(started[0])


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    for instruction in context.document.instructions:
        if instruction.cmd not in ("CMD", "ENTRYPOINT"):
            continue
        text = script_of(instruction)
        found = problems(text) if text is not None else []
        if found:
            yield rule.finding(
                f"{instruction.cmd} starts several long-lived processes: "
                + "; ".join(dict.fromkeys(found))
                + "; run one process per container",
                instruction,
            )
            continue
        if any(
            find_program(line.args, frozenset({"supervisord"})) is not None
            for line in command_lines(instruction)
        ):
            yield rule.finding(
                f"{instruction.cmd} starts supervisord, which runs several programs in one "
                "container; run one process per container",
                instruction,
                note="fine when the programs must share the container: suppress it there",
            )


RULE = Rule(
    code="DF208",
    name="several-processes",
    summary="Run one long-lived process per container",
    applicability=Applicability.DISPLAY_ONLY,
    fix_availability=FixAvailability.NEVER,
    check=check,
    explanation=__doc__ or "",
    severity="info",
    keywords=frozenset({"CMD", "ENTRYPOINT"}),
)
