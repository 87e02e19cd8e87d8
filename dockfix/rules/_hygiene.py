"""Helpers shared by the package-manager hygiene rules (DF103-DF109, practice 4).

These rules all look at the package-manager commands of shell-form ``RUN``s and edit
them in one of two ways: insert an option right after the action word (``install -y``)
or append one more command to a plain ``&&`` chain (``&& rm -rf /var/lib/apt/lists/*``).
Both are text splices into the shell text, mapped back to the physical text by
``dockfix.edits.rewrite_shell``, so everything else keeps its bytes.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

from dockfix.edits import Edit, rewrite_shell
from dockfix.lazy_dataclass import dataclass
from dockfix.model import FileModel, has_mount_over
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Finding, Rule
from dockfix.shell import (
    Manager,
    Node,
    PackageCommand,
    Pipeline,
    ShellScript,
    SimpleCommand,
    classify,
    command_name,
    command_words,
    iter_nodes,
    iter_simple_commands,
)
from dockfix.syntax import Dockerfile, Instruction
from dockfix.syntax.document import Stage
from dockfix.syntax.nodes import Position

APT = frozenset({Manager.APT_GET, Manager.APT})
RPM = frozenset({Manager.YUM, Manager.DNF, Manager.MICRODNF})

#: apt actions that read the package lists (``apt-get update`` writes them).
APT_LIST_READERS = frozenset(
    {"install", "upgrade", "build-dep", "source", "download", "reinstall", "satisfy"}
    | {"show", "search", "policy", "list", "showsrc", "depends", "rdepends", "madison"}
)


def position(instruction: Instruction, logical_index: int) -> Position:
    """Where the character at ``logical_index`` of the logical line is in the file."""
    return instruction.position_of(logical_index)


def word_position(shell: RunShell, start: int) -> Position:
    """The position of a shell offset (a word's ``start``) of ``shell``."""
    return position(shell.instruction, shell.base + start)


def stage_runs(stage: Stage) -> Iterator[RunShell]:
    """The parsed shell of every shell-form RUN of the stage.

    Exec-form and heredoc RUNs and shells that do not parse are skipped silently: their
    commands cannot be located precisely enough to edit.
    """
    for instruction in stage.instructions:
        parsed = run_shell(instruction)
        if isinstance(parsed, RunShell):
            yield parsed


def packages(shell: RunShell, managers: Iterable[Manager]) -> list[PackageCommand]:
    """The shell's commands run by one of ``managers``, in source order."""
    wanted = frozenset(managers)
    return [package for package in shell.packages() if package.manager in wanted]


def is_apt(package: PackageCommand, *actions: str) -> bool:
    return package.manager in APT and (not actions or package.action in actions)


@dataclass(frozen=True)
class AptUse:
    """A command that runs apt, and what for (``update``, ``install``, ``query``...)."""

    command: SimpleCommand
    action: str


_APT_PROGRAMS = frozenset({"apt-get", "apt", "aptitude", "apt-cache"})


def apt_uses(shell: RunShell) -> list[AptUse]:
    """Every apt run of the RUN, also behind wrappers ``classify`` does not know.

    ``eatmydata apt-get install``, ``timeout 600 apt-get update``, ``aptitude install``
    and ``apt-cache policy`` count too: a rule that must know whether the package lists
    are read cannot afford to miss them.  Found once per script (DF105 asks again for
    every later RUN of the stage, every round; a parsed script never changes and is
    shared by every RUN of its text).
    """
    cache = shell.script.__dict__
    found = cache.get("_apt_uses")
    if found is None:
        found = cache["_apt_uses"] = tuple(_apt_uses(shell.script))
    return list(found)


def _apt_uses(script: ShellScript) -> list[AptUse]:
    found = []
    for command in iter_simple_commands(script):
        package = classify(command)
        if package is not None:
            if package.manager in APT:
                found.append(AptUse(command, package.action))
            continue
        words = command_words(command)
        for index, word in enumerate(words):
            if "apt" not in word.value:
                continue  # every one of _APT_PROGRAMS has it: no basename needed
            name = posixpath.basename(word.value)
            if name not in _APT_PROGRAMS:
                continue
            if name == "apt-cache":
                found.append(AptUse(command, "query"))
                break
            inner = SimpleCommand(words[index:], (), (), command.start, command.end)
            wrapped = classify(inner)
            operands = [w.value for w in words[index + 1 :] if not w.value.startswith("-")]
            action = wrapped.action if wrapped else (operands[0] if operands else "")
            found.append(AptUse(command, action))
            break
    return found


def reads_lists(use: AptUse) -> bool:
    return use.action in APT_LIST_READERS or use.action == "query"


def has_mount_under(instruction: Instruction, *directories: str) -> bool:
    """True when a cache or tmpfs mount covers (or sits inside) one of ``directories``.

    Either way the files the rule is about do not end up in the layer as they would
    without the mount, so the rule has nothing to say.  (The one mount parser:
    ``dockfix.model.mounts``.)
    """
    return has_mount_over(instruction, *directories, types=("cache", "tmpfs"))


def configures(shell: RunShell, setting: str) -> bool:
    """True when the RUN mentions an apt setting outside apt's own command lines.

    ``echo 'APT::Install-Recommends "0";' > /etc/apt/apt.conf.d/...`` configures every
    later apt run of the stage; ``apt-get install --no-install-recommends`` or
    ``apt-get -o APT::Install-Recommends=0`` only that command, which the rules read
    from its options.
    """
    text = shell.script.text
    wanted = setting.lower()
    if " " not in wanted and wanted not in text.lower():
        return False  # blanking commands out cannot make a setting without spaces appear
    for package in packages(shell, APT):
        command = package.command
        text = text[: command.start] + " " * (command.end - command.start) + text[command.end :]
    return setting.lower() in text.lower()


def stdin_fed(shell: RunShell) -> set[int]:
    """``id``s of commands that read a pipe (``yes | apt-get install``): prompts are answered."""
    fed: set[int] = set()
    for node in iter_nodes(shell.script):
        if isinstance(node, Pipeline):
            for command in node.commands[1:]:
                fed.add(id(command))
    return fed


def under_sudo(command: SimpleCommand) -> bool:
    """True when the command runs under sudo: a clean-up after it then needs sudo too."""
    words = command.words
    return bool(words) and posixpath.basename(words[0].value) == "sudo"


def sudo_prefix(package: PackageCommand) -> str:
    return "sudo " if under_sudo(package.command) else ""


def and_chain(script: ShellScript) -> tuple[Node, ...] | None:
    """The top-level items if the script is exactly ``i1 && i2 && ... && iN``, else None.

    Like ``top_level_and_chain`` but an item may be a pipeline, subshell, group or
    compound command: ``&& cmd`` appended after ``iN`` still runs only when everything
    before succeeded, and a failure still fails the RUN with the same status.  After
    ``;``, ``||``, ``&`` or a trailing terminator it might run where the original
    stopped (or alongside a background job), so those lists are refused.
    """
    body = script.body
    if not body.items or len(body.operators) != len(body.items) - 1:
        return None
    if any(op.text != "&&" for op in body.operators):
        return None
    if any(isinstance(item, SimpleCommand) and item.background for item in body.items):
        return None
    return body.items


_LEADING = "leading"
_TRAILING = "trailing"


def append_command(
    document: Dockerfile, shell: RunShell, chain: Sequence[Node], command: str
) -> Instruction:
    """The RUN with ``&& command`` appended after the last command of its ``&&`` chain.

    On a one-line RUN the command goes on the same line.  A RUN that already spans
    lines gets a new continuation line laid out like its own ``&&`` lines: ``&&`` at the
    start of the line or at the end of the previous one, with the same indentation.
    """
    instruction = shell.instruction
    end = chain[-1].end
    if "\n" not in instruction.text.rstrip("\r\n"):
        return rewrite_shell(document, shell, [(end, end, f" && {command}")])
    style, indent = _layout(document, shell, chain)
    eol = "\r\n" if "\r\n" in instruction.text else "\n"
    escape = document.escape
    if style == _TRAILING:
        text = f" && {escape}{eol}{indent}{command}"
    else:
        text = f" {escape}{eol}{indent}&& {command}"
    return rewrite_shell(document, shell, [(end, end, text)])


def _layout(document: Dockerfile, shell: RunShell, chain: Sequence[Node]) -> tuple[str, str]:
    """Where this RUN puts ``&&`` at a line break, and the indentation of those lines."""
    instruction = shell.instruction
    text = instruction.text
    escape = document.escape
    operators = shell.script.body.operators
    for operator, following in reversed(list(zip(operators, chain[1:], strict=False))):
        start = instruction.offset_of(shell.base + operator.start)
        before = text[text.rfind("\n", 0, start) + 1 : start]
        if not before.strip():
            return _LEADING, before
        finish = instruction.offset_of(shell.base + operator.end - 1) + 1
        line_end = text.find("\n", finish)
        after = text[finish : line_end if line_end >= 0 else len(text)]
        if after.strip() == escape:
            command_start = instruction.offset_of(shell.base + following.start)
            indent = text[text.rfind("\n", 0, command_start) + 1 : command_start]
            if not indent.strip():
                return _TRAILING, indent
    style, file_indent = _file_style(document)
    return style, file_indent if file_indent is not None else _continuation_indent(text)


def _file_style(
    document: Dockerfile, instructions: Sequence[Instruction] | None = None
) -> tuple[str, str | None]:
    r"""How the file's other RUNs (or ``instructions``) break lines at ``&&`` (before it
    on a tie), and the most common indentation of the lines that start with ``&&`` (or
    follow ``&& \``); None when no line does."""
    votes: Counter[str] = Counter()
    indents: dict[str, Counter[str]] = {_LEADING: Counter(), _TRAILING: Counter()}
    escape = document.escape
    for instruction in document.instructions if instructions is None else instructions:
        if instruction.cmd != "RUN":
            continue
        for kind, indent in _and_breaks(instruction, escape):
            votes[kind] += 1
            indents[kind][indent] += 1
    style = _TRAILING if votes[_TRAILING] > votes[_LEADING] else _LEADING
    common = indents[style].most_common(1)
    return style, common[0][0] if common else None


def _and_breaks(instruction: Instruction, escape: str) -> tuple[tuple[str, str], ...]:
    """``(style, indent)`` of each line of a RUN that starts with ``&&`` or follows
    ``&& \\``, in order: a function of the text and the escape character alone, so read
    once per instruction (``_file_style`` asks of every RUN of the file, every round)."""
    cache = instruction.__dict__
    known: tuple[str, tuple[tuple[str, str], ...]] | None = cache.get("_and_breaks")
    if known is not None and known[0] == escape:
        return known[1]
    trailing = re.compile(rf"&&\s*{re.escape(escape)}\s*$")
    found: list[tuple[str, str]] = []
    for before, line in itertools.pairwise(instruction.text.splitlines()):
        indent = line[: len(line) - len(line.lstrip())]
        if line.lstrip().startswith("&&"):
            found.append((_LEADING, indent))
        if trailing.search(before) and line.strip() and not line.lstrip().startswith("#"):
            found.append((_TRAILING, indent))
    breaks = tuple(found)
    cache["_and_breaks"] = (escape, breaks)
    return breaks


def join_layout(
    document: Dockerfile, instructions: Sequence[Instruction] | None = None
) -> tuple[bool, str | None]:
    """``(leading, indent)``: whether ``&&`` starts continuation lines in these RUNs (the
    file's by default), and those lines' indentation (None: no RUN breaks at ``&&``)."""
    style, indent = _file_style(document, instructions)
    return style == _LEADING, indent


def _continuation_indent(text: str) -> str:
    """The smallest indentation of the instruction's continuation lines."""
    indents = [
        line[: len(line) - len(line.lstrip())]
        for line in text.splitlines()[1:]
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return min(indents, key=len) if indents else "    "


def instructions_after(model: FileModel, instruction: Instruction) -> tuple[Instruction, ...]:
    """What runs on top of ``instruction``'s layer: the rest of its stage and every stage
    built from it (the model's lineage)."""
    facts = model.stage_of(instruction)
    return facts.instructions_after(instruction) if facts is not None else ()


def option_findings(
    rule: Rule,
    document: Dockerfile,
    shell: RunShell,
    commands: Sequence[PackageCommand],
    option: str,
    message: str,
    reason: str = "",
) -> Iterator[Finding]:
    """One fix adding ``option`` after each command's action word; a finding per command.

    The findings share the fix, so the engine applies it once, whichever it meets first.
    """
    ends = [p.subcommand_word.end for p in commands if p.subcommand_word]
    new = rewrite_shell(document, shell, [(end, end, f" {option}") for end in ends])
    edit = Edit(shell.instruction, (new,))
    for package in commands:
        assert package.subcommand_word is not None
        at = word_position(shell, package.subcommand_word.start)
        yield rule.finding(message, at, edits=[edit], reason=reason)


def runs_before_apt_setting(document: Dockerfile, setting: str) -> Iterator[RunShell]:
    """Each stage's RUNs up to the one that writes an apt configuration naming ``setting``.

    Such a setting (``assume-yes``, ``install-recommends``) answers for that RUN and the
    ones after it in the stage: the user already chose, so the option rules stop there.
    """
    for stage in document.stages:
        for shell in stage_runs(stage):
            if configures(shell, setting):
                break
            yield shell


#: Spellings of the apt lists folder whose removal cleans the lists.
_LISTS_REMOVED = frozenset(
    f"{root}{tail}"
    for root in ("/var/lib/apt/lists", "/var/lib/apt")
    for tail in ("", "/", "*", "/*", "/**", "/**/*", "/*.*")
)


def removes_lists(command: SimpleCommand) -> bool:
    """``rm -rf /var/lib/apt/lists/*`` and its spellings (also ``find ... -delete``)."""
    words = command_words(command)
    name = command_name(command)
    args = [word.value for word in words[1:]]
    if name == "rm":
        return any(arg.rstrip("/") in _LISTS_REMOVED or arg in _LISTS_REMOVED for arg in args)
    if name == "find":
        paths = list(itertools.takewhile(lambda arg: not arg.startswith(("-", "(", "!")), args))
        removes = "-delete" in args or "rm" in args
        return removes and any(path.rstrip("/") in _LISTS_REMOVED for path in paths)
    return False
