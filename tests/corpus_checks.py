"""Checks of one rewritten file that every corpus run makes (independent of the rules).

Each check reads only the input and output texts, never a rule's own idea of what it
did: BuildKit still accepts the output and reads it as dockfix does, no comment line is
lost, a second run changes nothing, every added ``USER`` names a user that exists, and
every CMD/ENTRYPOINT turned into exec form runs the words the shell would have run.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter

import dockerfile
from conftest import OracleCannotTell, oracle_records, record_differences
from final_config import config_differences, process_word

from dockfix.engine import comment_lines
from dockfix.images import lookup
from dockfix.syntax import Instruction, parse

#: Words that start a user-creating command, and the options that take a value.
_USER_TOOLS = re.compile(r"(?:^|[\s;&|(])(useradd|adduser)\s+([^;&|\n]*)")
_VALUE_OPTIONS = frozenset(
    re.findall(
        r"\S+",
        """-b -c -d -e -f -g -G -k -K -p -s -u -Z -R -P -h --base-dir --comment --home-dir
        --home --expiredate --inactive --gid --groups --skel --key --password --shell --uid
        --root --prefix --ingroup --gecos --firstuid --lastuid""",
    )
)
_SHELL_SYNTAX = frozenset("$`\\|&;<>()*?[]#~{}\n")


def accepted(text: str) -> bool | None:
    """Whether BuildKit accepts ``text``; None when the oracle cannot tell."""
    try:
        oracle_records(text)
    except dockerfile.GoParseError:
        return False
    except OracleCannotTell:
        return None
    return True


#: Final-image settings a fix may add, by the rule that says so in its finding:
#: DF205's Python variables (``ENV`` name -> value).
_ADDED_ENV = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
#: Settings only unsafe fixes change, each saying so: USER (DF201), WORKDIR (DF111's
#: ``cd`` -> ``WORKDIR``), SHELL (DF112's pipefail), HEALTHCHECK (DF210, opt-in, adds one).  CMD
#: and ENTRYPOINT are checked by ``exec_form_mismatches``.
_UNSAFE_KEYS = frozenset({"USER", "WORKDIR", "SHELL", "HEALTHCHECK"})
_CHECKED_ELSEWHERE = frozenset({"CMD", "ENTRYPOINT"})
_AUTHORS = ("LABEL", "org.opencontainers.image.authors")


def _venv_on_path(old: object, new: object) -> bool:
    """DF202's venv split puts the virtualenv's ``bin`` first on ``PATH`` (unsafe, said)."""
    folder, _, rest = str(new).partition("/bin:")
    return folder.startswith("/") and rest == (old if old is not None else "$PATH")


def config_changes(before: str, after: str, *, unsafe: bool = False) -> list[str]:
    """Changes to the final image's configuration that no fix declares.

    Allowed: DF205's variables added, ``MAINTAINER`` turned into the
    ``org.opencontainers.image.authors`` label with the same text (DF003), and with
    unsafe fixes the settings in ``_UNSAFE_KEYS``.  Anything else (an ``ENV`` or
    ``LABEL`` lost or changed by a stage split, an ``EXPOSE`` moved...) is a failure.
    """
    failures = []
    differences = config_differences(before, after)
    found = {(key, name): (old, new) for key, name, old, new in differences}
    maintainer = found.get(("MAINTAINER", ""))
    authors = found.get(_AUTHORS)
    # DF003: the MAINTAINER's text (its enclosing quotes dropped) now in the authors label.
    moved = (
        maintainer is not None
        and authors is not None
        and maintainer[1] is None
        and authors[0] is None
        and authors[1] in (maintainer[0], process_word(str(maintainer[0])))
    )
    declared = {_AUTHORS, ("MAINTAINER", "")} if moved else set()
    for key, name, old, new in differences:
        if key in _CHECKED_ELSEWHERE or (unsafe and key in _UNSAFE_KEYS) or (key, name) in declared:
            continue
        if key == "ENV" and old is None and _ADDED_ENV.get(name) == new:
            continue
        if unsafe and (key, name) == ("ENV", "PATH") and _venv_on_path(old, new):
            continue
        label = f"{key} {name}".strip()
        failures.append(f"final image config: {label}: {old!r} -> {new!r}")
    return failures


def output_failures(before: str, after: str, *, unsafe: bool = False) -> list[str]:
    """What is wrong with ``after`` as a rewrite of ``before`` (empty: nothing)."""
    failures: list[str] = []
    if accepted(before) and not accepted(after):
        return ["BuildKit rejects the output"]
    if accepted(after):
        ours = [i.record() for i in parse(after).instructions]
        failures += list(record_differences(oracle_records(after), ours))[:1]
    lost = comment_lines(parse(before)) - comment_lines(parse(after))
    if lost:
        failures.append(f"lost comment lines {sorted(lost)[:2]}")
    failures += [f"unknown user: {bad}" for bad in added_unknown_users(before, after)]
    failures += [f"exec form: {bad}" for bad in exec_form_mismatches(before, after)]
    failures += [f"Windows stage: {bad}" for bad in linux_constructs_on_windows(before, after)]
    failures += config_changes(before, after, unsafe=unsafe)
    return failures


#: FROM images and directives that make a stage Windows (independent of dockfix's model).
_WINDOWS_FROM = re.compile(
    r"windowsservercore|nanoserver|servercore|ltsc20\d\d|mcr\.microsoft\.com/(windows|dotnet/framework)",
    re.IGNORECASE,
)
_WINDOWS_SHELL = re.compile(
    r"^\s*SHELL\s*\[\s*\"(powershell|pwsh|cmd)", re.IGNORECASE | re.MULTILINE
)
#: Linux-only constructs a fix may add: a BuildKit cache mount, user tools, an && join.
_LINUX_ONLY = {
    "cache mount": re.compile(r"--mount=type=cache"),
    "user tools": re.compile(r"\b(useradd|groupadd|adduser|addgroup)\b"),
    "&& join": re.compile(r"&&"),
}


def _windows_stage_texts(text: str) -> list[str]:
    """The text of each Windows stage, in order (a stage built on one is Windows too)."""
    document = parse(text)
    backtick = document.escape == "`"
    windows_aliases: set[str] = set()
    texts = []
    for stage in document.stages:
        body = "".join(i.to_string() for i in stage.instructions)
        image = stage.from_instruction.value[0].lower() if stage.from_instruction.value else ""
        is_windows = (
            backtick
            or bool(_WINDOWS_FROM.search(stage.from_instruction.to_string()))
            or image in windows_aliases
            or bool(_WINDOWS_SHELL.search(body))
        )
        if is_windows:
            if stage.alias:
                windows_aliases.add(stage.alias.lower())
            texts.append(body)
    return texts


def linux_constructs_on_windows(before: str, after: str) -> list[str]:
    """Linux-only constructs a rewrite added to a Windows stage."""
    old, new = _windows_stage_texts(before), _windows_stage_texts(after)
    found = []
    for index, (was, now) in enumerate(zip(old, new, strict=False)):
        for name, pattern in _LINUX_ONLY.items():
            if len(pattern.findall(now)) > len(pattern.findall(was)):
                found.append(f"stage {index}: {name} added")
    return found


def _created_in(run_text: str) -> set[str]:
    """Login names that ``useradd``/``adduser`` commands in a RUN's text create."""
    names: set[str] = set()
    for match in _USER_TOOLS.finditer(run_text.replace("\\\n", " ")):
        try:
            words = shlex.split(match.group(2), comments=True)
        except ValueError:
            words = match.group(2).split()
        index = 0
        while index < len(words):
            word = words[index]
            if word in _VALUE_OPTIONS:
                index += 2
                continue
            if not word.startswith("-"):
                names.add(word)
                break
            index += 1
    return names


