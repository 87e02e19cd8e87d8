"""What the container does as it starts: its entrypoint and the ports it binds.

Some of it cannot be read from the Dockerfile: an entrypoint script that is not in the
build context (copied from another stage, unpacked from an archive, the base image's
own).  Switching user does not change the build there, only whether the container
starts, so such a fact is a ``Risk``: DF201 still offers its (unsafe) fix, and the
fix's reason names the risk.  What the Dockerfile shows to need root (a script using
``gosu`` or ``chown``, an image that installs ``su-exec``, a server that manages its
own workers, a port below 1024) is a ``FixRefused``: no fix.  A port below 1024 is
known to fail for a non-root user wherever the runtime keeps the kernel's default
``net.ipv4.ip_unprivileged_port_start=1024`` (Kubernetes, podman, older Docker), so
moving the server to another port is the author's change, not a guess of ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from dockfix.images import ImageTraits
from dockfix.lazy_dataclass import dataclass
from dockfix.model.copied import inside
from dockfix.model.expand import expand
from dockfix.model.users import serves_by_default
from dockfix.rules.refusal import FixRefused
from dockfix.rules.runs_as_root.family import ASPNET_PORT_80
from dockfix.rules.runs_as_root.image import (
    Folders,
    Image,
    candidates,
    origin_at,
    resolve,
    run_commands,
    runtime_scripts,
    script_path,
    volume_paths,
)
from dockfix.rules.runs_as_root.policy import ROOT_TOOL_PACKAGES, SCRIPT_NEEDS_ROOT
from dockfix.shell import classify, command_words, iter_simple_commands


@dataclass(frozen=True)
class Risk:
    """A fact the fix relies on that cannot be read, and that matters only to the running
    container: the fix is offered (unsafe) and its reason says ``reason``."""

    reason: str
    kind: str


#: Packages of daemons that start as root: an image that installs one runs it.
ROOT_DAEMON_PACKAGES = frozenset({"openssh-server", "supervisor", "cron", "cronie", "systemd"})
#: What an unread entrypoint may do that fails without root.
NEEDS_ROOT = (
    "if it needs root (`chown`, `gosu`/`su-exec`, writes to system folders, ports below "
    "1024) the container fails at start"
)
#: Why a port below 1024 stops the fix.
LOW_PORTS = (
    "a non-root user can bind it only where the container runtime sets "
    "net.ipv4.ip_unprivileged_port_start=0 (Docker 20.10 and later do; Kubernetes, podman "
    "and older engines do not by default): move the server to a port above 1023 first"
)


def exposed_port_findings(image: Image) -> Iterator[FixRefused | Risk]:
    """EXPOSE of a port below 1024, or an image whose server binds one.

    Refused: the server fails at start under runtimes that keep the default
    unprivileged port range.
    """
    for instruction in image.instructions:
        if instruction.cmd != "EXPOSE":
            continue
        for word in instruction.value:
            expanded = expand(word, image.variables) or ""
            first = expanded.split("/", 1)[0].split("-", 1)[0]
            if first.isdigit() and 0 < int(first) < 1024:
                yield FixRefused(
                    f"EXPOSE {expanded} is a port below 1024: {LOW_PORTS}", kind="privileged-port"
                )
                break
    notes = image.traits.notes if image.traits is not None else ()
    for note in notes:
        if note == ASPNET_PORT_80:
            if not _aspnet_ports_moved(image.variables):
                yield FixRefused(f"{note}: {LOW_PORTS}", kind="privileged-port")
        elif "port" in note:
            yield FixRefused(note, kind="privileged-port")
            return


def _aspnet_ports_moved(variables: Mapping[str, str | None]) -> bool:
    """The Dockerfile sets ASP.NET Core's ports, all of them 1024 or above."""
    values = [variables.get(name) for name in ("ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS")]
    given = [value for value in values if value]
    ports = [int(port) for value in given for port in re.findall(r"(?:^|[:;,])(\d+)", value)]
    return bool(given) and bool(ports) and min(ports) >= 1024


def entrypoint_findings(image: Image, folders: Folders) -> Iterator[FixRefused | Risk]:
    """An entrypoint that may need root: the base image's, or a script of the Dockerfile."""
    traits = image.traits
    own = any(i.cmd == "ENTRYPOINT" for i in image.instructions)
    if not own and traits is not None and traits.shell:
        ref = image.facts.root.image
        if traits.entrypoint is None and ref is not None and serves_by_default(ref.repository):
            # Database and server images start through their own entrypoint, which
            # commonly steps down from root itself (gosu, su-exec).
            yield FixRefused(
                f"the base image `{ref.repository}` starts its server through an ENTRYPOINT "
                "the Dockerfile does not show, which may change user",
                kind="entrypoint",
            )
        elif traits.entrypoint is None:
            yield Risk(f"the base image's ENTRYPOINT is not known: {NEEDS_ROOT}", "entrypoint")
        elif traits.entrypoint and not _harmless_base_entrypoint(traits):
            words = " ".join(traits.entrypoint)
            yield FixRefused(
                f"the base image's ENTRYPOINT `{words}` may change user", kind="entrypoint"
            )
    for _, command in run_commands(image):
        package = classify(command)
        if package is None or package.action not in ("install", "add"):
            continue
        for word in package.packages:
            if word.value in ("gosu", "su-exec", "sudo"):
                yield FixRefused(
                    f"the image installs `{word.value}` to change user", kind="entrypoint"
                )
                return
            if word.value in ROOT_DAEMON_PACKAGES:
                yield FixRefused(
                    f"the image installs `{word.value}`, a daemon that starts as root",
                    kind="entrypoint",
                )
                return
    provided = _provided_user_switcher(image)
    if provided is not None:
        yield provided
        return
    yield from _script_findings(image, folders)


