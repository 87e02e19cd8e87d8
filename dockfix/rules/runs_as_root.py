"""DF201 runs-as-root: the final image runs its command as ``root``.

What it does
    Finds a final stage in which no ``USER`` switches away from root (and whose base
    image runs as root by default), and switches to an unprivileged user right after
    the last build step that needs root::

        RUN pip install -r requirements.txt
        RUN groupadd --system --gid 10001 app && \\
            useradd --system --no-log-init --uid 10001 --gid app --create-home app && \\
            chown app:app /app                                    # new
        USER 10001                                                # new
        COPY --chown=app:app . .                                  # --chown added
        RUN python manage.py migrate                              # now runs as app
        CMD ["gunicorn", "app:app"]

    The user is made with the tool the image family has: ``groupadd``/``useradd`` on
    Debian and Ubuntu (in the essential ``passwd`` package; ``adduser`` may be missing
    from slim images), BusyBox ``addgroup -S``/``adduser -S -D`` on Alpine (BusyBox
    ``adduser`` makes ``/home/<name>`` unless given ``-H``, and ``-S`` gives the user
    the shell ``/bin/false``), ``groupadd -r``/``useradd -r -l -m`` on the RHEL family
    where ``useradd`` (shadow-utils) exists.  Every new user gets a home directory:
    Jupyter, matplotlib and pip write to ``$HOME``.  It is called ``app`` (``appuser``
    when ``app`` is a user or group name in the file already) and gets the fixed uid
    and gid 10001 (both from the configuration: ``Settings.user_name``/``user_uid``):
    above the system and login ranges, so it is nobody on the host, and ``USER`` can
    name the number, which Kubernetes' ``runAsNonRoot`` can check and hadolint (DL3066)
    asks for.  Where the image keeps its files in the root group for OpenShift
    (``chgrp -R 0 ... && chmod -R g=u ...``), which runs images as a random uid in group
    0, the user is made in group 0 (no group of its own) and the switch is
    ``USER 10001:0``.  The RUN that makes the user is a RUN of its own, after an empty
    line when it follows a RUN: DF102 does not join RUNs across one, so the user's
    creation never rides on an unrelated, expensive step (``go build ... && groupadd``).
    A user the image already has is reused instead: one the Dockerfile creates or
    switched to before going back to root, or one the base image ships (``node`` is
    ``USER 1000``, distroless ``nonroot`` is ``USER 65532``).

    The application folder is the last absolute ``WORKDIR``.  ``WORKDIR`` creates it
    owned by root and ``COPY --chown`` never changes the owner of a folder that exists
    already, so the fix also gives the folder itself to the user (``chown``, not
    recursive; skipped when it is the user's home or already chowned): without that,
    an app that creates ``logs/`` or a SQLite database next to its code fails.  A lone
    ``RUN chown`` goes right after that ``WORKDIR`` when it would otherwise follow a
    one-command ``RUN`` (hadolint DL3059).  Folders that RUNs make inside it as root
    before the switch (``mkdir -p data logs``) are given to the user recursively
    (``chown -R app:app /app/data /app/logs``): the app writes there, and a chown of
    the application folder alone leaves them closed.  ``COPY``/``ADD`` into the folder
    after the switch get ``--chown`` (an existing ``--chown`` is kept).  Images without a shell
    (distroless) cannot run ``chown``: there the ``USER`` goes before the ``WORKDIR``,
    and BuildKit creates the folder owned by that user.

    Steps that need root stay before the switch: package installs (apt, apk, dnf, pip
    into the system or a root-owned virtualenv...), writes outside the application
    folder, ``chmod``, ``chown``, ``useradd``, ``RUN`` with mounts, and any command not
    known to write only to the application folder.  Steps known to do that (``python
    manage.py migrate``/``collectstatic``/``compilemessages``, ``django-admin``,
    ``pybabel``, ``flask``, ``alembic``) come after it, so the files they make belong
    to the user.

    The rule reports without fixing, saying why, when: the image is a base or a build
    environment (no ``CMD``/``ENTRYPOINT`` in the stage or the stages it builds on, or
    one that starts a shell or a build tool: toolchain and CI images, whose users
    install into them as root); the stage has ``ONBUILD RUN``/``ADD``/``COPY``
    triggers (child builds run them as the last ``USER``, and they need root); there is
    no ``WORKDIR`` (the app would run in ``/``, owned by root) or it is a system folder;
    the base image is unknown, Windows (the stage model's platform: ``golang:*-nanoserver``,
    ``openjdk:*-windowsservercore``...), ``scratch`` (it has no ``/etc/passwd``: a
    numeric ``USER`` works only if the program never looks its user up, which the
    Dockerfile cannot show), or has no tool to create users (``ubi-minimal``,
    ``amazonlinux``, the ``-minimal`` images of Rocky and Alma Linux have no
    ``useradd`` unless the file installs ``shadow-utils``); the container
    exposes or binds a port below 1024, or the image's notes say its server binds one
    (nginx, httpd, php); ``CMD``/``ENTRYPOINT`` runs a package manager, ``sudo``/
    ``su``/``gosu``, or a daemon that expects to start as root; the Dockerfile shows
    writes outside the application folder (a ``VOLUME``, a log or pid file in the
    command, a data folder made by ``mkdir``) or into root's home (``/root`` in
    ``ENV``, ``pip install --user``, poetry and pipenv virtualenvs), or gives files to
    another user with ``chown``; the base image's ``ENTRYPOINT`` is unknown or may
    change user itself (node's ``docker-entrypoint.sh`` does not), the image installs
    ``gosu``/``su-exec``/``sudo``, or the container's entrypoint is a script that
    cannot be read from the build context (the model's cached view: one copied from
    another stage with ``COPY --from``, downloaded or unpacked from an archive by
    ``ADD`` is unknown) or that uses root's tools; or the
    Dockerfile creates a user whose name cannot be read.

Why is this bad?
    A process that runs as root in the container is root on the host's kernel: an
    attacker who breaks out of the application gets every privilege the container
    has.  Practice 5 of the source article: create a system user and group and switch
    to it with ``USER``.

Example
    ``FROM python:3.12-slim`` / ``WORKDIR /app`` / ``COPY . .`` / ``CMD ["python",
    "app.py"]`` gets ``RUN groupadd ... && useradd ... && chown app:app /app`` and
    ``USER 10001`` after the ``WORKDIR``, and ``COPY --chown=app:app . .``.

Fix safety
    Unsafe, and the fix's reason says what may change: the app may write at run time
    where the Dockerfile does not show it (a cache in a system folder, files copied
    into its folder before the switch, which stay owned by root); it then fails with a
    permission error.  Images built ``FROM`` this one also start as the user, and need
    ``USER root`` for their own installs.

References
    practices.md row 5; hadolint DL3002 "Last USER should not be root" (and DL3066,
    DL3046, DL3059, which the fix does not trigger for the users it creates).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from dockfix.images import Family, ImageTraits
from dockfix.model import BuildContext, StageFacts, Step, is_root_user
from dockfix.model.expand import expand
from dockfix.model.preconditions import Precondition
from dockfix.rules._copied import Origin, inside, origin_of
from dockfix.rules._shell import RunShell, parse_text, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import (
    Manager,
    ShellScript,
    SimpleCommand,
    classify,
    command_name,
    command_words,
    iter_simple_commands,
)
from dockfix.syntax import BlankLine, Dockerfile, Instruction, Stage
from dockfix.syntax.nodes import Node

MESSAGE = "The container runs as root: no USER switches to an unprivileged user"
MESSAGE_EXPLICIT = "The last USER is root, so the container runs as root"

ROOT_NAMES = frozenset({"root", "0"})


def _paths(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Folders that belong to the system: the app cannot own them.
_SYSTEM_FOLDERS = frozenset(
    _paths(
        """/ /bin /boot /dev /etc /home /lib /lib64 /media /mnt /opt /proc /run /sbin /srv
        /sys /tmp /usr /usr/local /usr/src /usr/local/src /usr/share /var /var/lib /var/www"""
    )
)
#: Trees the app never owns: a working directory inside them is a system folder too.
_SYSTEM_TREES = _paths(
    """/root /etc /proc /sys /dev /boot /bin /sbin /lib /lib64 /usr/bin /usr/sbin /usr/lib
    /usr/lib64 /usr/libexec /usr/include /usr/local/bin /usr/local/sbin /usr/local/lib
    /usr/local/include /var/log /var/run"""
)
#: Where a build installs software: writes here are installs, not the app's data.
_INSTALL_TREES = _paths(
    """/usr /etc /opt /bin /sbin /lib /lib32 /lib64 /libx32 /tmp /dev /proc /sys
    /var/lib/apt /var/lib/dpkg /var/lib/rpm /var/lib/dnf /var/lib/yum /var/cache/apt
    /var/cache/apk /var/cache/dnf /var/cache/yum /var/cache/debconf"""
)
#: Where programs keep data, logs and sockets at run time.
_RUNTIME_TREES = _paths(
    """/data /var/log /var/lib /var/run /run /var/cache /var/spool /srv /mnt /media /home
    /var/www"""
)
#: Folders anyone may write to: the user can too.
_WORLD_WRITABLE = _paths("/tmp /var/tmp /dev")
_DATA_WORD = re.compile(
    r"(?:^|[-_.])(?:logs?|data|db|database|uploads?|storage|sessions?|state|spool|sqlite3?)"
    r"(?:[-_.]|$)",
    re.IGNORECASE,
)
#: Option names whose value is a place the program writes to.
_WRITE_OPTION = re.compile(r"log|pid|out|sock|data|dir|db|cache|upload|storage|state", re.I)
_ROOT_HOME = re.compile(r"(?:^|[:=\s\"'])(?:/root|~)(?:/|$|:)")

#: Programs that change user themselves, or need root to.
_PRIVILEGE_TOOLS = _words(
    "sudo su gosu su-exec runuser setpriv chroot doas setuidgid s6-setuidgid chpst"
)
#: Programs that expect to start as root (to drop privileges, bind ports, run the system).
_ROOT_DAEMONS = _words(
    """service systemctl cron crond sshd supervisord rsyslogd nginx httpd apache2 apache2ctl
    apachectl php-fpm postfix dockerd mount sysctl iptables chown setcap useradd usermod
    update-ca-certificates"""
)
#: Package managers that write outside the application folder.
_SYSTEM_WIDE_MANAGERS = frozenset(
    {
        Manager.APT_GET,
        Manager.APT,
        Manager.APK,
        Manager.YUM,
        Manager.DNF,
        Manager.MICRODNF,
        Manager.PIP,
        Manager.UV,
        Manager.POETRY,
        Manager.PIPENV,
        Manager.CONDA,
        Manager.MAMBA,
    }
)
#: Package manager actions that write nothing (or only run a program).
_READ_ONLY_ACTIONS = _words("list show freeze check run search info version")
#: Build steps known to write only into the application folder: they run as the user.
_APP_TOOLS = frozenset({"django-admin", "django-admin.py", "pybabel", "flask", "alembic"})
#: Commands that write nothing (outside their redirections) or only change shell state.
_HARMLESS = _words("echo printf true : ls pwd id whoami printenv cat test [ cd export set")
_SHELLS = frozenset({"sh", "bash", "ash", "dash"})
_PATH = _paths("/usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin")
#: Minimal init processes that run their arguments as the real command.
_INIT_WRAPPERS = _words("tini tini-static dumb-init catatonit")
_PYTHON = re.compile(r"python(\d+(\.\d+)*)?")
#: What gives an entrypoint script away as needing root: privileged tools, writes to
#: system folders.
_SCRIPT_NEEDS_ROOT = re.compile(
    r"\b(?:gosu|su-exec|sudo|su|runuser|setpriv|chroot|chown|chmod|apt-get|apk|yum|dnf|"
    r"microdnf|service|crond?|sshd|supervisord|useradd|adduser|usermod|groupadd|addgroup|"
    r"setcap|mount|sysctl|update-ca-certificates)\b"
    r"|>>?\s*[\"']?/(?!dev/|tmp/|proc/)\S*"
    r"|\bsed\s+-i\S*\s+.*\s/(?:etc|usr|var|opt)/\S*"
)
#: ``host:port`` with an empty, bracketed or named host (``15:2`` is not an address).
_PORT_IN_WORD = re.compile(
    r"(?:^|=)(?:\[[^\]]*\]|[A-Za-z0-9_.\-]*[A-Za-z_.\-][A-Za-z0-9_.\-]*)?:(\d{1,5})$"
)
_PORT_OPTIONS = _words("--port -p --http-port --https-port --server.port --listen --bind -b")

#: ``useradd``/``adduser`` options that take a value (shadow, Debian adduser, BusyBox).
_USER_VALUE_OPTIONS = _words(
    """-b -c -d -e -f -g -G -k -K -p -s -u -Z -R -P -h --base-dir --comment --home-dir
    --home --expiredate --inactive --gid --groups --skel --key --password --shell --uid
    --root --prefix --selinux-user --selinux-range --ingroup --gecos --firstuid --lastuid
    --firstgid --lastgid --conf"""
)
_GROUP_VALUE_OPTIONS = _words("-g --gid -K --key -p --password -R --root -P --prefix")
_CHOWN_VALUE_OPTIONS = frozenset({"--from", "--reference"})
#: Options naming the user's ids and groups (names in use, with the user's own).
_ID_OPTIONS = (("-u", "--uid"), ("-g", "--gid"), ("-G", "--groups", "--ingroup"))
#: How many uids from ``Settings.user_uid`` on are tried for a new user (the default,
#: 10001, is above the ranges of system and login users: nobody on the host either).
UID_TRIES = 9
#: Packages that bring ``useradd``/``groupadd`` (Debian ``passwd``, RHEL ``shadow-utils``).
_USERADD_PACKAGES = frozenset({"passwd", "shadow", "shadow-utils"})
#: ``chgrp``/``chown`` group operands that name the root group (OpenShift's group 0).
_GROUP_ZERO = frozenset({"0", "root"})
#: Programs a CMD of a build or CI environment runs: a shell, or a build tool.
_BUILD_ENV_PROGRAMS = _words(
    "sh bash ash dash zsh make cmake mvn mvnw gradle gradlew gcc g++ cc cargo rustc javac ant"
)
_MKDIR_VALUE_OPTIONS = frozenset({"-m", "--mode", "-d", "-r", "-t", "--context"})


@dataclass(frozen=True)
class Blocker:
    """Why the rule reports instead of fixing: a category (for statistics) and a text."""

    category: str
    text: str


@dataclass(frozen=True)
class CreatedUser:
    """A user that a RUN of the image's stages creates (name None: not readable)."""

    name: str | None
    group: str | None
    uid: str | None = None
    #: The home folder the command makes (owned by the user), if it makes one.
    home: str | None = None
    #: The RUN that creates the user.
    instruction: Instruction | None = None


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


