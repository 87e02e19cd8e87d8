"""The DF202 fix: the builder stage above, and the final stage edited in place."""

from __future__ import annotations

from collections.abc import Sequence

from dockfix.edits import Edit, FixBuilder, FixRefused
from dockfix.rules._shell import CommandKey, RunShell, command_key, run_shell
from dockfix.rules.build_tools_in_final_image.base import Base
from dockfix.rules.build_tools_in_final_image.checks import (
    APT,
    INSTALL_ONLY,
    BuildInstall,
    Purge,
    Site,
)
from dockfix.rules.build_tools_in_final_image.project import project_spans, setup_spans
from dockfix.rules.build_tools_in_final_image.replay import capture_commands, unpack_command
from dockfix.rules.build_tools_in_final_image.rewrite import (
    Rewrite,
    apply_rewrite,
    covers,
    deletion_spans,
    drop_apt_housekeeping,
    trim_install,
    trim_purge,
)
from dockfix.rules.build_tools_in_final_image.runtime_scan import (
    INSTALLERS,
    bind_flag,
    copy_commands,
    install_commands,
    mount_flag,
    scan_command,
    written_by_scan,
)
from dockfix.rules.build_tools_in_final_image.slim import SlimMove
from dockfix.rules.build_tools_in_final_image.unknown_base import (
    check_wheel_position,
    pip_head,
    prepend_span,
    wheel_install,
)
from dockfix.shell import Manager, SimpleCommand
from dockfix.syntax import Dockerfile, Instruction, Stage
from dockfix.syntax.nodes import BlankLine, Comment, Node

WHEELS = "/wheels"
VENV = "/opt/venv"
#: Instructions that only describe the image: the builder, which is never run, skips them.
_RUNTIME_ONLY = frozenset(
    {"LABEL", "EXPOSE", "HEALTHCHECK", "CMD", "ENTRYPOINT", "STOPSIGNAL", "MAINTAINER", "ONBUILD"}
)


