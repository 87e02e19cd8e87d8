"""DF105 apt-lists-not-removed: ``apt-get update`` lists stay in the layer.

What it does
    Finds a RUN that runs ``apt-get update`` and then ``apt-get install`` (or ``apt``)
    without removing ``/var/lib/apt/lists/*`` afterwards (``rm``, ``find -delete`` or
    ``apt-get dist-clean``), and appends ``&& rm -rf /var/lib/apt/lists/*`` to it.  A
    one-line RUN gets it on the same line; a RUN that spans lines gets a new
    continuation line laid out like its other ``&&`` lines (``&&`` leading or trailing,
    same indentation)::

        RUN apt-get update \\
            && apt-get install -y curl
        # becomes
        RUN apt-get update \\
            && apt-get install -y curl \\
            && rm -rf /var/lib/apt/lists/*

Why is this bad?
    The package lists take tens of megabytes and are useless once the packages are
    installed.  Files deleted by a later RUN still take space in the earlier layer, so
    the lists must go in the same RUN that fetched them (practice 4 of the article).

Fix safety
    Safe when three things hold, else the finding is reported without a fix:

    * the RUN is a plain ``c1 && c2 && ... && cN`` chain (an item may be a pipeline or
      a subshell): after ``;``, ``||`` or ``&`` an appended command could run where the
      original stopped, or alongside a background job;
    * nothing that runs on top of this layer needs the lists: no later RUN of the stage
      (or of a stage built ``FROM`` it) runs ``apt-get install``, ``apt-cache`` or
      another list reader before its own ``apt-get update``, or runs a shell script
      (which might; well-known installers such as conda's, rustup's or nodesource's
      excepted), and no ``ONBUILD``/``CMD``/``ENTRYPOINT`` mentions apt without an
      update;
    * no later step runs a well-known program that runs apt (or reads the lists)
      itself, before an ``apt-get update`` of its own: ``mk-build-deps``,
      ``rosdep install``, ``gdebi``, ``aptitude``, ``apt-file``, ``apt-rdepends``,
      ``apt-show-versions``, ``apt-fast``, ``nala`` (except their ``update``),
      ``ansible``, ``ansible-playbook`` and ``ansible-pull`` (called directly or behind
      ``sudo``/``env``/``xargs``/``timeout``..., in ``sh -c``, an exec-form RUN, ``CMD``
      or ``ENTRYPOINT``).  Other programs are not traced: one that calls apt internally
      (a ``make`` target, a build tool) is not seen, only shell scripts are assumed to
      possibly do so;
    * the RUN has no cache or tmpfs mount on ``/var/lib/apt``: the lists then never
      reach the layer, so there is nothing to report.

References
    practices.md row 4 (delete temporary files in the RUN that made them); hadolint
    DL3009.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import FixAvailability
from dockfix.model import FileModel
from dockfix.model.preconditions import Precondition
from dockfix.rules._hygiene import (
    AptUse,
    and_chain,
    append_command,
    apt_uses,
    has_mount_under,
    instructions_after,
    reads_lists,
    removes_lists,
    stage_runs,
    under_sudo,
)
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import (
    Pipeline,
    SimpleCommand,
    command_name,
    command_words,
    iter_nodes,
    iter_simple_commands,
)
from dockfix.syntax import Instruction

LISTS = "/var/lib/apt/lists"
CLEAN_UP = f"rm -rf {LISTS}/*"
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh"})
#: Installer scripts known to leave apt alone (or to run their own ``apt-get update``).
_KNOWN_INSTALLERS = (
    "conda",
    "miniforge",
    "mambaforge",
    "rustup",
    "nvm",
    "nodesource",
    "sdkman",
    "poetry",
    "pyenv",
)
_HIDING = _SHELLS | {"eval", "su", "runuser", "xargs", "chroot"}
_MENTIONS_APT = lazy_re.compile(r"(?:^|[\s;&|(\"'`]|/bin/)apt(?:-get|-cache)?[\s\"',]")
#: Well-known programs that run apt (or read the package lists) themselves.  Only
#: ``rosdep install`` does; ``apt-fast``/``nala`` take apt's actions (their ``update``
#: fetches the lists, ``remove``/``clean``... need none); the others read the lists on
#: every call.  ``aptitude`` is read with apt itself (``apt_uses``).  Not here:
#: ``debootstrap`` and ``pbuilder`` fetch their own indexes for the target system.
_LIST_PROGRAMS = frozenset(
    {"mk-build-deps", "rosdep", "gdebi", "apt-file", "apt-rdepends", "apt-show-versions"}
    | {"ansible", "ansible-playbook", "ansible-pull", "apt-fast", "nala"}
)
_APT_LIKE = frozenset({"apt-fast", "nala"})
_NEEDS_NO_LISTS = frozenset({"update", "clean", "autoclean", "remove", "purge", "autoremove"})
#: Commands that run the command given in their arguments (``xargs rosdep install``).
_WRAPPERS = frozenset(
    {"xargs", "timeout", "eatmydata", "stdbuf", "ionice", "chrt", "taskset", "flock"}
    | {"fakeroot", "setpriv", "setsid", "unbuffer", "chronic", "gosu", "su-exec", "runuser"}
    | {"chroot", "catchsegv", "strace", "retry", "xvfb-run"}
)
_MENTIONS_PROGRAM = lazy_re.compile(
    r"(?:^|[\s;&|(\"'`]|/)(mk-build-deps|rosdep|gdebi|apt-file|apt-rdepends"
    r"|apt-show-versions|ansible-playbook|ansible-pull|ansible|apt-fast|nala)(?=[\s\"',;&|)]|$)"
)
_MENTIONS_UPDATE = lazy_re.compile(
    r"\b(?:apt|apt-get|aptitude|apt-fast|nala)[\s\"',]+(?:-\S+[\s\"',]+)*update\b"
)


def first_update_at(uses: list[AptUse]) -> int | None:
    """Where the RUN's first ``apt-get update`` starts (a shell offset), if it has one."""
    return min((use.command.start for use in uses if use.action == "update"), default=None)