@dataclass(frozen=True)
class Image:
    """The final image as this Dockerfile builds it: the final stage and its ancestors,
    as the stage model sees them."""

    document: Dockerfile
    facts: StageFacts
    traits: ImageTraits | None
    #: ENV and ARG values in effect at the end of the final stage (None: unknown).
    variables: Mapping[str, str | None]
    context: BuildContext
    #: Name and uid for a new user (``Settings.user_name``/``user_uid``).
    user_name: str = "app"
    user_uid: int = 10001

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The final stage and the earlier stages it is built ``FROM``, oldest first."""
        return tuple(facts.stage for facts in reversed(self.facts.lineage))

    def step(self, instruction: Instruction) -> Step:
        """The model's state before ``instruction`` (user, ENV/ARG, WORKDIR)."""
        for facts in self.facts.lineage:
            if facts.contains(instruction):
                return facts.at(instruction)
        return self.facts.end

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    @property
    def instructions(self) -> tuple[Instruction, ...]:
        return tuple(i for stage in self.stages for i in stage.instructions)

    @property
    def has_shell(self) -> bool:
        return self.traits is None or self.traits.shell


@dataclass(frozen=True)
class Folders:
    """The working directory at each instruction, and the application folder."""

    at: dict[int, str | None]
    #: The last absolute WORKDIR (None when there is a ``problem``).
    app: str | None
    #: The WORKDIR instruction that names the application folder.
    app_workdir: Instruction | None
    problem: str