class Split:
    """Builds the fix: the builder stage above, and the edits to the original stage."""

    def __init__(
        self,
        document: Dockerfile,
        stage: Stage,
        installs: list[BuildInstall],
        sites: list[Site],
        runtime: dict[int, tuple[str, ...]],
        strategy: str,
        linked: tuple[str, ...] = (),
        base: Base | None = None,
        slim: SlimMove | None = None,
    ) -> None:
        self.document = document
        self.stage = stage
        self.installs = installs
        self.sites = sites
        self.runtime = runtime
        self.strategy = strategy
        #: Runtime libraries of packages built on the full image, for the final stage.
        self.linked = linked
        #: The command that runs the builder's library scan.
        self.python = base.python if base is not None else "python"
        self.alpine = base.alpine if base is not None else False
        #: ``debian``, ``alpine`` or ``rhel``: the scan; and the manager that installs
        #: its list in the final stage.
        self.family = base.family if base is not None else "debian"
        self.manager = base.manager if base is not None else "apt-get"
        #: Packages the builder's first build install adds (``python3-wheel``).
        self.builder_packages = base.builder_packages if base is not None else ()
        #: The builder installs ``wheel`` with each pip before that pip's first build.
        self.pip_wheel = base.pip_wheel if base is not None else False
        self.pips_with_wheel: set[str] = set()
        #: The -slim image the final stage moves to (a full python base), if any, and
        #: the tools it installs at its start.
        self.slim = slim
        #: The final stage cannot run its package manager (an archived Debian release):
        #: the builder's scan copies the libraries' files (see ``runtime_scan``).
        self.copied = slim is not None and slim.copies_libraries
        self.style = document.style
        self.alias = _builder_name(document)
        self.result = FixBuilder(document)
        #: Comment lines that move to the builder, by the instruction they belong to.
        self.moved_comments: dict[int, list[Comment]] = {}
        #: Removals of build packages: the final stage never installs them.
        self.purges: list[Purge] = []
        #: The ``venv`` strategy's environment; ``make_venv`` False: the installs make
        #: it themselves (``uv sync``'s project ``.venv``, see ``managers.py``) and the
        #: Dockerfile sets its own PATH.
        self.venv = VENV
        self.make_venv = True
        #: Installs (their commands' ids) that the builder also makes, from its wheels,
        #: as the final stage does: a Python program after them uses the packages (see
        #: ``checks.check_between_sites``).
        self.builder_installs: set[CommandKey] = set()
        #: pip runs as a user: the ``USER`` line where the stage last runs as root before
        #: it (see ``checks.check_users``); None when pip runs as root.
        self.user_switch: Instruction | None = None
        #: RUNs of Node installs the builder runs and the final stage unpacks (see
        #: ``replay``).
        self.replays: list[Instruction] = []

    def keyword(self, name: str) -> str:
        return self.style.keyword(name)

    def line(self, text: str) -> Instruction:
        return self.document.make_instruction(text, self.style.eol)

    def edits(self) -> list[Edit]:
        if self.extended() and any(site.locked is not None for site in self.sites):
            raise FixRefused(
                "a Node install to replay comes after the last install, which is a lock's: "
                "the builder would have to install it as the final stage does; split it by "
                "hand"
            )
        system = self.family != "debian" and self.pip_wheel  # Alpine's or RHEL's Python
        if system and any(site.package is None for site in self.sites):
            raise FixRefused(
                "`setup.py install` on a system Python of Alpine or the RHEL family is "
                "not split (the pip it would run is not known to be 9 or newer)"
            )
        self.final_stage()
        builder = self.builder_stage()
        if self.strategy == "wheels" and not _has_syntax(self.document):
            # RUN --mount needs the Dockerfile 1.2+ frontend on older BuildKit builders.
            directive = self.document.make_directive("syntax", "docker/dockerfile:1")
            self.result.prepend(directive)
        anchor = _leading_comments(self.document, self.stage.from_instruction)
        first = anchor[0] if anchor else self.stage.from_instruction
        blank = BlankLine("", self.style.eol, 0)
        self.result.insert_before(first, *builder, blank)
        if self.slim is not None:
            self.to_slim()
        return list(self.result.edits())

    def to_slim(self) -> None:
        """The final stage from the -slim image (DF203's fix, made with the split: the
        compilers the full image brought are in the builder now)."""
        instruction = self.stage.from_instruction
        text = self.stage.image.text
        piece = next((p for p in instruction.arguments if p.text == text), None)
        if piece is None:
            raise FixRefused("the base image is not written as one word")
        assert self.slim is not None
        slim = self.document.replace_piece(instruction, piece, self.slim.image)
        early = [self.tools_run(self.slim.early)] if self.slim.early else []
        self.result.replace(instruction, slim, *early)

    def tools_run(self, packages: tuple[str, ...]) -> Instruction:
        """The install, right after FROM, of the full image's tools that lines before
        the first pip install use (``wget``): with apt-get's commands of ``INSTALLERS``,
        which leave no lists behind, as the image had none."""
        installer = INSTALLERS["apt-get"]
        install = f"{installer.install} {' '.join(packages)}"
        commands = [*installer.before, install, *installer.after]
        return self.line(f"{self.keyword('RUN')} {self.chained(commands)}")

    def chained(self, commands: list[str]) -> str:
        """Commands joined by ``&&``, one a continuation line."""
        style = self.style
        return f" && {style.escape}{style.eol}{style.indent}".join(commands)

    # -- the final stage: the original, edited in place ---------------------------------

    def final_stage(self) -> None:
        for instruction in self.replays:
            self.result.replace(instruction, self.replay_unpack(instruction))
        rewrites = self.final_rewrites()
        first_site = self.sites[0].shell.instruction
        for instruction in self.stage.instructions:
            rewrite = rewrites.get(id(instruction))
            if rewrite is None:
                continue
            splice = apply_rewrite(self.document, rewrite)
            new = splice.instruction if splice is not None else None
            if new is not None and self.strategy == "wheels" and self.has_site(instruction):
                new = self.document.add_flag(new, bind_flag(self.alias, WHEELS, WHEELS))
            replacement: list[Node] = []
            if splice is not None and new is not None:
                replacement = [*splice.above, new]
            if self.strategy == "venv" and instruction is first_site:
                replacement[:0] = [
                    self.line(f"{self.keyword('COPY')} --from={self.alias} {self.venv} {self.venv}")
                ]
                if self.make_venv:
                    replacement.insert(1, self.line(f"{self.keyword('ENV')} PATH={VENV}/bin:$PATH"))
            if instruction is first_site and not self.runtime_above_switch():
                _check_lists_kept(self.sites[0].shell, rewrite)
                replacement[:0] = [self.runtime_run()]
            if not replacement:
                self.drop(instruction)
            else:
                self.result.replace(instruction, *replacement)
        if self.user_switch is not None and self.runtime_above_switch():
            comments = _leading_comments(self.document, self.user_switch)
            above: Node = comments[0] if comments else self.user_switch
            self.result.insert_before(above, self.runtime_run())

    def runtime_above_switch(self) -> bool:
        """pip first runs as a user: the runtime libraries' install (apt-get needs root)
        goes above the switch to that user, where the stage last runs as root."""
        if self.user_switch is None:
            return False
        instructions = self.stage.instructions
        first = instructions.index(self.sites[0].shell.instruction)
        return first > instructions.index(self.user_switch)

    def runtime_run(self) -> Instruction:
        """The install (``apt-get``, ``apk``, ``yum``...) of the packages the builder found
        its builds link (and of
        the libraries packages built on the full image are known to load): the final
        stage keeps them without the build packages (see ``runtime_scan``)."""
        style = self.style
        mount = mount_flag(self.alias, copied=self.copied)
        head = f"{self.keyword('RUN')} {mount} {style.escape}{style.eol}"
        if self.copied:
            commands = copy_commands()
        else:
            commands = install_commands(self.linked, manager=self.manager)
        return self.line(f"{head}{style.indent}{self.chained(commands)}")

    def has_site(self, instruction: Instruction) -> bool:
        return any(site.shell.instruction is instruction for site in self.sites)

    def final_rewrites(self) -> dict[int, Rewrite]:
        rewrites: dict[int, Rewrite] = {}

        def rewrite_of(shell: RunShell) -> Rewrite:
            key = id(shell.instruction)
            if key not in rewrites:
                rewrites[key] = Rewrite(shell, [], [])
            return rewrites[key]

        for install in self.installs:
            trim_install(rewrite_of(install.shell), install, self.runtime)
        for site in self.sites:
            rewrite = rewrite_of(site.shell)
            rewrite.removed += site.dropped  # ``setup.py build`` before the install
            if self.strategy == "venv":
                rewrite.removed.append(site.item)
            else:
                rewrite.spans += final_site_spans(site)
        for purge in self.purges:
            trim_purge(rewrite_of(purge.shell), purge)
        for rewrite in rewrites.values():
            drop_apt_housekeeping(rewrite)
        return rewrites

    def drop(self, instruction: Instruction) -> None:
        """Remove an instruction from the final stage; its comments go to the builder."""
        comments = _leading_comments(self.document, instruction)
        self.result.delete(instruction)
        for comment in comments:
            self.result.delete(comment)
        self.moved_comments[id(instruction)] = comments
        nodes = self.document.nodes
        start = _index(nodes, comments[0] if comments else instruction)
        end = _index(nodes, instruction)
        before = nodes[start - 1] if start > 0 else None
        after = nodes[end + 1] if end + 1 < len(nodes) else None
        double_blank = isinstance(after, BlankLine) and (
            before is None or isinstance(before, BlankLine)
        )
        if double_blank and after is not None and not self.result.replaced(after):
            self.result.delete(after)  # no double blank line where the RUN was

    # -- the builder: the stage's steps up to the last install, building -----------------

    def last_site(self) -> int:
        """The index of the last install's instruction in the stage."""
        instructions = self.stage.instructions
        return max(instructions.index(site.shell.instruction) for site in self.sites)

    def extended(self) -> bool:
        """A replayed Node install comes after the last pip install: the builder goes on
        to it, installing what it builds as the final stage does (so the steps after the
        last install run there as in the original), and scans at its end."""
        instructions = self.stage.instructions
        return any(instructions.index(replay) > self.last_site() for replay in self.replays)

    def builder_stage(self) -> list[Node]:
        instructions = self.stage.instructions
        last = max([self.last_site(), *(instructions.index(replay) for replay in self.replays)])
        first_pip = min(
            i for i, ins in enumerate(instructions) if _runs_pip(ins) or self.has_site(ins)
        )
        nodes: list[Node] = [self.builder_from()]
        for index, instruction in enumerate(instructions[: last + 1]):
            if instruction.cmd in _RUNTIME_ONLY:
                continue
            if self.strategy == "venv" and self.make_venv and index == first_pip:
                nodes.append(self.line(f"{self.keyword('RUN')} python -m venv {VENV}"))
                nodes.append(self.line(f"{self.keyword('ENV')} PATH={VENV}/bin:$PATH"))
            for comment in self.moved_comments.get(id(instruction), []):
                nodes.append(Comment(comment.text, comment.eol or self.style.eol, 0))
            if instruction is self.user_switch:
                nodes.append(self.open_to_user())
            if any(instruction is replay for replay in self.replays):
                nodes.extend(self.replay_capture(instruction))
                continue
            nodes.extend(self.builder_copy(instruction))
        if self.extended():
            nodes.append(self.line(f"{self.keyword('RUN')} {self.scan()}"))
        return nodes

    def replay_capture(self, instruction: Instruction) -> list[Node]:
        """The builder's copy of a replayed RUN: a marker before its commands, and the
        list and tar of what changed after them (see ``replay``)."""
        shell = run_shell(instruction)
        assert isinstance(shell, RunShell)
        items = shell.script.body.items
        start, end = items[0].start, items[-1].end
        before, after = capture_commands(instruction.line)
        rewrite = Rewrite(shell, [(start, start, f"{before} && "), (end, end, f" && {after}")], [])
        splice = apply_rewrite(self.document, rewrite)
        assert splice is not None
        return [*splice.above, self.copy_of(splice.instruction)]

    def replay_unpack(self, instruction: Instruction) -> Instruction:
        """The final stage's RUN in place of a replayed one: unpack the builder's tar."""
        flag, command = unpack_command(self.alias, instruction.line)
        style = self.style
        head = f"{self.keyword('RUN')} {flag} {style.escape}{style.eol}"
        return self.line(f"{head}{style.indent}{command}")

    def open_to_user(self) -> Instruction:
        """Before the switch to the user who runs pip: ``/wheels`` and the scan's list,
        which a user cannot create at ``/``, made by root and writable by every user
        (root's wheels there too, which the user's ``pip wheel`` may replace)."""
        written = written_by_scan(self.copied)[0]
        commands = (
            f"mkdir -p {WHEELS}",
            f"chmod -R a+rwX {WHEELS}",
            f"touch {written}",
            f"chmod a+rw {written}",
        )
        return self.line(f"{self.keyword('RUN')} {' && '.join(commands)}")

    def builder_from(self) -> Instruction:
        instruction = self.stage.from_instruction
        flags = "".join(f" {piece.text}" for piece in instruction.pieces_of("flag"))
        as_word = "AS" if instruction.keyword.isupper() else "as"
        text = f"{instruction.keyword}{flags} {self.stage.image.text} {as_word} {self.alias}"
        return self.line(text)

    def builder_copy(self, instruction: Instruction) -> list[Node]:
        """The builder's copy of a step, with the comment lines that go above it."""
        sites = [s for s in self.sites if s.shell.instruction is instruction]
        extra = self.wheel_package_spans(instruction)
        if not sites and not extra:
            return [self.copy_of(instruction)]
        shell = sites[0].shell if sites else self.installs[0].shell
        instructions = self.stage.instructions
        extended = self.extended()
        scanned = instruction is instructions[self.last_site()] and not extended
        rewrite = Rewrite(shell, extra, [])
        if self.strategy == "wheels":
            for site in sites:
                key = command_key(site.shell.instruction, site.command)
                installed = extended or key in self.builder_installs
                if installed and site.locked is None:
                    rewrite.spans = _build_then_install(rewrite.spans, site)
                else:
                    _to_pip_wheel(rewrite, site)
            if self.pip_wheel:
                rewrite.spans = self.wheel_first(shell, sites, rewrite.spans)
        for site in sites:
            if site.builder_check:  # right after the install, as a lock's export is
                end = site.command.end
                rewrite.spans.append((end, end, f" && {site.builder_check}"))
        inline = self.builder_tail(rewrite, sites, scanned) if sites else False
        splice = apply_rewrite(self.document, rewrite)
        assert splice is not None
        new = splice.instruction
        if scanned and not inline:
            new = self.with_scan(new)
        return [*splice.above, self.copy_of(new)]

    def builder_tail(self, rewrite: Rewrite, sites: list[Site], scanned: bool) -> bool:
        """What follows the RUN's last install leaves the builder (it would run without
        the packages installed: ``pip wheel`` installs nothing); in the last such RUN the
        scan takes its place.  True when the scan went in by a span, right after the
        install: the RUN's text goes on after it (a terminator ``;``, a shell comment
        ``# ...``, which would swallow a scan appended at the end).

        After ``;`` the scan runs whatever the install's status, as what followed did
        (``install; scan``: a failed install the original went on from does not stop
        the builder; the final stage's install then fails and goes on the same way).
        An earlier RUN that goes on after ``;`` is refused: dropping what follows would
        end it with the install's status, which the original ignored."""
        shell = rewrite.shell
        tail = _after_last_site(shell, sites)
        body = shell.script.body
        index = max(i for i, item in enumerate(body.items) if any(item is s.item for s in sites))
        item = body.items[index]
        after = body.operators[index].text if index < len(body.operators) else None
        if tail and after not in ("&&", ";", "\n"):
            raise FixRefused(
                f"the RUN on line {shell.instruction.line} goes on after its pip install "
                f"with `{after}`: the builder, which drops what follows, would not run "
                "as the original did"
            )
        sequential = bool(tail) and after in (";", "\n")
        if sequential and not scanned:
            raise FixRefused(
                f"the RUN on line {shell.instruction.line} goes on after its pip install "
                "with `;`: the builder drops what follows, so the RUN would end with the "
                "install's status, which the original ignored"
            )
        end = tail[-1].end if tail else item.end
        rewrite.spans = [s for s in rewrite.spans if not any(covers(c, s) for c in tail)]
        rest = shell.script.text[end:]
        if not scanned or (not rest.strip() and not sequential):
            if tail:
                rewrite.spans.append((item.end, end, ""))
            return False
        style = self.style
        scan = self.scan()
        joiner = ";" if sequential else " &&"
        text = f"{joiner} {style.escape}{style.eol}{style.indent}{scan}"
        if end == item.end:  # nothing to drop: an edit ending with the install takes it
            ending = [i for i, (a, b, _) in enumerate(rewrite.spans) if a < b == end]
            if ending:
                a, b, old = rewrite.spans[ending[0]]
                rewrite.spans[ending[0]] = (a, b, old + text)
                return True
        rewrite.spans.append((item.end, end, text))
        return True

    def wheel_first(
        self, shell: RunShell, sites: list[Site], spans: list[tuple[int, int, str]]
    ) -> list[tuple[int, int, str]]:
        """``<pip> install wheel &&`` before the first build of each pip (see
        ``unknown_base``): older pips need the ``wheel`` package for ``pip wheel``."""
        text = shell.script.text
        for site in sorted(sites, key=lambda site: site.command.start):
            head = pip_head(text, site.package, site.command)
            if head in self.pips_with_wheel:
                continue
            check_wheel_position(shell, site.command)
            self.pips_with_wheel.add(head)
            install = wheel_install(text, site.package, site.command)
            spans = prepend_span(spans, site.item.start, install)
        return spans

    def wheel_package_spans(self, instruction: Instruction) -> list[tuple[int, int, str]]:
        """The builder's first build install also installs ``builder_packages``."""
        install = self.installs[0] if self.installs else None
        if not self.builder_packages or install is None:
            return []
        if install.shell.instruction is not instruction or not install.package.packages:
            return []
        end = install.package.packages[-1].end
        return [(end, end, "".join(f" {name}" for name in self.builder_packages))]

    def scan(self) -> str:
        """The builder's scan of what its builds link: the wheels, or the virtualenv."""
        directory = WHEELS if self.strategy == "wheels" else self.venv
        copied = self.linked if self.copied else None
        return scan_command(
            directory,
            self.style,
            self.python,
            family=self.family,
            copied=copied,
            replayed=bool(self.replays),
        )

    def with_scan(self, instruction: Instruction) -> Instruction:
        """The builder's last install, followed by the scan of what its builds link."""
        style = self.style
        text = instruction.text.rstrip("\r\n")
        return self.line(f"{text} && {style.escape}{style.eol}{style.indent}{self.scan()}")

    def copy_of(self, instruction: Instruction) -> Instruction:
        text = instruction.text
        if not text.endswith("\n"):
            text += self.style.eol
        return self.document.parse_instructions_one(text)


