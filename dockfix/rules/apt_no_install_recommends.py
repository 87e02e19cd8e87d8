"""DF106 apt-no-install-recommends: ``apt-get install`` pulls in recommended packages.

What it does
    Finds ``apt-get install`` (and ``apt install``) without ``--no-install-recommends``
    and adds the option right after ``install``.

Why is this bad?
    By default apt installs every package the requested ones merely *recommend*:
    documentation, optional tools, often whole desktop libraries.  They make the image
    larger and widen its attack surface without being needed to run the application.

Example
    ``RUN apt-get install -y curl`` becomes
    ``RUN apt-get install --no-install-recommends -y curl``.

Fix safety
    Unsafe.  Recommended packages are dropped, and the build or the container may need
    some of them.  Where the need is clear the fix keeps them by naming them in the same
    install (the ``RECOMMENDS`` table of this module, from Debian's package
    metadata): ``curl``, ``wget``,
    ``git``, ``nodejs``/``npm`` recommend ``ca-certificates``, which a later
    ``curl``/``wget``/``git clone`` of an ``https://`` URL (later in the same RUN, in a
    later RUN, or in a stage built on this one) or ``npm install`` needs; ``git``
    recommends ``openssh-client``, needed by ``git clone git@...``/``ssh://``; ``gpg``
    recommends ``gnupg`` (``dirmngr``), needed by ``gpg --recv-keys`` and
    ``apt-key adv --keyserver``.  The fix reason names what was added and what may
    still change: the other recommendations of the table's packages (``git`` no longer
    brings ``less``/``patch``, ``python3-pip`` no longer ``build-essential``...) and the
    unknown ones of other packages, which the application may need at run time.
    A package list that pins versions (``curl=7.88.1-10``) gets no unpinned name (hadolint
    DL3008): the reason says which package goes missing and why.  Commands that already
    decide (``--install-recommends``,
    ``-o APT::Install-Recommends=...``) and stages whose RUNs configure
    ``Install-Recommends`` are left alone.

References
    practices.md row 4 (apt hygiene); hadolint DL3015.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dockfix.edits import Applicability, Edit, FixAvailability, rewrite_shell
from dockfix.lazy_dataclass import dataclass
from dockfix.model import FileModel
from dockfix.model.preconditions import Precondition
from dockfix.rules._hygiene import (
    APT,
    is_apt,
    packages,
    runs_before_apt_setting,
    word_position,
)
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Finding, Rule, RuleContext
from dockfix.shell import (
    PackageCommand,
    SimpleCommand,
    Word,
    classify,
    command_name,
    command_words,
    iter_simple_commands,
)
from dockfix.syntax import Dockerfile, Instruction

#: Package -> recommended packages worth knowing, from Debian bookworm / Ubuntu noble
#: metadata (``apt-cache show PKG``, Recommends field).  apt also installs what the
#: dependencies recommend, so those count: ``curl`` gets ``ca-certificates`` from its
#: ``libcurl4``; ``npm`` from ``nodejs``; ``gpg`` recommends ``gnupg``, which depends on
#: ``dirmngr`` (the key fetcher).  Consumers (who needs which) are in ``_needs``.
#: A package missing here may still recommend something: the reason says so.
RECOMMENDS: dict[str, tuple[str, ...]] = {
    "curl": ("ca-certificates",),
    "libcurl4": ("ca-certificates",),
    "wget": ("ca-certificates",),
    "git": ("ca-certificates", "openssh-client", "patch", "less"),
    "gpg": ("gnupg", "dirmngr"),
    "nodejs": ("ca-certificates", "nodejs-doc"),
    "npm": ("ca-certificates", "build-essential", "node-gyp"),
    "python3-pip": ("build-essential", "python3-dev", "python3-wheel"),
    "openssh-client": ("xauth",),
    "gnupg": ("gnupg-l10n",),
    "dirmngr": ("gnupg",),
}
#: Commands of the build that need a recommended package, and which one: see ``_needs``.
NEEDS_DOC = {
    "ca-certificates": "HTTPS with curl/wget/git, npm/yarn registry downloads",
    "openssh-client": "git over ssh (git@host:..., ssh://)",
    "dirmngr": "gpg --recv-keys / --keyserver, apt-key adv --keyserver",
    "gnupg": "apt-key adv, gpg --recv-keys",
}
_GIT_REMOTE_ACTIONS = frozenset({"clone", "fetch", "pull", "ls-remote", "submodule", "push"})
_KEY_FETCH = ("--recv-keys", "--recv-key", "--recv", "--keyserver", "--fetch-keys", "--locate-keys")
_NODE_NETWORK = frozenset({"npm", "npx", "yarn", "pnpm", "corepack"})


@dataclass(frozen=True)
class Need:
    """A recommended package a later command needs, and the command (for the reason)."""

    package: str
    why: str


def decides_recommends(package: PackageCommand) -> bool:
    """True when the command line already says whether recommends are installed."""
    if package.has_option("--no-install-recommends", "--install-recommends"):
        return True
    return any("install-recommends" in v.value.lower() for v in package.option_values("-o"))


def _url_words(words: Sequence[Word]) -> list[str]:
    return [w.value for w in words if w.is_literal]


def _needs(command: SimpleCommand, line: int) -> list[Need]:
    """The recommended packages this command needs (the table's consumers)."""
    name = command_name(command) or ""
    words = command_words(command)
    values = _url_words(words[1:])
    where = f"`{name}` on line {line}"
    found: list[Need] = []
    if name in ("curl", "wget") and any(
        v.startswith("https://") or "https://" in v for v in values
    ):
        found.append(Need("ca-certificates", f"{where} fetches https://"))
    if name == "git" and any(v in _GIT_REMOTE_ACTIONS for v in values):
        if any("https://" in v for v in values):
            found.append(Need("ca-certificates", f"{where} uses https://"))
        if any(v.startswith(("git@", "ssh://")) for v in values):
            found.append(Need("openssh-client", f"{where} uses ssh"))
    if name in ("gpg", "gpg2") and any(v.startswith(_KEY_FETCH) for v in values):
        found.append(Need("dirmngr", f"{where} fetches keys"))
    if name == "apt-key" and "adv" in values:
        found.append(Need("gnupg", f"{where} runs gpg"))
        if any(v.startswith(_KEY_FETCH) for v in values):
            found.append(Need("dirmngr", f"{where} fetches keys"))
    if name in _NODE_NETWORK and any(v in ("install", "ci", "i", "add") for v in values):
        found.append(Need("ca-certificates", f"{where} downloads from the registry"))
    return found


def _names(package: PackageCommand) -> set[str]:
    return {w.value.split("=", 1)[0].split(":", 1)[0] for w in package.packages if w.is_literal}


def _installed_before(model: FileModel, instruction: Instruction) -> set[str]:
    """System packages the lineage installed before ``instruction``."""
    facts = model.stage_of(instruction)
    if facts is None:
        return set()
    found: set[str] = set(facts.parent.installed) if facts.parent is not None else set()
    for earlier in facts.stage.instructions:
        if earlier is instruction:
            break
        found |= _apt_installs(earlier)
    return found


def _apt_installs(instruction: Instruction) -> set[str]:
    shell = run_shell(instruction)
    if not isinstance(shell, RunShell):
        return set()
    found: set[str] = set()
    for package in packages(shell, APT):
        if package.action == "install":
            found |= _names(package)
    return found


def _later_commands(
    model: FileModel, shell: RunShell, after: int
) -> Iterator[tuple[SimpleCommand, int]]:
    """Commands that run after offset ``after`` of ``shell``: the rest of the RUN, then the
    RUNs of the stage and of the stages built on it (with their line numbers)."""
    for command in iter_simple_commands(shell.script):
        if command.start >= after:
            yield command, shell.instruction.line
    facts = model.stage_of(shell.instruction)
    if facts is None:
        return
    for later in facts.instructions_after(shell.instruction):
        parsed = run_shell(later)
        if isinstance(parsed, RunShell):
            for command in iter_simple_commands(parsed.script):
                yield command, later.line


def _kept(
    model: FileModel, shell: RunShell, package: PackageCommand
) -> tuple[list[Need], list[str]]:
    """Recommended packages to name in the install (needed later), and what may change."""
    wanted = _names(package)
    recommended: dict[str, str] = {}
    for name in sorted(wanted):
        for rec in RECOMMENDS.get(name, ()):
            recommended.setdefault(rec, name)
    have = wanted
    needs: list[Need] = []
    if recommended:  # (else no later command can need one: nothing to read)
        have = have | _installed_before(model, shell.instruction)
        for command, line in _later_commands(model, shell, package.command.end):
            classified = classify(command)
            if classified is not None and is_apt(classified, "install"):
                have |= _names(classified)
            for need in _needs(command, line):
                fresh = all(n.package != need.package for n in needs)
                if need.package in recommended and need.package not in have and fresh:
                    needs.append(need)
    added = {n.package for n in needs}
    lost: dict[str, list[str]] = {}
    for rec, owner in recommended.items():
        if rec not in added and rec not in have:
            lost.setdefault(owner, []).append(rec)
    changes = [f"{owner} no longer brings {', '.join(recs)}" for owner, recs in lost.items()]
    unknown = sorted(name for name in wanted if name not in RECOMMENDS)
    if unknown:
        changes.append(
            f"recommends of {', '.join(unknown[:6])}{'...' if len(unknown) > 6 else ''} are dropped"
        )
    return needs, changes


def _insert_package(
    document: Dockerfile, shell: RunShell, package: PackageCommand, name: str
) -> tuple[int, str]:
    """Where and what to insert so ``name`` joins the package list in its layout: on its
    own line, in sorted place, for a one-per-line list; after the last package otherwise."""
    words = list(package.packages)
    instruction = shell.instruction
    physical = instruction.text
    eol = "\r\n" if "\r\n" in physical else "\n"
    escape = document.escape

    def indent_of(word: Word) -> str | None:
        at = instruction.offset_of(shell.base + word.start)
        indent = physical[physical.rfind("\n", 0, at) + 1 : at]
        return indent if not indent.strip() else None

    one_per_line = len(words) > 1 and all(indent_of(w) is not None for w in words[1:])
    if one_per_line and indent_of(words[0]) is not None:
        later = [w for w in words if w.value > name]
        if later and later[0] is words[0]:
            return words[0].start, f"{name} {escape}{eol}{indent_of(words[0])}"
        anchor = words[words.index(later[0]) - 1] if later else words[-1]
        return anchor.end, f" {escape}{eol}{indent_of(anchor)}{name}"
    return words[-1].end, f" {name}"


def _findings(
    rule: Rule,
    document: Dockerfile,
    model: FileModel,
    shell: RunShell,
    missing: list[PackageCommand],
    message: str,
) -> Iterator[Finding]:
    inserts: list[tuple[int, str]] = []
    added: list[Need] = []
    changes: list[str] = []
    for package in missing:
        assert package.subcommand_word is not None
        inserts.append((package.subcommand_word.end, " --no-install-recommends"))
        needs, may_change = _kept(model, shell, package)
        pinned = any("=" in word.value for word in package.packages)
        for need in needs:
            if pinned:
                # An unpinned name in a pinned list is what hadolint DL3008 reports: say
                # what goes missing instead of guessing a version.
                changes.append(
                    f"{need.package} is no longer installed but {need.why} "
                    "(the list pins versions: add it with its version)"
                )
            # One earlier command of this RUN naming it is enough (same fix, same layer).
            elif package.packages and all(n.package != need.package for n in added):
                inserts.append(_insert_package(document, shell, package, need.package))
                added.append(need)
        changes.extend(c for c in may_change if c not in changes)
    spans = [(end, end, text) for end, text in _at_offsets(inserts)]
    new = rewrite_shell(document, shell, spans)
    edit = Edit(shell.instruction, (new,))
    reason = REASON
    if added:
        reason += "; kept by naming them: " + ", ".join(f"{n.package} ({n.why})" for n in added)
    if changes:
        reason += "; may change: " + "; ".join(changes)
    for package in missing:
        assert package.subcommand_word is not None
        at = word_position(shell, package.subcommand_word.start)
        yield rule.finding(message, at, edits=[edit], reason=reason)


def _at_offsets(inserts: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Inserts at the same offset merged, in order (the edit API takes one per place)."""
    merged: dict[int, str] = {}
    for offset, text in inserts:
        merged[offset] = merged.get(offset, "") + text
    return sorted(merged.items())


REASON = (
    "--no-install-recommends skips packages apt would install as recommended; "
    "the application may need some of them at run time"
)


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    model = context.model
    message = "`apt-get install` without `--no-install-recommends` installs extra packages"
    for shell in runs_before_apt_setting(document, "install-recommends"):
        missing = [
            package
            for package in packages(shell, APT)
            if is_apt(package, "install")
            and package.subcommand_word is not None
            and not decides_recommends(package)
        ]
        if not missing:
            continue
        yield from _findings(rule, document, model, shell, missing, message)


RULE = Rule(
    code="DF106",
    name="apt-no-install-recommends",
    summary="Pass `--no-install-recommends` to `apt-get install` to keep the image small",
    applicability=Applicability.UNSAFE,
    fix_availability=FixAvailability.ALWAYS,
    check=check,
    explanation=__doc__ or "",
    preconditions=(
        Precondition.LINUX,
        Precondition.POSIX_SHELL,
    ),
)