# -- the image: stages, variables, users ------------------------------------------------


def _image(context: RuleContext) -> Image:
    """The final stage as the model sees it, with the tools its lineage installs."""
    facts = context.model.stages[-1]
    traits = facts.traits
    if traits is not None and not traits.useradd and facts.installed & _USERADD_PACKAGES:
        traits = replace(traits, useradd=True)  # e.g. ubi-minimal + shadow-utils
    settings = context.settings
    return Image(
        context.document,
        facts,
        traits,
        facts.end.variables,
        context.model.context,
        settings.user_name,
        settings.user_uid,
    )


def _user_of(spec: str) -> str:
    return spec.split(":", 1)[0]


def _positionals(words: list[str], value_options: frozenset[str]) -> list[str]:
    """Operands of a command, skipping options and the values they take."""
    found: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            found.extend(words[index:])
            break
        if not word.startswith("-") or word == "-":
            found.append(word)
        elif word.startswith("--"):
            if "=" not in word and word in value_options:
                index += 1
        else:
            # A short option cluster: a value option takes the rest of the word, or
            # the next word when it comes last.
            for position, letter in enumerate(word[1:], start=1):
                if f"-{letter}" in value_options:
                    index += 1 if position == len(word) - 1 else 0
                    break
    return found


def _option_value(words: list[str], *names: str) -> str | None:
    for index, word in enumerate(words):
        for name in names:
            if word == name and index + 1 < len(words):
                return words[index + 1]
            if name.startswith("--") and word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def _commands(image: Image) -> Iterator[tuple[Instruction, SimpleCommand]]:
    """Every simple command of every readable shell-form RUN of the image."""
    for instruction in image.instructions:
        shell = run_shell(instruction)
        if isinstance(shell, RunShell):
            for command in iter_simple_commands(shell.script):
                yield instruction, command


def _values(command: SimpleCommand, variables: Mapping[str, str | None]) -> list[str] | None:
    """The command's words (wrappers skipped), variables expanded; None if one is unset."""
    values = []
    for word in command_words(command):
        value = expand(word.value, variables) if "$" in word.value else word.value
        if value is None:
            return None
        values.append(value)
    return values


def _created_user(name: str, words: list[str]) -> CreatedUser | None:
    """The user a ``useradd``/``adduser`` command creates: name, group, uid, home."""
    operands = _positionals(words[1:], _USER_VALUE_OPTIONS)
    options = {word for word in words[1:] if word.startswith("-")}
    if not operands:
        return None
    if name == "adduser" and len(operands) == 2 and not options:
        return None  # `adduser user group` adds an existing user to a group
    user = operands[0]
    uid = _option_value(words, "-u", "--uid")
    uid = uid if uid is not None and uid.isdigit() else None
    explicit_home = _option_value(words, "-d", "--home-dir", "--home", "-h")
    home = explicit_home or f"/home/{user}"
    if name == "useradd":
        group = _option_value(words, "-g", "--gid")
        if group is None and not options & {"-N", "--no-user-group"}:
            group = user  # USERGROUPS_ENAB: a group of the user's name
        makes_home = bool(options & {"-m", "--create-home"}) or any(
            o.startswith("-") and not o.startswith("--") and "m" in o for o in options
        )
        return CreatedUser(user, group, uid, home if makes_home else None)
    group = _option_value(words, "-G", "--ingroup", "--gid")
    system = bool(options & {"-S", "--system"})
    if group is None and ("--group" in options or not system):
        group = user  # without --system (or with --group) adduser makes a group too
    # BusyBox makes the home unless -H; Debian's adduser --system only with --home.
    no_home = options & {"-H", "--no-create-home"} or ("--system" in options and not explicit_home)
    return CreatedUser(user, group, uid, None if no_home else home)


def _created_users(image: Image) -> list[CreatedUser]:
    """Users made by the image's RUNs (name None: a RUN we cannot read makes one)."""
    found = []
    for instruction in image.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            if instruction.cmd == "RUN" and re.search(r"\b(useradd|adduser)\b", instruction.text):
                found.append(CreatedUser(None, None, instruction=instruction))
            continue
        for command in iter_simple_commands(shell.script):
            name = command_name(command)
            if name not in ("useradd", "adduser"):
                continue
            values = _values(command, image.variables)
            created = CreatedUser(None, None) if values is None else _created_user(name, values)
            if created is not None:
                found.append(replace(created, instruction=instruction))
    return found


def _names_in_use(document: Dockerfile) -> set[str]:
    """User and group names anywhere in the file: USER, --chown, user tools, chown."""
    names: set[str] = set()
    for instruction in document.instructions:
        if instruction.cmd == "USER" and instruction.value:
            names.update(instruction.value[0].split(":"))
        chown = instruction.flag("chown")
        if chown is not None and chown.value:
            names.update(chown.value.split(":"))
        shell = run_shell(instruction)
        if isinstance(shell, RunShell):
            for command in iter_simple_commands(shell.script):
                names.update(_names_of_command(command))
    return names


def _names_of_command(command: SimpleCommand) -> set[str]:
    name = command_name(command)
    words = [word.value for word in command_words(command)]
    if name in ("useradd", "adduser", "usermod", "userdel"):
        ids = [_option_value(words, *names) for names in _ID_OPTIONS]
        found = set(_positionals(words[1:], _USER_VALUE_OPTIONS))
        return found | {value for value in ids if value}
    if name in ("groupadd", "addgroup", "groupmod", "groupdel"):
        gid = _option_value(words, "-g", "--gid")
        return set(_positionals(words[1:], _GROUP_VALUE_OPTIONS)) | ({gid} if gid else set())
    if name in ("chown", "chgrp"):
        operands = _positionals(words[1:], _CHOWN_VALUE_OPTIONS)
        return set(re.split("[:.]", operands[0])) if operands else set()
    return set()