def runs_script(shell: RunShell) -> bool:
    """True when the RUN runs a shell script (a file, or text piped into a shell).

    What a script does is out of sight; it may install packages relying on the lists.
    """
    text = shell.script.text
    for node in iter_nodes(shell.script):
        if isinstance(node, Pipeline):
            last = node.commands[-1]
            piped_into_shell = isinstance(last, SimpleCommand) and command_name(last) in _SHELLS
            if piped_into_shell and not _known_installer(text[node.start : node.end]):
                return True
    for command in iter_simple_commands(shell.script):
        words = command_words(command)
        name = command_name(command) or ""
        arguments = [word.value for word in words[1:]]
        operands = [arg for arg in arguments if not arg.startswith("-")]
        script = name.endswith(".sh") or (name in _SHELLS and operands and "-c" not in arguments)
        if script and not _known_installer(text[command.start : command.end]):
            return True
    return False


def _known_installer(text: str) -> bool:
    return any(name in text.lower() for name in _KNOWN_INSTALLERS)


def hides_commands(shell: RunShell) -> bool:
    """True when some commands are inside strings: ``sh -c '...'``, ``eval``, ``$(...)``."""
    for command in iter_simple_commands(shell.script):
        if command_name(command) in _HIDING:
            return True
        if any("$(" in word.text or "`" in word.text for word in command.words):
            return True
    return False


def program_uses(shell: RunShell) -> list[AptUse]:
    """Calls of ``_LIST_PROGRAMS`` in the RUN, as apt uses (``update`` or ``query``).

    A program counts where it is the command run (past ``sudo``/``env``), or anywhere
    in the arguments of a wrapper (``xargs``, ``timeout``...): not as the operand of any
    other command (``pip install ansible``, ``mkdir /etc/ansible``).
    """
    found: list[AptUse] = []
    for command in iter_simple_commands(shell.script):
        words = command_words(command)
        if not words:
            continue
        wrapped = posixpath.basename(words[0].value) in _WRAPPERS
        for index, word in enumerate(words if wrapped else words[:1]):
            name = posixpath.basename(word.value)
            if name not in _LIST_PROGRAMS:
                continue
            operands = [w.value for w in words[index + 1 :] if not w.value.startswith("-")]
            if name == "rosdep" and "install" not in operands:
                break  # ``rosdep update``/``resolve``/``check`` leave apt alone
            if name in _APT_LIKE and operands and operands[0] in _NEEDS_NO_LISTS:
                found.append(AptUse(command, operands[0]))
                break
            found.append(AptUse(command, f"query:{name}"))
            break
    return found