def _check_lists_kept(shell: RunShell, rewrite: Rewrite) -> None:
    """The runtime RUN, just above the first install, drops the apt lists: an ``apt-get
    install`` left in that install's RUN must update them itself first."""
    removed = {id(command) for command in rewrite.removed}
    updated = False
    for package in shell.packages():
        if package.manager not in APT or id(package.command) in removed:
            continue
        updated = updated or package.action == "update"
        if package.action == "install" and not updated:
            raise FixRefused(
                f"the RUN on line {shell.instruction.line} installs with apt-get without "
                "updating the lists, which the runtime libraries' install removes before it"
            )


def _builder_name(document: Dockerfile) -> str:
    """``builder``, or a name no stage of the file has taken."""
    taken = {(stage.alias or "").lower() for stage in document.stages}
    for name in ("builder", "wheel-builder"):
        if name not in taken:
            return name
    return next(f"wheel-builder-{n}" for n in range(2, 100) if f"wheel-builder-{n}" not in taken)


def _has_syntax(document: Dockerfile) -> bool:
    return any(directive.name == "syntax" for directive in document.directives)


def _runs_pip(instruction: Instruction) -> bool:
    shell = run_shell(instruction)
    return isinstance(shell, RunShell) and any(
        package.manager is Manager.PIP for package in shell.packages()
    )