def _known_nonroot(image_text: str) -> str | None:
    """The non-root user the image table says an image ships (``node``, ``nonroot``)."""
    name, _, tag = image_text.partition(":")
    traits = lookup(name, tag or None)
    return traits.nonroot_user if traits else None


def added_unknown_users(before: str, after: str) -> list[str]:
    """``USER`` lines of ``after`` not in ``before`` that name a user which no RUN of the
    same or an earlier stage creates, which the base image does not ship, and which is
    not a numeric uid."""
    old = Counter(i.text.strip() for i in parse(before).instructions if i.cmd == "USER")
    # A copy of the original's own ``USER root`` (DF202's builder repeats the stage's
    # steps on the same base) names a user the original already relied on.
    root_used = any(text.split()[1:2] == ["root"] for text in old)
    # Any USER line of the original, repeated in a stage from the same base image: DF202's
    # builder repeats the stage's steps in order, so the user exists there as it did
    # (``nobody`` of the base, ``_graphite`` made by a package's install).
    same_base = _users_by_base(before)
    bad = []
    created: set[str] = set()
    image_user: str | None = None
    image = ""
    for instruction in parse(after).instructions:
        if instruction.cmd == "FROM":
            image = instruction.value[0] if instruction.value else ""
            image_user = _known_nonroot(image) if image else None
        elif instruction.cmd == "RUN":
            created |= _created_in(instruction.text)
        elif instruction.cmd == "USER" and instruction.value:
            text = instruction.text.strip()
            if (image, text) in same_base:
                continue
            if old[text]:
                old[text] -= 1
                continue
            user = instruction.value[0].split(":")[0]
            if not (user.isdigit() or user in created or user == image_user) and not (
                user == "root" and root_used
            ):
                bad.append(f"line {instruction.line}: USER {user}")
    return bad