# -- folders ------------------------------------------------------------------------------


def _under_any(path: str, trees: Iterable[str]) -> bool:
    return any(inside(path, tree) for tree in trees)


def _resolve(path: str, workdir: str | None, variables: Mapping[str, str | None]) -> str | None:
    """An image path made absolute; ``~`` and ``$HOME`` are root's home during the build."""
    if path.startswith("~"):
        path = "/root" + path[1:]
    expanded = expand(path, {"HOME": "/root", **variables})
    if not expanded:
        return None
    if expanded.startswith("/"):
        return posixpath.normpath(expanded)
    if workdir is None:
        return None
    return posixpath.normpath(posixpath.join(workdir, expanded))


def _folders(image: Image) -> Folders:
    """Resolve each WORKDIR; the last absolute one is the application folder."""
    at: dict[int, str | None] = {}
    current: str | None = None
    app_workdir: Instruction | None = None
    problem = ""
    for instruction in image.instructions:
        if instruction.cmd == "WORKDIR" and instruction.value:
            raw = instruction.value[0]
            expanded = expand(raw, image.step(instruction).variables)
            if expanded is None:
                current, app_workdir = None, None
                problem = f"the WORKDIR `{raw}` uses a variable the Dockerfile does not set"
            elif expanded.startswith("/"):
                current, app_workdir, problem = posixpath.normpath(expanded), instruction, ""
            elif current is not None:
                current = posixpath.normpath(posixpath.join(current, expanded))
            else:
                problem = f"the relative WORKDIR `{raw}` depends on the base image's"
        at[id(instruction)] = current
    app = at[id(app_workdir)] if app_workdir is not None else None
    if not problem and app is None:
        problem = "no WORKDIR: the app would run in `/`, which is owned by root"
    elif not problem and app == "/":
        problem = "WORKDIR `/`: the app would run in `/`, which is owned by root"
    elif not problem and app is not None and _is_system_folder(app):
        problem = f"the WORKDIR `{app}` is a system folder that the app cannot own"
    return Folders(at, None if problem else app, app_workdir, problem)


def _is_system_folder(path: str) -> bool:
    return path in _SYSTEM_FOLDERS or _under_any(path, _SYSTEM_TREES)


def _is_data_path(path: str) -> bool:
    """A path outside install trees that looks like a place for data, logs or sockets."""
    if _under_any(path, _INSTALL_TREES) or _under_any(path, _WORLD_WRITABLE):
        return False
    if _under_any(path, _RUNTIME_TREES):
        return True
    return any(_DATA_WORD.search(part) for part in path.split("/") if part)


# -- which build steps need root ----------------------------------------------------------


def _needs_root(instruction: Instruction, folders: Folders, image: Image) -> bool:
    """Whether a RUN must stay before the switch: every RUN not known to write only to
    the application folder (package installs, chmod, writes elsewhere, unknown tools)."""
    if instruction.cmd != "RUN":
        return False
    if instruction.flags:
        return True  # cache mounts and the like are made for root
    if instruction.is_json:
        return not _is_app_step(list(instruction.value))
    shell = run_shell(instruction)
    if not isinstance(shell, RunShell):
        return True  # heredocs, or shell we cannot read
    workdir = folders.at.get(id(instruction))
    for command in iter_simple_commands(shell.script):
        values = _values(command, image.variables)
        if values is None:
            return True  # a variable we cannot read
        if values and not (_is_app_step(values) or values[0] in _HARMLESS):
            return True
        if _writes_outside(command, workdir, folders.app or "/", image.variables):
            return True
    return False


def _writes_outside(
    command: SimpleCommand, workdir: str | None, app: str, variables: Mapping[str, str | None]
) -> bool:
    """A redirection into a file outside the application folder."""
    for redirect in command.redirects:
        target = redirect.target.value if redirect.target else ""
        if not redirect.operator.startswith(">") or not target or "&" in redirect.operator:
            continue
        path = _resolve(target, workdir, variables)
        if path is None or not (inside(path, app) or _under_any(path, _WORLD_WRITABLE)):
            return True
    return False


def _is_app_step(words: list[str]) -> bool:
    """A build step that writes only into the application folder (migrations, static
    files, compiled translations)."""
    if not words:
        return False
    program = posixpath.basename(words[0])
    if program in _APP_TOOLS or program == "manage.py":
        return True
    if _PYTHON.fullmatch(program):
        operands = [word for word in words[1:] if not word.startswith("-")]
        return bool(operands) and posixpath.basename(operands[0]) == "manage.py"
    return False


# -- what the container runs ----------------------------------------------------------------


def _runtime_scripts(image: Image) -> list[ShellScript]:
    """The effective ENTRYPOINT and CMD as shell scripts (exec form quoted back)."""
    scripts = []
    for cmd in ("ENTRYPOINT", "CMD"):
        found = [i for i in image.instructions if i.cmd == cmd and i.value]
        if found:
            last = found[-1]
            text = shlex.join(last.value) if last.is_json else last.value[0]
            scripts.extend(_parse_nested(text, depth=2))
    return scripts


def _parse_nested(text: str, depth: int) -> list[ShellScript]:
    """The script, and the scripts it hands to ``sh -c``."""
    parsed = parse_text(text)
    if isinstance(parsed, str):
        return []
    scripts = [parsed]
    if depth == 0:
        return scripts
    for command in iter_simple_commands(parsed):
        words = [word.value for word in command_words(command)]
        if words and posixpath.basename(words[0]) in _SHELLS and "-c" in words[1:-1]:
            scripts.extend(_parse_nested(words[words.index("-c", 1) + 1], depth - 1))
    return scripts


def _command_blockers(image: Image, app: str | None) -> Iterator[Blocker]:
    """What the container's command shows: root tools, privileged ports, writes elsewhere."""
    for script in _runtime_scripts(image):
        for command in iter_simple_commands(script):
            yield from _root_tool_blockers(command)
            yield from _bound_port_blockers([word.value for word in command.words])
            if app is not None:
                yield from _command_write_blockers(command, app, image.variables)


def _root_tool_blockers(command: SimpleCommand) -> Iterator[Blocker]:
    real = command_words(command)
    leading = command.words[: len(command.words) - len(real) + 1]
    for word in leading:
        tool = posixpath.basename(word.value)
        if tool in _PRIVILEGE_TOOLS:
            yield Blocker("root-command", f"the command runs `{tool}`")
            return
    name = command_name(command)
    if name in _ROOT_DAEMONS:
        yield Blocker("root-command", f"the command runs `{name}`, which expects to start as root")
        return
    package = classify(command)
    if (
        package is not None
        and package.manager in _SYSTEM_WIDE_MANAGERS
        and package.action not in _READ_ONLY_ACTIONS
    ):
        yield Blocker(
            "root-command", f"the command runs `{package.manager.value} {package.action}`"
        )