def _index(nodes: Sequence[Node], node: Node) -> int:
    return next(i for i, candidate in enumerate(nodes) if candidate is node)


def _leading_comments(document: Dockerfile, instruction: Instruction) -> list[Comment]:
    """Comment lines directly above an instruction: they describe it."""
    index = _index(document.nodes, instruction)
    comments: list[Comment] = []
    while index > 0 and isinstance(document.nodes[index - 1], Comment):
        index -= 1
        comments.insert(0, document.nodes[index])  # type: ignore[arg-type]
    return comments


def _after_last_site(shell: RunShell, sites: list[Site]) -> list[SimpleCommand]:
    """Commands after the RUN's last pip install: in the builder they would run without
    the packages installed (``pip wheel`` installs nothing), so the builder drops them."""
    items = shell.script.body.items
    last = max(i for i, item in enumerate(items) if any(item is s.item for s in sites))
    after = list(items[last + 1 :])
    if any(not isinstance(item, SimpleCommand) for item in after):
        raise FixRefused(f"the RUN on line {shell.instruction.line} goes on after pip install")
    return after  # type: ignore[return-value]


def final_site_spans(site: Site) -> list[tuple[int, int, str]]:
    """The final stage's install for ``site``: from the builder's wheels, in place."""
    if site.locked is not None:
        return [(site.command.start, site.command.end, site.locked.final_text())]
    if site.package is None:
        assert site.setup is not None
        return [setup_spans(site.setup, builder=False, directory=site.project_dir)]
    word = site.package.subcommand_word
    assert word is not None
    text = f"{word.text[-1]} --no-index --find-links={WHEELS}"
    spans = [(word.end - 1, word.end, text)]
    if site.projects:
        spans += project_spans(site.shell, site.package, site.projects, site.project_dir)
    return spans


