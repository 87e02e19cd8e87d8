"""Who DF201 switches to: a user the image has, or a new one made with its tool."""

from __future__ import annotations

import re
from dataclasses import replace

from dockfix.images import Family, ImageTraits
from dockfix.lazy_dataclass import dataclass
from dockfix.model.expand import expand
from dockfix.model.stages import ROOT_NAMES
from dockfix.rules.refusal import FixRefused
from dockfix.rules.runs_as_root.image import (
    Image,
    created_users,
    expanded_words,
    names_in_use,
    positionals,
    run_commands,
    user_of,
)
from dockfix.rules.runs_as_root.policy import CHOWN_VALUE_OPTIONS, GROUP_ZERO, UID_TRIES
from dockfix.shell import command_name
from dockfix.syntax import Instruction


@dataclass(frozen=True)
class Target:
    """Who the container should run as, and the shell commands that create it."""

    user: str
    group: str | None
    #: The numeric uid when known: ``USER`` then names it (see ``spec``).
    uid: str | None = None
    #: Commands creating the user (empty when it exists already).
    create: tuple[str, ...] = ()

    @property
    def owner(self) -> str:
        """For ``chown`` and ``--chown``: names, resolved in the image at build time."""
        return f"{self.user}:{self.group}" if self.group else self.user

    @property
    def spec(self) -> str:
        """For ``USER``: the uid where known, so that the host and Kubernetes'
        ``runAsNonRoot`` can tell it is not root (hadolint DL3066)."""
        return self.uid or self.user


def choose_target(image: Image) -> Target:
    """A user the image has (switched to before, created, shipped), or a new one."""
    created = created_users(image)
    if any(user.name is None for user in created):
        raise FixRefused("the Dockerfile creates a user whose name is not readable", kind="user")
    specs = [expand(i.value[0], image.variables) for i in image.instructions if i.cmd == "USER"]
    for spec in reversed(specs):
        if spec is None or user_of(spec) in ROOT_NAMES:
            continue
        user, _, group = spec.partition(":")
        match = next((c for c in created if c.name == user), None)
        if user.isdigit():
            return Target(user, group or None, spec)
        if match is not None:
            return Target(user, group or match.group, match.uid)
        if image.traits is None or user != image.traits.nonroot_user:
            raise FixRefused(
                f"the Dockerfile switched to `{user}` before, not a known user", kind="user"
            )
    group_zero = _group_zero(image) is not None
    last = created[-1] if created else None
    if last is not None and last.name is not None:
        return _in_group_zero(Target(last.name, last.group, last.uid), group_zero)
    traits = image.traits
    if traits is not None and traits.nonroot_user:
        uid = str(traits.nonroot_uid) if traits.nonroot_uid is not None else None
        target = Target(traits.nonroot_user, traits.nonroot_user, uid)
        return _in_group_zero(target, group_zero)
    return _new_user(image, group_zero)


def _group_zero(image: Image) -> Instruction | None:
    """The RUN that gives files to the root group (OpenShift's ``chgrp -R 0 ... && chmod
    -R g=u ...``): the platform runs the image as a random uid in group 0."""
    for instruction, command in run_commands(image):
        name = command_name(command)
        if name not in ("chgrp", "chown"):
            continue
        values = expanded_words(command, image.variables) or []
        operands = positionals(values[1:], CHOWN_VALUE_OPTIONS)
        if not operands:
            continue
        group = operands[0] if name == "chgrp" else re.split("[:.]", operands[0] + ":")[1]
        owner = re.split("[:.]", operands[0])[0] if name == "chown" else ""
        if group in GROUP_ZERO and owner in ("", *ROOT_NAMES):
            return instruction
    return None


def _in_group_zero(target: Target, group_zero: bool) -> Target:
    """The target with the root group as its group, where the image keeps files there."""
    if not group_zero:
        return target
    uid = target.uid.split(":", 1)[0] if target.uid else None
    return replace(target, group="0", uid=f"{uid}:0" if uid else None)


def _new_user(image: Image, group_zero: bool = False) -> Target:
    """A system user (and group) made with the tool of the image's family; in the root
    group, with no group of its own, where the image keeps its files in group 0."""
    traits = image.traits
    if traits is None:
        raise FixRefused("the base image is not known", kind="unknown-image")
    taken = names_in_use(image.document)
    names = (image.user_name, f"{image.user_name}user")
    uids = tuple(str(image.user_uid + offset) for offset in range(UID_TRIES))
    name = next((n for n in names if n not in taken), None)
    uid = next((n for n in uids if n not in taken), None)
    if name is None or uid is None:
        raise FixRefused(
            f"the names {' and '.join(names)} (or uids {uids[0]}-{uids[-1]}) are in use",
            kind="user",
        )
    commands = _create_commands(traits, name, uid, group_zero)
    if commands is None:
        raise FixRefused(no_tool_text(traits), kind="user-tool")
    if group_zero:
        return Target(name, "0", f"{uid}:0", commands)
    return Target(name, name, uid, commands)


def _create_commands(
    traits: ImageTraits, name: str, uid: str, group_zero: bool = False
) -> tuple[str, ...] | None:
    """Group and user (with a home) by the family's own tool; ``-l``/``--no-log-init``
    keeps a high uid from making a huge sparse /var/log/lastlog (hadolint DL3046)."""
    family = traits.family
    if family is Family.DEBIAN and traits.useradd:
        if group_zero:
            return (f"useradd --system --no-log-init --uid {uid} --gid 0 --create-home {name}",)
        return (
            f"groupadd --system --gid {uid} {name}",
            f"useradd --system --no-log-init --uid {uid} --gid {name} --create-home {name}",
        )
    if family is Family.ALPINE and traits.busybox_adduser:
        if group_zero:
            return (f"adduser -S -D -u {uid} -G root {name}",)
        return (f"addgroup -S -g {uid} {name}", f"adduser -S -D -u {uid} -G {name} {name}")
    if family is Family.RHEL and traits.useradd:
        if group_zero:
            return (f"useradd -r -l -u {uid} -g 0 -m {name}",)
        return (f"groupadd -r -g {uid} {name}", f"useradd -r -l -u {uid} -g {name} -m {name}")
    return None


def no_tool_text(traits: ImageTraits) -> str:
    family = traits.family
    if family is Family.SCRATCH:
        return (
            "scratch has no /etc/passwd: a numeric `USER 65532:65532` works only if the "
            "program never looks its user up, which the Dockerfile cannot show"
        )
    if family is Family.WINDOWS:
        return "Windows images are not handled (their unprivileged user is ContainerUser)"
    if family is Family.RHEL:
        manager = traits.package_manager
        how = f" (`{manager} install -y shadow-utils`)" if manager else ""
        return f"the image has no useradd (shadow-utils): install it{how}, or add the user by hand"
    return "the image has no tool to create a user and no non-root user of its own"