def _bound_port_blockers(words: list[str]) -> Iterator[Blocker]:
    for index, word in enumerate(words):
        option, _, value = word.partition("=")
        port = None
        if option in _PORT_OPTIONS and value.isdigit():
            port = value
        elif word in _PORT_OPTIONS and index + 1 < len(words) and words[index + 1].isdigit():
            port = words[index + 1]
        elif match := _PORT_IN_WORD.search(word):
            port = match.group(1)
        if port is not None and 0 < int(port) < 1024:
            yield Blocker("privileged-port", f"the command binds port {port}, below 1024")
            return


def _command_write_blockers(
    command: SimpleCommand, app: str, variables: Mapping[str, str | None]
) -> Iterator[Blocker]:
    """Log, pid and data paths outside the application folder among the arguments."""
    words = [word.value for word in command.words]
    for index in range(1, len(words)):
        option, equals, value = words[index].partition("=")
        if equals and option.startswith("-"):
            text, option_name = value, option
        else:
            text, option_name = words[index], words[index - 1]
        if not text.startswith(("/", "~", "$")):
            continue
        path = _resolve(text, app, variables)
        if path is None or inside(path, app) or _under_any(path, _WORLD_WRITABLE):
            continue
        if inside(path, "/root"):
            yield Blocker("root-home", f"the command uses `{path}` in root's home")
            return
        names_data = option_name.startswith("-") and bool(_WRITE_OPTION.search(option_name))
        if _under_any(path, _RUNTIME_TREES) or (
            names_data and not _under_any(path, _INSTALL_TREES)
        ):
            yield Blocker("writes-outside", f"the command writes to `{path}`, outside `{app}`")
            return
    if _writes_outside(command, app, app, variables):
        yield Blocker("writes-outside", f"the command writes to a file outside `{app}`")


# -- reasons to report instead of fixing ----------------------------------------------------


def _exposed_port_blockers(image: Image) -> Iterator[Blocker]:
    """EXPOSE of a port below 1024, or an image whose server binds one."""
    for instruction in image.instructions:
        if instruction.cmd != "EXPOSE":
            continue
        for word in instruction.value:
            expanded = expand(word, image.variables) or ""
            first = expanded.split("/", 1)[0].split("-", 1)[0]
            if first.isdigit() and 0 < int(first) < 1024:
                yield Blocker("privileged-port", f"EXPOSE {expanded}: ports below 1024 need root")
                return
    notes = image.traits.notes if image.traits is not None else ()
    for note in notes:
        if "port" in note:
            yield Blocker("privileged-port", note)
            return


def _write_blockers(image: Image, folders: Folders) -> Iterator[Blocker]:
    """Places outside the application folder that the Dockerfile shows being written."""
    app = folders.app
    if app is None:
        return
    for instruction in image.instructions:
        if instruction.cmd == "VOLUME":
            for word in instruction.value:
                path = _resolve(word, folders.at.get(id(instruction)), image.variables)
                if path is None or not (inside(path, app) or _under_any(path, _WORLD_WRITABLE)):
                    yield Blocker("writes-outside", f"VOLUME `{word}` is outside `{app}`")
        elif instruction.cmd == "ENV":
            yield from _env_blockers(instruction, image)
    for instruction, command in _commands(image):
        yield from _run_write_blockers(instruction, command, folders, image.variables)
    yield from _virtualenv_blockers(image)


def _virtualenv_blockers(image: Image) -> Iterator[Blocker]:
    """Poetry and pipenv make their virtualenvs in root's home unless told otherwise."""
    settings = {name: (value or "").lower() for name, value in image.variables.items()}
    configured = " ".join(
        " ".join(word.value for word in command.words)
        for _, command in _commands(image)
        if command_name(command) == "poetry"
    )
    for _, command in _commands(image):
        package = classify(command)
        if package is None or package.action not in ("install", "sync"):
            continue
        if package.manager is Manager.POETRY and not (
            settings.get("POETRY_VIRTUALENVS_CREATE") in ("false", "0")
            or settings.get("POETRY_VIRTUALENVS_IN_PROJECT") in ("true", "1")
            or re.search(r"virtualenvs\.(create\s+false|in-project\s+true)", configured)
        ):
            yield Blocker("root-home", "poetry makes its virtualenv in root's home")
            return
        if (
            package.manager is Manager.PIPENV
            and not package.has_option("--system")
            and settings.get("PIPENV_VENV_IN_PROJECT") in (None, "", "0", "false")
        ):
            yield Blocker("root-home", "pipenv makes its virtualenv in root's home")
            return


def _env_blockers(instruction: Instruction, image: Image) -> Iterator[Blocker]:
    """ENV values in root's home (``PATH=/root/.local/bin``): the user cannot read it."""
    for raw in instruction.value[1::2]:
        value = expand(raw, {"HOME": "/root", **image.variables}) or raw
        if _ROOT_HOME.search(value):
            yield Blocker("root-home", f"ENV `{raw}` points into root's home, closed to the user")
            return


def _run_write_blockers(
    instruction: Instruction,
    command: SimpleCommand,
    folders: Folders,
    variables: Mapping[str, str | None],
) -> Iterator[Blocker]:
    """Folders a RUN makes for data outside the application folder, and root's home."""
    app = folders.app or "/"
    workdir = folders.at.get(id(instruction))
    words = [word.value for word in command_words(command)]
    targets = []
    if command_name(command) in ("mkdir", "touch"):
        targets = _positionals(words[1:], _MKDIR_VALUE_OPTIONS)
    targets += [
        r.target.value
        for r in command.redirects
        if r.target and r.operator.startswith(">") and "&" not in r.operator
    ]
    package = classify(command)
    if package is not None and package.manager is Manager.PIP and package.has_option("--user"):
        yield Blocker("root-home", "`pip install --user` installs into root's home")
    for target in targets:
        path = _resolve(target, workdir, variables)
        if path is None or inside(path, app):
            continue
        if inside(path, "/root"):
            yield Blocker("root-home", f"line {instruction.line} writes `{path}` in root's home")
        elif _is_data_path(path):
            yield Blocker(
                "writes-outside", f"line {instruction.line} makes `{path}`, outside `{app}`"
            )


def _chown_blockers(image: Image, target: Target) -> Iterator[Blocker]:
    """A ``chown`` to someone else: the files are meant for another user."""
    for instruction, command in _commands(image):
        if command_name(command) != "chown":
            continue
        values = _values(command, image.variables)
        operands = _positionals(values[1:], _CHOWN_VALUE_OPTIONS) if values else []
        owner = re.split("[:.]", operands[0])[0] if operands else None
        if owner is None:
            yield Blocker("other-owner", f"line {instruction.line} gives files to an unknown user")
            return
        if owner and owner not in ROOT_NAMES and owner not in (target.user, target.uid):
            yield Blocker("other-owner", f"line {instruction.line} gives files to `{owner}`")
            return


def _entrypoint_blockers(image: Image, folders: Folders) -> Iterator[Blocker]:
    """An entrypoint that may need root: the base image's, or a script of the Dockerfile."""
    traits = image.traits
    own = any(i.cmd == "ENTRYPOINT" for i in image.instructions)
    if not own and traits is not None and traits.shell:
        if traits.entrypoint is None:
            yield Blocker("entrypoint", "the base image's ENTRYPOINT is not known")
        elif traits.entrypoint and not _harmless_base_entrypoint(traits):
            words = " ".join(traits.entrypoint)
            yield Blocker("entrypoint", f"the base image's ENTRYPOINT `{words}` may change user")
    for _, command in _commands(image):
        package = classify(command)
        if package is None or package.action not in ("install", "add"):
            continue
        for word in package.packages:
            if word.value in ("gosu", "su-exec", "sudo"):
                yield Blocker("entrypoint", f"the image installs `{word.value}` to change user")
                return
    yield from _script_blockers(image, folders)