def _build_then_install(
    spans: list[tuple[int, int, str]], site: Site
) -> list[tuple[int, int, str]]:
    """The builder builds the wheels (``pip wheel ...``), then installs them as the final
    stage does (``pip install --no-index --find-links=/wheels ...``), so that a Python
    program after it sees the packages the original had there."""
    built = Rewrite(site.shell, [], [])
    _to_pip_wheel(built, site)
    command = site.command
    text = _applied(site.shell.script.text, command.start, command.end, built.spans)
    spans = [*spans, *final_site_spans(site)]
    return prepend_span(spans, command.start, f"{text} && ")


def _applied(text: str, start: int, end: int, spans: Sequence[tuple[int, int, str]]) -> str:
    """``text[start:end]`` with ``spans`` (offsets into ``text``, inside it) made."""
    piece = text[start:end]
    for first, last, new in sorted(spans, key=lambda span: (span[0], span[1]), reverse=True):
        if not start <= first <= last <= end:
            raise FixRefused("an edit of the builder's install reaches past its command")
        piece = piece[: first - start] + new + piece[last - start :]
    return piece


def _to_pip_wheel(rewrite: Rewrite, site: Site) -> None:
    """``pip install ARGS`` -> ``pip wheel --wheel-dir /wheels ARGS`` minus install-only
    options (``--upgrade``, ``--user``...), which ``pip wheel`` rejects; ``pipenv install
    --system`` and ``poetry install`` run as they are, followed by the export of their
    pins and their build."""
    if site.locked is not None:
        end = site.command.end
        rewrite.spans.append((end, end, f" && {site.locked.builder_text()}"))
        return
    package = site.package
    if package is None:
        assert site.setup is not None
        rewrite.spans.append(setup_spans(site.setup, builder=True, directory=site.project_dir))
        return
    word = package.subcommand_word
    assert word is not None
    rewrite.spans.append((word.start, word.end, f"wheel --wheel-dir {WHEELS}"))
    doomed = {
        id(word)
        for option in package.parsed_options
        if {option.flag, *option.names} & INSTALL_ONLY
        for word in option.words
    }
    rewrite.spans += deletion_spans(site.shell, package.command.words, doomed)
    if site.projects:
        rewrite.spans += project_spans(
            site.shell, package, site.projects, site.project_dir, INSTALL_ONLY
        )