def _users_by_base(text: str) -> set[tuple[str, str]]:
    """(base image as written, USER line) for each USER line of a file."""
    found = set()
    image = ""
    for instruction in parse(text).instructions:
        if instruction.cmd == "FROM":
            image = instruction.value[0] if instruction.value else ""
        elif instruction.cmd == "USER":
            found.add((image, instruction.text.strip()))
    return found


def _commands(text: str) -> list[Instruction]:
    return [i for i in parse(text).instructions if i.cmd in ("CMD", "ENTRYPOINT")]


def exec_form_mismatches(before: str, after: str) -> list[str]:
    """A shell-form CMD/ENTRYPOINT made exec form must run the words ``/bin/sh`` split.

    Plain words (no shell syntax) must become exactly their ``shlex`` split; anything
    else must become ``["/bin/sh", "-c", "exec " + original]``.  Instructions are paired
    in order; files where the count changed (a stage split) compare the last ones.
    """
    old, new = _commands(before), _commands(after)
    if len(old) != len(new):
        old, new = old[-1:], new[-1:]
    bad = []
    for first, second in zip(old, new, strict=False):
        if first.is_json or not second.is_json or not first.value:
            continue
        shell = first.value[0]
        words = _without_added_worker_tmp_dir(list(second.value), shell)
        if _SHELL_SYNTAX & set(shell):
            script = shell if shell.startswith("exec ") else f"exec {shell}"
            if words[:2] == ["/bin/sh", "-c"] and len(words) == 3:
                words[2] = words[2].replace(" --worker-tmp-dir /dev/shm", "", 1)
            if words == ["/bin/sh", "-c", script]:
                continue
        elif words == _plain_words(shell):
            continue
        bad.append(f"line {second.line}: {shell!r} -> {list(second.value)!r}")
    return bad


def _plain_words(shell: str) -> list[str]:
    """The argv ``/bin/sh -c`` runs for text without expansions (a leading ``exec`` is
    the shell replacing itself, which exec form does anyway)."""
    words = shlex.split(shell)
    return words[1:] if words[:1] == ["exec"] else words


def _without_added_worker_tmp_dir(words: list[str], shell: str) -> list[str]:
    """Undo DF206's ``--worker-tmp-dir /dev/shm`` (its fixtures check it) for comparison."""
    option = "--worker-tmp-dir"
    if option in shell or option not in words:
        return words
    index = words.index(option)
    return words[:index] + words[index + 2 :]