def _harmless_base_entrypoint(traits: ImageTraits) -> bool:
    """node's docker-entrypoint.sh only puts ``node`` in front of a script argument."""
    return traits.nonroot_user == "node" and traits.entrypoint == ("docker-entrypoint.sh",)


def _script_blockers(image: Image, folders: Folders) -> Iterator[Blocker]:
    """The first script the container runs: unreadable, or using root's tools.

    Only a script read from the build context is known: one copied from another stage
    (``COPY --from``), downloaded or unpacked from an archive by ``ADD`` may do anything.
    Without a shell (distroless, scratch) nothing can run a script at all.
    """
    if not image.has_shell:
        return
    for script in _runtime_scripts(image):
        for command in iter_simple_commands(script):
            path = _script_path([word.value for word in command_words(command)])
            if path is None:
                continue
            resolved = _resolve(path, folders.app, image.variables) or path
            is_script = path.endswith((".sh", ".bash"))
            if folders.app and inside(resolved, folders.app) and not is_script:
                return  # the app's own program, built in its folder
            origins = (
                _origin(image, folders, candidate)
                for candidate in _candidates(path, folders.app, image.variables)
            )
            origin = next((found for found in origins if found is not None), None)
            if origin is None:
                yield Blocker(
                    "entrypoint",
                    f"the entrypoint `{path}` cannot be read from the build context: "
                    "it may need root",
                )
            elif origin.text is None:
                yield Blocker(
                    "entrypoint", f"the entrypoint `{path}` {origin.why}: it may need root"
                )
            else:
                code = "\n".join(line.split("#", 1)[0] for line in origin.text.splitlines())
                match = _SCRIPT_NEEDS_ROOT.search(code)
                if match is not None:
                    found = match.group(0).strip()
                    yield Blocker("entrypoint", f"the entrypoint `{path}` runs `{found}` (root)")
            return


def _script_path(words: list[str]) -> str | None:
    """The script a command runs (``./start.sh``, ``sh run.sh``, ``tini -- x.sh``), or a
    program outside the ``bin`` folders (``/dind``, ``/opt/env.init``): often a script."""
    if not words:
        return None
    program = posixpath.basename(words[0])
    if program in _INIT_WRAPPERS:
        rest = words[1:]
        rest = rest[rest.index("--") + 1 :] if "--" in rest else rest
        return _script_path([word for word in rest if not word.startswith("-")])
    if program in _SHELLS:
        operands = [word for word in words[1:] if not word.startswith("-")]
        if "-c" in words[1:] or not operands:
            return None
        return _script_path(operands[:1])
    path = words[0]
    if path.endswith((".sh", ".bash")):
        return path
    folders = path.split("/")[:-1]
    unusual = path.startswith("/") and not {"bin", "sbin"} & set(folders)
    return path if unusual and len(path) > 1 else None


def _candidates(path: str, workdir: str | None, variables: Mapping[str, str | None]) -> list[str]:
    """Where the program may be: a bare name is looked up on the usual PATH."""
    if "/" not in path:
        return [posixpath.join(folder, path) for folder in _PATH]
    resolved = _resolve(path, workdir, variables)
    return [resolved] if resolved else []


def _origin(image: Image, folders: Folders, path: str) -> Origin | None:
    """The file at ``path`` as the image's last COPY/ADD to it leaves it (None: none)."""

    def destination(instruction: Instruction) -> str | None:
        workdir = folders.at.get(id(instruction))
        return _resolve(instruction.value[-1], workdir, image.variables)

    return origin_of(path, image.instructions, destination, image.context)


# -- the user to switch to -----------------------------------------------------------------


def _target(image: Image) -> Target | Blocker:
    """A user the image has (switched to before, created, shipped), or a new one."""
    created = _created_users(image)
    if any(user.name is None for user in created):
        return Blocker("user", "the Dockerfile creates a user whose name is not readable")
    specs = [expand(i.value[0], image.variables) for i in image.instructions if i.cmd == "USER"]
    for spec in reversed(specs):
        if spec is None or _user_of(spec) in ROOT_NAMES:
            continue
        user, _, group = spec.partition(":")
        match = next((c for c in created if c.name == user), None)
        if user.isdigit():
            return Target(user, group or None, spec)
        if match is not None:
            return Target(user, group or match.group, match.uid)
        if image.traits is None or user != image.traits.nonroot_user:
            return Blocker("user", f"the Dockerfile switched to `{user}` before, not a known user")
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
    for instruction, command in _commands(image):
        name = command_name(command)
        if name not in ("chgrp", "chown"):
            continue
        values = _values(command, image.variables) or []
        operands = _positionals(values[1:], _CHOWN_VALUE_OPTIONS)
        if not operands:
            continue
        group = operands[0] if name == "chgrp" else re.split("[:.]", operands[0] + ":")[1]
        owner = re.split("[:.]", operands[0])[0] if name == "chown" else ""
        if group in _GROUP_ZERO and owner in ("", *ROOT_NAMES):
            return instruction
    return None


def _in_group_zero(target: Target, group_zero: bool) -> Target:
    """The target with the root group as its group, where the image keeps files there."""
    if not group_zero:
        return target
    uid = target.uid.split(":", 1)[0] if target.uid else None
    return replace(target, group="0", uid=f"{uid}:0" if uid else None)


def _new_user(image: Image, group_zero: bool = False) -> Target | Blocker:
    """A system user (and group) made with the tool of the image's family; in the root
    group, with no group of its own, where the image keeps its files in group 0."""
    traits = image.traits
    if traits is None:
        return Blocker("unknown-image", "the base image is not known")
    taken = _names_in_use(image.document)
    names = (image.user_name, f"{image.user_name}user")
    uids = tuple(str(image.user_uid + offset) for offset in range(UID_TRIES))
    name = next((n for n in names if n not in taken), None)
    uid = next((n for n in uids if n not in taken), None)
    if name is None or uid is None:
        return Blocker(
            "user", f"the names {' and '.join(names)} (or uids {uids[0]}-{uids[-1]}) are in use"
        )
    commands = _create_commands(traits, name, uid, group_zero)
    if commands is None:
        return Blocker("user-tool", _no_tool_text(traits))
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


def _no_tool_text(traits: ImageTraits) -> str:
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


# -- the fix ---------------------------------------------------------------------------------


def _insertion_index(image: Image, folders: Folders) -> int:
    """Index in the final stage after which the switch goes (-1: right after FROM).

    After the last step that needs root and the last USER; with a shell also after the
    WORKDIR of the application folder, so that the new RUN can give it to the user.
    """
    index = -1
    for position, instruction in enumerate(image.final.instructions):
        if (
            instruction.cmd == "USER"
            or _needs_root(instruction, folders, image)
            or (image.has_shell and instruction is folders.app_workdir)
        ):
            index = position
    return index