def _hidden_program(text: str) -> str:
    """A ``_LIST_PROGRAMS`` call in text dockfix cannot parse (``sh -c``, exec form,
    ``CMD``), not after an apt update in that text: the program's name, or ``""``."""
    update = _MENTIONS_UPDATE.search(text)
    for match in _MENTIONS_PROGRAM.finditer(text + " "):
        if update is not None and update.start() < match.start():
            return ""
        name = match.group(1)
        if name == "rosdep" and "install" not in text[match.end() :]:
            continue
        return name
    return ""


def _hidden_text(shell: RunShell) -> str:
    """The text of the RUN's commands that hide others (``sh -c``, ``eval``, ``$(...)``)."""
    parts = []
    for command in iter_simple_commands(shell.script):
        if command_name(command) in _HIDING:
            parts.append(shell.script.text[command.start : command.end])
        else:
            parts.extend(w.text for w in command.words if "$(" in w.text or "`" in w.text)
    return "\n".join(parts)


def relies_on_lists(instruction: Instruction) -> str:
    """Why ``instruction`` may need the package lists left by an earlier RUN, or ``""``."""
    parsed = run_shell(instruction)
    if isinstance(parsed, RunShell):
        uses = apt_uses(parsed)
        readers = [use.command for use in uses if reads_lists(use)]
        first_update = first_update_at(uses)
        if readers and (first_update is None or readers[0].start < first_update):
            return f"the RUN on line {instruction.line} reads the lists without its own update"
        programs = program_uses(parsed)
        updates = [u.command.start for u in programs if u.action == "update"]
        if first_update is not None:
            updates.append(first_update)
        for use in programs:
            if use.action.startswith("query:") and (
                not updates or use.command.start < min(updates)
            ):
                name = use.action.removeprefix("query:")
                return (
                    f"the RUN on line {instruction.line} runs {name}, which reads the lists "
                    "without an update of its own"
                )
        if runs_script(parsed):
            return f"the RUN on line {instruction.line} runs a script that may read the lists"
        if not hides_commands(parsed):
            return ""
        text = parsed.script.text
        hidden = _hidden_program(_hidden_text(parsed))
    elif instruction.cmd in ("RUN", "ONBUILD", "CMD", "ENTRYPOINT"):
        text = instruction.text  # exec form, heredocs, unparsed shell: read the raw text
        hidden = _hidden_program(text)
    else:
        return ""
    if hidden:
        return (
            f"the {instruction.cmd} on line {instruction.line} may run {hidden}, which reads "
            "the lists, without an update"
        )
    if _MENTIONS_APT.search(text + " ") and "update" not in text:
        return f"the {instruction.cmd} on line {instruction.line} may use apt without an update"
    return ""


def needed_later(model: FileModel, instruction: Instruction) -> str:
    """Why something on top of ``instruction``'s layer may need its lists, or ``""``."""
    for later in instructions_after(model, instruction):
        reason = relies_on_lists(later)
        if reason:
            return reason
    return ""


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    message = "`apt-get update` leaves the package lists in the layer; remove them in the same RUN"
    for stage in document.stages:
        for shell in stage_runs(stage):
            instruction = shell.instruction
            uses = apt_uses(shell)
            first_update = first_update_at(uses)
            if first_update is None:
                continue  # no update in this RUN: the lists are not this RUN's doing
            readers = [u.command for u in uses if reads_lists(u) and u.command.start > first_update]
            if not readers:
                continue  # an update alone is DF103's business (merge it into the install)
            if has_mount_under(instruction, LISTS):
                continue  # a cache/tmpfs mount keeps the lists out of the layer already
            last = readers[-1]
            cleaned = [u.command for u in uses if u.action == "dist-clean"]
            cleaned += [c for c in iter_simple_commands(shell.script) if removes_lists(c)]
            if any(command.start > last.start for command in cleaned):
                continue  # already removed after the last command that reads them
            chain = and_chain(shell.script)
            if chain is None:
                yield rule.finding(message, instruction, note="the RUN is not a plain && chain")
                continue
            blocked = needed_later(context.model, instruction)
            if blocked:
                yield rule.finding(message, instruction, note=blocked)
                continue
            prefix = "sudo " if under_sudo(last) else ""
            new = append_command(document, shell, chain, prefix + CLEAN_UP)
            yield rule.finding(message, instruction, edits=[Edit(instruction, (new,))])


RULE = Rule(
    code="DF105",
    name="apt-lists-not-removed",
    summary="Remove /var/lib/apt/lists/* in the RUN that ran `apt-get update`",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    preconditions=(
        Precondition.LINUX,
        Precondition.POSIX_SHELL,
    ),
)
