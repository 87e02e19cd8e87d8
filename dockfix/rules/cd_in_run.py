"""DF111 cd-in-run: ``RUN cd /dir && ...`` instead of ``WORKDIR /dir``.

What it does
    Turns a ``RUN`` that starts with ``cd /dir &&`` into ``WORKDIR /dir`` followed by the
    ``RUN`` without the ``cd``.

Why is this bad?
    A ``cd`` lasts for one ``RUN``: the next instruction is back in the old folder, which
    is easy to forget, and every ``RUN`` that needs the folder repeats the ``cd``.
    ``WORKDIR`` says where the following instructions run, once, and creates the folder.

Example
    ``RUN cd /src && make && make install`` becomes ``WORKDIR /src`` +
    ``RUN make && make install``.

Fix safety
    The ``RUN`` itself runs in the same folder.  What changes is that the instructions
    after it (and the container, through the image's working directory) also run in
    ``/dir``.  So the fix is **safe** only when a later ``WORKDIR`` with an absolute
    path in the same stage sets the folder again before anything that could depend on
    it (``RUN``, ``COPY``/``ADD``/``VOLUME`` to a relative path, a relative ``WORKDIR``,
    ``CMD``, ``ENTRYPOINT``, ``HEALTHCHECK``, ``ONBUILD``); otherwise it is **unsafe**
    and says so.  It is unsafe too when ``/dir`` is a mount target of the ``RUN`` or
    inside one, or holds one and may not exist otherwise: ``WORKDIR`` runs before the
    mount and leaves the folder in the image.  A relative folder is resolved against the
    working directory when an absolute ``WORKDIR`` of the file set it, and when every
    variable of the ``WORKDIR`` lines that set it is an ``ENV`` whose value the file
    fixes.  Reported without a fix: ``cd`` to a relative folder where the working
    directory comes from the base image, or from a build argument (``WORKDIR
    /opt/${APP}`` after ``ARG APP=demo``, an ``ENV`` set from an ``ARG``, ``ARG
    TARGETARCH``: ``--build-arg`` can change it, and the ``WORKDIR`` would freeze its
    default), or from a variable the file does not set; ``~`` or a path with variables,
    ``cd`` with options, scripts that are not a plain ``&&`` chain, a script that reads
    ``OLDPWD`` or runs ``cd -``, a ``RUN`` whose mounts have relative targets, and a
    ``RUN`` with comment lines inside it.

References
    hadolint DL3003.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import FixAvailability, FixBuilder
from dockfix.model import StageFacts
from dockfix.model.expand import expand
from dockfix.model.preconditions import Precondition
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.shell import SimpleCommand, iter_simple_commands, top_level_and_chain
from dockfix.syntax import Instruction

#: Instructions that never read the working directory.
_CWD_FREE = frozenset({"ENV", "ARG", "LABEL", "EXPOSE", "USER", "STOPSIGNAL", "MAINTAINER"})
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+@%,")
#: Every name a WORKDIR/ENV value refers to (an escaped ``\$NAME`` counts too: erring
#: on the side of "depends on a variable").
_REFERENCE = lazy_re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def _target(command: SimpleCommand, base: str | None, frozen: str) -> tuple[str | None, str]:
    """The absolute folder of ``cd DIR``, or why it cannot be a WORKDIR (``frozen``: why
    the working directory ``base`` may not be the one the build runs in)."""
    words = command.words
    if command.assignments or command.redirects or len(words) != 2:
        return None, "`cd` with options, redirections or several arguments"
    target = words[1]
    if not target.is_literal or not set(target.value) <= _PLAIN:
        return None, "the folder has variables, quotes or `~`"
    if target.value.startswith("-"):
        return None, "`cd` with options"
    folder = target.value
    if not folder.startswith("/"):
        if frozen:
            return None, frozen
        if base is None:
            return None, "the folder is relative and the working directory is not known"
        folder = posixpath.join(base, folder)
    return "/" + posixpath.normpath(folder).lstrip("/"), ""


def _workdir(facts: StageFacts, instruction: Instruction) -> str | None:
    """The working directory ``instruction`` runs in, when an absolute ``WORKDIR`` of the
    file set it (the base image's own is not trusted)."""
    for ancestor in reversed(facts.lineage):
        for candidate in ancestor.stage.instructions:
            if candidate is instruction:
                break
            if (
                candidate.cmd == "WORKDIR"
                and candidate.value
                and candidate.value[0].startswith("/")
            ):
                workdir = facts.at(instruction).workdir
                return workdir if workdir and workdir.startswith("/") else None
    return None


def _origin(text: str, env: dict[str, str], args: set[str]) -> str:
    """What a build may change in ``text``: "" when every variable it refers to is an ENV
    whose value the file fixes, else where the first other one comes from (ENV wins over
    ARG, as in BuildKit)."""
    for name in _REFERENCE.findall(text):
        if name in env:
            if env[name]:
                return env[name]
        elif name in args:
            return f"ARG {name}, which --build-arg can change"
        else:
            return f"${name}, which the file does not set"
    return ""


def _frozen(facts: StageFacts, instruction: Instruction) -> str:
    """Why the working directory ``instruction`` runs in may differ from the one the model
    resolved ("" when it cannot): a ``WORKDIR`` that sets it refers to a build argument
    (any ``ARG``, predefined ones such as ``TARGETARCH`` and ARGs whose default comes
    from another ARG included: ``--build-arg`` overrides them all), to an ``ENV`` whose
    value comes from one, or to a variable the file does not set (the base image's)."""
    env: dict[str, str] = {}  # ENV name -> _origin of its value
    why = ""
    for ancestor in reversed(facts.lineage):
        args: set[str] = set()  # ARGs are per stage; ENV values carry to child stages
        for candidate in ancestor.stage.instructions:
            if candidate is instruction:
                break
            cmd, values = candidate.cmd, candidate.value
            if cmd == "ARG":
                args.update(word.partition("=")[0] for word in values)
            elif cmd == "ENV":
                before = dict(env)  # a pair may see the values before or after the others
                for key, value in zip(values[0::2], values[1::2], strict=False):
                    origin = _origin(value, before, args) or _origin(value, env, args)
                    if origin.startswith("ARG ") and "through ENV" not in origin:
                        name, _, rest = origin.partition(",")
                        origin = f"{name} through ENV {key},{rest}"
                    env[key] = origin
            elif cmd == "WORKDIR" and values:
                own = _origin(values[0], env, args)
                if own:
                    why = (
                        f"the working directory comes from {own}: WORKDIR would freeze its default"
                    )
                    continue
                resolved = expand(values[0], ancestor.at(candidate).variables)
                if resolved is not None and resolved.startswith("/"):
                    why = ""  # an absolute folder fixed in the file: what came before is gone
    return why


def _mount_overlap(mounts: list[str], folder: str, workdir: str | None) -> str:
    """Why ``WORKDIR folder`` would leave a folder in the image that the RUN's mounts
    only make during the RUN ("" when none): the folder is a mount target or inside one,
    or holds one (then the folder may exist only as the mount's parent; not when it is
    ``/`` or the working directory or one of its parents, which exist)."""
    for mount in mounts:
        for part in mount.split(","):
            if not part.startswith(("target=", "dst=", "destination=")):
                continue
            target = part.split("=", 1)[1]
            clean = "/" + posixpath.normpath(target).lstrip("/") if "$" not in target else target
            inside = "$" in target or clean == "/" or (folder + "/").startswith(clean + "/")
            holds = (clean + "/").startswith(folder.rstrip("/") + "/")
            exists = folder == "/" or (
                workdir is not None and (workdir + "/").startswith(folder.rstrip("/") + "/")
            )
            if inside:
                return (
                    f"WORKDIR {folder} runs before the RUN mounts {target}: it creates "
                    f"{folder} in the image, which the RUN alone does not"
                )
            if holds and not exists:
                return (
                    f"the RUN mounts {target} inside {folder}: WORKDIR {folder} creates "
                    f"{folder} in the image, which may exist only for the mount"
                )
    return ""


def _later_need(facts: StageFacts, instruction: Instruction) -> str:
    """What after ``instruction`` could depend on its working directory ("" when a later
    absolute WORKDIR sets it again first)."""
    own = facts.stage.instructions
    index = next(i for i, candidate in enumerate(own) if candidate is instruction)
    for later in own[index + 1 :]:
        cmd = later.cmd
        if cmd == "WORKDIR" and later.value and later.value[0].startswith("/"):
            return ""
        if cmd in _CWD_FREE:
            continue
        if cmd in ("COPY", "ADD", "VOLUME") and not later.is_json and later.value:
            paths = later.value[-1:] if cmd != "VOLUME" else later.value
            if all(path.startswith("/") for path in paths):
                continue
        return f"the {cmd} on line {later.line} would run in the new folder"
    return "later instructions and the container would run in the new folder"


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for facts in context.model.stages:
        for instruction in facts.stage.instructions:
            shell = run_shell(instruction)
            if not isinstance(shell, RunShell):
                continue
            body = shell.script.body
            first = body.items[0] if body.items else None
            if not isinstance(first, SimpleCommand) or not first.words:
                continue
            if first.words[0].value != "cd" or len(body.items) < 2:
                continue
            message = "use WORKDIR to switch to a folder instead of `cd` in RUN"
            position = instruction.position_of(shell.base + first.start)
            chain = top_level_and_chain(shell.script)
            if chain is None:
                yield rule.finding(message, position, note="the script is not a plain && chain")
                continue
            base = _workdir(facts, instruction)
            first_folder = first.words[1].value if len(first.words) == 2 else ""
            relative = not first_folder.startswith(("/", "-"))
            frozen = _frozen(facts, instruction) if relative else ""
            folder, why = _target(first, base, frozen)
            if folder is None:
                yield rule.finding(message, position, note=why)
                continue
            script = shell.script
            if "OLDPWD" in script.text or any(
                c.words
                and c.words[0].value == "cd"
                and len(c.words) > 1
                and c.words[1].value == "-"
                for c in iter_simple_commands(script)
            ):
                yield rule.finding(message, position, note="the script uses OLDPWD or `cd -`")
                continue
            if instruction.comments:
                yield rule.finding(message, position, note="comment lines inside the RUN")
                continue
            mounts = [f.value or "" for f in instruction.flags if f.name == "mount"]
            if any(
                part.split("=", 1)[1][:1] not in ("/", "")
                for mount in mounts
                for part in mount.split(",")
                if part.startswith(("target=", "dst=", "destination="))
            ):
                yield rule.finding(message, position, note="a mount has a relative target")
                continue
            start = shell.base + chain[0].start
            end = shell.base + chain[1].start
            new_run = document.edit_logical(instruction, [(start, end, "")])
            keyword = "workdir" if instruction.keyword.islower() else "WORKDIR"
            workdir = document.make_instruction(f"{keyword} {folder}")
            edits = FixBuilder(document).insert_before(
                document.with_comments_above(instruction), workdir
            )
            edits.replace(instruction, new_run)
            need = "; ".join(
                reason
                for reason in (
                    _mount_overlap(mounts, folder, base),
                    _later_need(facts, instruction),
                )
                if reason
            )
            yield rule.finding(
                message,
                position,
                edits=edits.edits(),
                applicability=Applicability.UNSAFE if need else Applicability.SAFE,
                reason=need,
            )


RULE = Rule(
    code="DF111",
    name="cd-in-run",
    summary="Use `WORKDIR` instead of starting a `RUN` with `cd dir &&`",
    applicability=Applicability.SAFE,
    fix_kinds=(Applicability.SAFE, Applicability.UNSAFE),
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"RUN"}),
    preconditions=(Precondition.LINUX, Precondition.POSIX_SHELL),
)