def _run_text(document: Dockerfile, commands: list[str]) -> str:
    style = document.style
    separator = f" && {style.escape}{style.eol}{style.indent}"
    return f"{style.keyword('RUN')} {separator.join(commands)}"


def _already_owned(image: Image, folders: Folders, target: Target) -> bool:
    """The application folder is the user's already: its home, made before any WORKDIR
    made the folder, or given to it by a chown."""
    app = folders.app
    order = image.instructions
    for user in _created_users(image):
        if user.name == target.user and user.home == app and user.instruction is not None:
            workdir = folders.app_workdir
            if workdir is None or order.index(user.instruction) < order.index(workdir):
                return True
    return any(app in paths for paths, _ in _chowns_to(image, target))


def _chowns_to(image: Image, target: Target) -> Iterator[tuple[list[str], bool]]:
    """Paths the image's RUNs give to the target user, and whether recursively."""
    for _, command in _commands(image):
        values = _values(command, image.variables) if command_name(command) == "chown" else None
        operands = _positionals(values[1:], _CHOWN_VALUE_OPTIONS) if values else []
        if len(operands) >= 2 and _user_of(operands[0]) == target.user:
            options = [word for word in (values or [])[1:] if word.startswith("-")]
            recursive = any(
                word == "--recursive" or (not word.startswith("--") and "R" in word)
                for word in options
            )
            yield [posixpath.normpath(path) for path in operands[1:]], recursive


def _root_made_subfolders(image: Image, folders: Folders, target: Target, index: int) -> list[str]:
    """Folders inside the application folder that RUNs before the switch make as root
    (``mkdir -p data logs``): a chown of the folder alone leaves them closed to the user.

    Each is named by its top folder below the application folder (``data`` for
    ``mkdir -p data/db``), to be chowned recursively.
    """
    app = folders.app
    assert app is not None
    after = {id(instruction) for instruction in image.final.instructions[index + 1 :]}
    owned = [path for paths, recursive in _chowns_to(image, target) if recursive for path in paths]
    found: list[str] = []
    for instruction, command in _commands(image):
        if id(instruction) in after or command_name(command) != "mkdir":
            continue
        values = _values(command, image.variables) or []
        for operand in _positionals(values[1:], _MKDIR_VALUE_OPTIONS):
            path = _resolve(operand, folders.at.get(id(instruction)), image.variables)
            if path is None or path == app or not inside(path, app):
                continue
            top = posixpath.join(app, posixpath.relpath(path, app).split("/")[0])
            if top not in found and not any(inside(top, done) for done in owned):
                found.append(top)
    return found


def _folder_stays_roots(image: Image, folders: Folders, index: int) -> bool:
    """Without a shell the folder cannot be chowned: the switch must precede its WORKDIR."""
    if image.has_shell or folders.app_workdir is None:
        return False
    ahead = image.final.instructions[index + 1 :]
    return folders.app_workdir not in ahead


def _fix(image: Image, folders: Folders, target: Target) -> tuple[list[Edit], str] | Blocker:
    """The edits and what may change (the fix's reason), or why there is no fix."""
    document, stage, app = image.document, image.final, folders.app
    assert app is not None
    index = _insertion_index(image, folders)
    if _folder_stays_roots(image, folders, index):
        return Blocker("workdir", f"the image has no shell to give `{app}` to the user")
    anchor = stage.instructions[index] if index >= 0 else stage.from_instruction
    commands = list(target.create)
    if image.has_shell and not _already_owned(image, folders, target):
        commands.append(f"chown {target.owner} {shlex.quote(app)}")
    subfolders = _root_made_subfolders(image, folders, target, index) if image.has_shell else []
    if subfolders:
        paths = " ".join(shlex.quote(path) for path in subfolders)
        commands.append(f"chown -R {target.owner} {paths}")
    edits: list[Edit] = []
    early = _early_chown_anchor(image, folders, target, anchor) if len(commands) == 1 else None
    if early is not None:
        # A lone `RUN chown` goes right after the WORKDIR that makes the folder, where
        # it does not sit next to another one-command RUN (hadolint DL3059).
        chown = document.make_instruction(_run_text(document, commands))
        edits.append(Edit(early, (early, chown)))
        commands = []
    texts = [_run_text(document, commands)] if commands else []
    texts.append(f"{document.style.keyword('USER')} {target.spec}")
    edits.insert(0, _insert_after(document, anchor, texts))
    for instruction in stage.instructions[index + 1 :]:
        if _copies_into(instruction, folders, image, app):
            flag = f"--chown={target.owner}"
            edits.append(Edit(instruction, (document.add_flag(instruction, flag),)))
    return edits, _reason(image, folders, target, index)


def _insert_after(document: Dockerfile, anchor: Instruction, texts: list[str]) -> Edit:
    """New instructions after ``anchor``, with the file's line ending."""
    eols = [document.style.eol] * len(texts)
    new_anchor = anchor
    if not anchor.text.endswith("\n"):
        # The anchor ends the file without a line ending: it gets one, and the last new
        # line goes without, so the file still ends the way it did.
        new_anchor = document.make_instruction(anchor.text)
        eols[-1] = ""
    added: list[Node] = [
        document.make_instruction(t, eol=e) for t, e in zip(texts, eols, strict=True)
    ]
    new_run = texts[0].split(" ", 1)[0].upper() == "RUN"
    if anchor.heredocs or (anchor.cmd == "RUN" and new_run):
        # hadolint cannot parse an instruction right after a heredoc's terminator line
        # (DL1000); an empty line between keeps it reading the file.  After a RUN, the
        # empty line also keeps the user's creation in a RUN of its own: DF102 does not
        # join RUNs across one (`go build ... && groupadd ...` would rebuild with it).
        added.insert(0, BlankLine("", document.style.eol, 0))
    return Edit(anchor, (new_anchor, *added))


def _is_one_command_run(instruction: Instruction | None) -> bool:
    """A flagless RUN of one command: hadolint DL3059 flags two of them in a row."""
    if instruction is None or instruction.cmd != "RUN" or instruction.flags:
        return False
    shell = run_shell(instruction)
    if not isinstance(shell, RunShell):
        return instruction.is_json
    return len(list(iter_simple_commands(shell.script))) <= 1


def _early_chown_anchor(
    image: Image, folders: Folders, target: Target, anchor: Instruction
) -> Instruction | None:
    """The application folder's WORKDIR, when a lone chown is better placed after it."""
    workdir = folders.app_workdir
    stage = image.final.instructions
    if not _is_one_command_run(anchor) or workdir is None or workdir not in stage:
        return None
    position = stage.index(workdir)
    if position >= stage.index(anchor) or not anchor.eol:
        return None
    following = stage[position + 1] if position + 1 < len(stage) else None
    if _is_one_command_run(following) or not workdir.eol:
        return None
    # The user must exist by then: the image's own, or created by an earlier RUN.
    if image.traits is not None and target.user == image.traits.nonroot_user:
        return workdir
    for instruction, command in _commands(image):
        if instruction is workdir or instruction in stage[position:]:
            return None
        if command_name(command) in ("useradd", "adduser"):
            values = _values(command, image.variables) or []
            if target.user in values:
                return workdir
    return None