def root_tool_risks(image: Image) -> Iterator[Risk]:
    """Packages the image installs whose programs need root when they run (``iptables``,
    ``kmod``, the docker daemon and client): the container may run them (a VPN, a CSI
    driver, docker-in-docker), and the reason must say that they then fail."""
    found: dict[str, str] = {}
    for _, command in run_commands(image):
        package = classify(command)
        if package is None or package.action not in ("install", "add"):
            continue
        for word in package.packages:
            programs = ROOT_TOOL_PACKAGES.get(word.value)
            if programs is not None:
                found.setdefault(word.value, programs)
    if found:
        named = ", ".join(
            f"`{name}`" if programs == name else f"`{name}` (`{programs}`)"
            for name, programs in found.items()
        )
        yield Risk(
            f"the image installs {named}, whose programs need root (or the docker socket) "
            "when they run: if the container runs them, they fail as the new user",
            "root-tools",
        )


def volume_mount_risks(image: Image, folders: Folders) -> Iterator[Risk]:
    """The image's VOLUMEs (the blockers leave only the application's own): a named
    volume starts with the image's owner, the new user's, but a bind mount keeps the
    owner it has on the host, which the Dockerfile cannot show."""
    paths: list[str] = []
    for instruction in image.instructions:
        if instruction.cmd == "VOLUME":
            for path in volume_paths(instruction, folders, image):
                if path is not None and path not in paths:
                    paths.append(path)
    if paths:
        listed = ", ".join(f"`{path}`" for path in paths[:3])
        verb = "is a VOLUME" if len(paths) == 1 else "are VOLUMEs"
        yield Risk(
            f"{listed} {verb}: a named volume starts owned by the new user, but a bind "
            f"mount (`-v DIR:{paths[0]}`) keeps its owner on the host, who must let the "
            "new user write there",
            "volume-mount",
        )


#: Tools whose only use is to step down from root: an image that fetches, copies or runs
#: one has an entrypoint that starts as root and changes user itself (docker-library's
#: postgres and redis download ``gosu`` with ``wget`` and check it with ``gosu nobody true``).
USER_SWITCHERS = frozenset({"gosu", "su-exec"})


def _provided_user_switcher(image: Image) -> FixRefused | None:
    """``gosu``/``su-exec`` brought in other than by a package install: downloaded,
    linked or run by a RUN, or copied by a COPY/ADD."""
    for instruction, command in run_commands(image):
        for word in command_words(command):
            name = word.value.rstrip("/").rsplit("/", 1)[-1]
            if name in USER_SWITCHERS:
                return FixRefused(
                    f"line {instruction.line} brings in `{name}` to change user", kind="entrypoint"
                )
    for instruction in image.instructions:
        if instruction.cmd in ("COPY", "ADD"):
            for path in instruction.value:
                name = path.rstrip("/").rsplit("/", 1)[-1]
                if name in USER_SWITCHERS:
                    return FixRefused(
                        f"line {instruction.line} copies `{name}` to change user",
                        kind="entrypoint",
                    )
    return None


def _harmless_base_entrypoint(traits: ImageTraits) -> bool:
    """node's docker-entrypoint.sh only puts ``node`` in front of a script argument, and
    php's docker-php-entrypoint ``php`` in front of an option; neither changes user."""
    if traits.entrypoint == ("docker-php-entrypoint",):
        return True
    return traits.nonroot_user == "node" and traits.entrypoint == ("docker-entrypoint.sh",)


def _script_findings(image: Image, folders: Folders) -> Iterator[FixRefused | Risk]:
    """The first script the container runs: unreadable (a risk), or using root's tools.

    Only a script read from the build context is known: one copied from another stage
    (``COPY --from``), downloaded or unpacked from an archive by ``ADD``, or not copied
    at all (the base image's, or made by a RUN) may do anything.  Without a shell
    (distroless, scratch) nothing can run a script at all.
    """
    if not image.has_shell:
        return
    for script in runtime_scripts(image):
        for command in iter_simple_commands(script):
            path = script_path([word.value for word in command_words(command)])
            if path is None:
                continue
            resolved = resolve(path, folders.app, image.variables) or path
            is_script = path.endswith((".sh", ".bash"))
            if folders.app and inside(resolved, folders.app) and not is_script:
                return  # the app's own program, built in its folder
            origins = (
                origin_at(image, folders, candidate)
                for candidate in candidates(path, folders.app, image.variables)
            )
            origin = next((found for found in origins if found is not None), None)
            if origin is None or origin.text is None:
                why = origin.why if origin is not None else ""
                why = why or "cannot be read from the build context"
                yield Risk(f"the entrypoint `{path}` {why}: {NEEDS_ROOT}", "entrypoint")
            else:
                code = "\n".join(line.split("#", 1)[0] for line in origin.text.splitlines())
                match = SCRIPT_NEEDS_ROOT.search(code)
                if match is not None:
                    found = match.group(0).strip()
                    yield FixRefused(
                        f"the entrypoint `{path}` runs `{found}` (root)", kind="entrypoint"
                    )
            return