def _copies_into(instruction: Instruction, folders: Folders, image: Image, app: str) -> bool:
    """A COPY/ADD without --chown whose destination is in the application folder."""
    if instruction.cmd not in ("COPY", "ADD") or instruction.flag("chown") is not None:
        return False
    if len(instruction.value) < 2:
        return False
    dest = _resolve(instruction.value[-1], folders.at.get(id(instruction)), image.variables)
    return dest is not None and inside(dest, app)


def _volume_covers(instruction: Instruction, folders: Folders, image: Image) -> bool:
    app = folders.app or "/"
    workdir = folders.at.get(id(instruction))
    paths = [_resolve(word, workdir, image.variables) for word in instruction.value]
    return any(path is not None and inside(app, path) for path in paths)


def _is_broad_copy(instruction: Instruction) -> bool:
    """A copy of the context or of folders: it may bring data the app writes to."""
    return any(s in (".", "./", "*") or s.endswith("/") for s in instruction.value[:-1])


def _reason(image: Image, folders: Folders, target: Target, index: int) -> str:
    app = folders.app or "/"
    uid = target.uid.split(":")[0] if target.uid else target.user
    uid = f" (uid {uid})" if uid != target.user else ""
    parts = [
        f"the container then runs as `{target.user}`{uid}: what it writes at run time outside "
        f"`{app}` fails with a permission error"
    ]
    ancestors = tuple(i for stage in image.stages[:-1] for i in stage.instructions)
    before = ancestors + image.final.instructions[: index + 1]
    copied = next(
        (i for i in before if _copies_into(i, folders, image, app) and _is_broad_copy(i)), None
    )
    if copied is not None:
        parts.append(
            f"files copied into `{app}` before the switch (line {copied.line}) stay owned by "
            "root: readable, not writable"
        )
    if not image.has_shell:
        parts.append(f"BuildKit creates `{app}` owned by the user; the classic builder does not")
    volumes = [i for i in before if i.cmd == "VOLUME" and _volume_covers(i, folders, image)]
    if volumes and image.has_shell:
        parts.append(
            f"`{app}` is a VOLUME (line {volumes[0].line}) before the chown: BuildKit keeps "
            "the change, the classic builder drops it"
        )
    return "; ".join(parts)


# -- the check ---------------------------------------------------------------------------------


def _report_at(image: Image, last_user: Instruction | None) -> Instruction:
    """The root USER, else the command that runs as root, else the stage's FROM."""
    final = image.final
    if last_user is not None and last_user in final.instructions:
        return last_user
    commands = [i for i in final.instructions if i.cmd in ("CMD", "ENTRYPOINT")]
    return commands[-1] if commands else final.from_instruction


def _runs_as_root(image: Image, last_user: Instruction | None) -> bool | None:
    """True/False, or None when it cannot be told (a USER from an unset variable).

    The model knows the user at the end of the stage: the last USER, or the base image's
    default user (the image table, jupyter/jenkins/bitnami images...).
    """
    user = image.facts.end.user
    if user is None:
        # A USER we cannot read: not reported; no USER and an unknown image: most
        # images run as root, and an unknown one is only reported.
        return None if last_user is not None else True
    return is_root_user(user)


def _onbuild_blockers(image: Image) -> Iterator[Blocker]:
    """ONBUILD triggers run in every image built FROM this one, as its last USER."""
    triggers = sorted(image.facts.onbuild, key=lambda trigger: trigger.sub_cmd != "RUN")
    for trigger in triggers:
        if trigger.sub_cmd in ("RUN", "ADD", "COPY"):
            yield Blocker(
                "onbuild",
                f"ONBUILD {trigger.sub_cmd} (line {trigger.line}) runs in child builds as "
                "the image's last USER and may need root",
            )
            return


def _build_environment_blockers(image: Image) -> Iterator[Blocker]:
    """An image with no command of its own, or one that starts a shell or a build tool,
    is a base or a build environment (toolchain, CI): its users install into it."""
    if not any(i.cmd in ("CMD", "ENTRYPOINT") and i.value for i in image.instructions):
        yield Blocker(
            "build-environment",
            "no CMD or ENTRYPOINT: the image looks like a base or build environment "
            "(toolchain, CI) whose users install into it as root",
        )
        return
    scripts = _runtime_scripts(image)
    commands = list(iter_simple_commands(scripts[0])) if scripts else []
    if len(commands) != 1:
        return
    words = [word.value for word in command_words(commands[0])]
    program = posixpath.basename(words[0]) if words else ""
    if program in _BUILD_ENV_PROGRAMS and "-c" not in words:
        yield Blocker(
            "build-environment",
            f"the image starts `{program}`: a shell or build tool, as build and CI "
            "environments do, whose users install into it as root",
        )


def _blockers(image: Image, folders: Folders) -> list[Blocker]:
    traits = image.traits
    found: list[Blocker] = []
    if traits is None:
        found.append(Blocker("unknown-image", "the base image is not known"))
    elif traits.family in (Family.WINDOWS, Family.SCRATCH):
        found.append(Blocker("user-tool", _no_tool_text(traits)))
    found.extend(_onbuild_blockers(image))
    found.extend(_build_environment_blockers(image))
    if folders.problem:
        found.append(Blocker("workdir", folders.problem))
    found.extend(_exposed_port_blockers(image))
    found.extend(_command_blockers(image, folders.app))
    found.extend(_write_blockers(image, folders))
    found.extend(_entrypoint_blockers(image, folders))
    return found


def _plan(image: Image, folders: Folders) -> tuple[list[Edit], str] | list[Blocker]:
    """The fix's edits and reason, or every reason not to fix."""
    blockers = _blockers(image, folders)
    if blockers:
        return blockers
    target = _target(image)
    if isinstance(target, Blocker):
        return [target]
    if not target.spec.split(":", 1)[0].isdigit():
        # `USER name` with no known uid: hadolint DL3066 flags it, and Kubernetes'
        # runAsNonRoot cannot check it; the user is better given a fixed uid by hand.
        return [Blocker("user name", f"user {target.user} has no known uid for USER")]
    blockers = list(_chown_blockers(image, target))
    if blockers:
        return blockers
    fix = _fix(image, folders, target)
    return [fix] if isinstance(fix, Blocker) else fix


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    if not document.stages:
        return
    image = _image(context)
    users = [i for i in image.instructions if i.cmd == "USER" and i.value]
    last_user = users[-1] if users else None
    if not _runs_as_root(image, last_user):
        return  # already unprivileged, or a USER from a variable we cannot read
    message = MESSAGE_EXPLICIT if last_user is not None else MESSAGE
    at = _report_at(image, last_user)
    plan = _plan(image, _folders(image))
    if isinstance(plan, list):
        yield rule.finding(message, at, note=note_text(plan))
        return
    edits, reason = plan
    yield rule.finding(message, at, edits=edits, applicability=Applicability.UNSAFE, reason=reason)


def note_text(blockers: list[Blocker]) -> str:
    """The finding's note: the first reason of each kind, in the order found."""
    first: dict[str, str] = {}
    for blocker in blockers:
        first.setdefault(blocker.category, blocker.text)
    return "; ".join(first.values())


RULE = Rule(
    code="DF201",
    name="runs-as-root",
    summary="Switch the final stage to an unprivileged user",
    applicability=Applicability.UNSAFE,
    check=check,
    explanation=__doc__ or "",
    preconditions=(
        Precondition.LINUX,
        Precondition.POSIX_SHELL,
    ),
)
