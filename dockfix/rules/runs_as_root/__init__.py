r"""DF201 runs-as-root: the final image runs its command as ``root``.

What it does
    Finds a final stage in which no ``USER`` switches away from root (and whose base
    image runs as root by default), and switches to an unprivileged user right after
    the last build step that needs root::

        RUN pip install -r requirements.txt
        RUN groupadd --system --gid 10001 app && \
            useradd --system --no-log-init --uid 10001 --gid app --create-home app && \
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
    ``USER 1000``, distroless ``nonroot`` is ``USER 65532``, the .NET 8+ images' ``app``
    is ``USER 1654``).

    The family of a base image the image table does not know is looked for elsewhere
    (``family``): the default of the ``ARG`` that names it, the official image behind a
    mirror (``mcr.microsoft.com/mirror/docker/library/python``, ``amd64/ubuntu``...), a
    short list of common images (.NET, CUDA, TensorFlow, PyTorch...), and else the
    package manager the Dockerfile runs (``apt-get``: Debian or Ubuntu, with
    ``useradd``; ``apk``: Alpine, with BusyBox ``adduser``; ``yum``/``dnf``: RHEL, whose
    ``useradd`` is only known when the file installs ``shadow-utils``).  The fix's
    reason says how the family was found.  The package manager tells nothing about the
    base image's ``ENTRYPOINT``: unless the Dockerfile sets its own, the fix's reason
    says that one needing root would make the container fail at start.

    Without a ``WORKDIR`` (or with ``WORKDIR /``) the process runs in ``/``, which the
    user cannot write to, and adding a ``WORKDIR`` would change what relative paths
    mean.  The fix then only makes the user (with a home) and switches after the last
    ``RUN``.  When the command is shown not to write where it runs (``cwd``: a program
    that writes no file, ``sleep``, ``python -m http.server``; an application server
    that writes no file of its own unless told to, gunicorn, uvicorn, hypercorn, daphne,
    waitress, granian, told no relative log, pid or socket file; behind an entrypoint
    script from the build context that writes nothing and ends with ``exec "$@"``) the
    reason says so; for any other program it says that if the program writes files
    relative to its working directory, that fails.  A command known to write there
    (``redis-server``'s ``dump.rdb``, Jupyter's notebooks, ``--access-logfile
    access.log``) or to change user itself (``gunicorn --user``) is reported, saying
    which; an entrypoint script that runs ``manage.py migrate`` is named in the reason
    (a SQLite database next to the code would stay root's).

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

    Images that define no application process are not reported (unless their last
    ``USER`` is an explicit ``root``, as hadolint's DL3002 reports): a final stage with no
    ``CMD``/``ENTRYPOINT`` of its own or in the stages it builds on, on a base image whose
    own command is not known to start an application (a base for other images, a
    toolchain or CI image: their users install into them as root; ``nginx``,
    ``postgres``, ``tiangolo/*`` and other serving images are still reported), or one
    whose command only starts a shell or a REPL (``bash``, ``python3``, ``php -a``:
    docker-library's language images, dev containers).

    The rule reports without fixing, saying why, when: the image is a build
    environment (an explicit ``USER root`` and no ``CMD``/``ENTRYPOINT``, or a command
    that starts a build tool or a shell with a script); the stage has ``ONBUILD
    RUN``/``ADD``/``COPY`` triggers (child builds run them as the last ``USER``, and
    they need root); there is no ``WORKDIR`` and the command is known to write in
    ``/`` or to change user itself, or the ``WORKDIR`` is a system folder; the base
    image is unknown (and the Dockerfile shows no family: a user could be made with
    whichever of ``useradd`` or BusyBox ``adduser`` the image has, but if it has
    neither, or does not build as root, the build itself would fail), Windows (the
    stage model's platform: ``golang:*-nanoserver``,
    ``openjdk:*-windowsservercore``...), ``scratch`` (it has no ``/etc/passwd``: a
    numeric ``USER`` works only if the program never looks its user up, which the
    Dockerfile cannot show), or has no tool to create users (``ubi-minimal``,
    ``amazonlinux``, the ``-minimal`` images of Rocky and Alma Linux have no
    ``useradd`` unless the file installs ``shadow-utils``); the server binds a port
    below 1024 (``EXPOSE 80``, ``--port 80``, ``--listen=*:80``, ``python -m
    http.server 80``, ``-b 0.0.0.0:$PORT`` with ``$PORT`` read from the ENV in effect,
    ``ENV PORT=80``/``UVICORN_PORT=80``/``GUNICORN_CMD_ARGS="--bind=:80"``, ``bind`` in
    gunicorn's configuration file, .NET before 8, whose images set
    ``ASPNETCORE_URLS=http://+:80`` unless the file moves it): a non-root user binds it
    only where the runtime sets ``net.ipv4.ip_unprivileged_port_start=0`` (Docker 20.10
    and later; not Kubernetes or podman by default); ``CMD``/
    ``ENTRYPOINT`` runs a package manager, ``sudo``/``su``/``gosu``, a daemon that
    expects to start as root, a server that changes user itself (``gunicorn --user``, or
    ``user``/``group`` in its configuration file: the ``-c`` file, or the
    ``gunicorn.conf.py`` it loads from its working directory, read from the build
    context), or a tool that needs raw sockets (``nmap``, ``tcpdump``); a mode closes a
    file the fix leaves root's to the user (``modes``: ``COPY --chmod=700``, ``chmod
    600 key``, ``chmod -R 750 /app``, ``chmod -R go-rwx .``, ``chmod u+x`` of the
    program the container runs, or a mode that cannot be read, ``--chmod=$MODE``);
    the Dockerfile shows writes outside the application
    folder (a ``VOLUME``, a log or pid file in the command, a data folder made by
    ``mkdir``) or into root's home (``/root`` in
    ``ENV``, ``pip install --user``, poetry and pipenv virtualenvs, a ``COPY``/``ADD``
    there), or gives files to
    another user with ``chown``; the base image's ``ENTRYPOINT`` may change user itself
    (node's ``docker-entrypoint.sh`` does not; a server image outside the image table,
    ``postgres``, ``redis``..., starts through an entrypoint that commonly does), the
    image installs
    ``gosu``/``su-exec``/``sudo`` or brings ``gosu``/``su-exec`` in otherwise (a
    download, a link, a ``COPY``, as docker-library's postgres does), or the
    container's entrypoint is a script read from the build context that uses root's
    tools; or the Dockerfile creates a user whose name cannot be read; or the file is
    in a ``.devcontainer/`` folder (a development environment, whose Dev Containers
    configuration chooses the user).  A relative
    ``WORKDIR`` before any absolute one is resolved from the base image's own working
    directory when the image table knows it (``/`` for ``python``, ``debian``...,
    ``/go`` for ``golang``); otherwise the folder is not known and the rule reports.

    What cannot be read but matters only to the running container does not stop the
    fix (``startup``); its reason names it instead: an entrypoint script that is not
    in the build context (copied from another stage with ``COPY --from``, downloaded or
    unpacked from an archive by ``ADD``, the base image's own, or an unknown base
    ``ENTRYPOINT``), which fails at start if it needs root; and packages whose programs
    need root when they run (``iptables``, ``kmod``, ``open-iscsi``, the docker daemon
    and client), which the container may run (a VPN, a storage driver,
    docker-in-docker) or may have needed only to build; and the application's
    volumes (``VOLUME``), which a bind mount replaces with a folder the host user owns.

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
    into its folder before the switch, which stay owned by root, or ``/`` when there is
    no ``WORKDIR``); it then fails with a permission error.  The fix gives the user the
    application folder itself: a working directory below it that the build made as
    root (``WORKDIR /app`` then ``WORKDIR src``) stays root's, and the reason says so.
    A ``VOLUME`` below the application folder is made and given to the user too (a new
    volume takes the owner of the image's folder); a bind mount or an existing volume
    there keeps its own owner, and the reason says so.  When such a ``VOLUME`` (or one
    of the application folder itself) comes before the switch, the user's RUN goes right
    above it, making the folders and giving them to the user there: a change to a
    volume's folder after its ``VOLUME`` is kept by BuildKit only (the classic builder
    and buildah/podman drop it; checked here with buildah).  Where that cannot be done
    (the user is made later by the Dockerfile, no shell), the reason says the folder
    may stay root's.
    Files copied into the folder before the switch stay
    root's, readable but not writable, and ``COPY``/``ADD`` without ``--chown`` make
    files owned by root whatever the ``USER``: the user reads them, runs them and enters
    their folders through the permission bits for others (and the group's, in group 0),
    so a ``--chmod`` or ``chmod`` (numeric or symbolic) that takes those from a path the
    fix does not give to the user stops the fix, naming the line and the mode (``line 4
    gives `/usr/local/bin/start.sh` mode 700: the new user could not run it``); every
    path counts, since the Dockerfile does not show what the program reads.  A later
    mode that opens the path again (``chmod -R o+rX``) settles it; ``chmod +x``,
    ``a+rx``, ``755``, ``-R 775`` and ``--chmod=755`` keep the fix.  Ports and users are
    read from the command, the ENV it runs with and gunicorn's configuration file; a
    port or user set in a way the Dockerfile does not show (a computed ``bind``, an
    unread entrypoint's options) is not seen.  An entrypoint that cannot
    be read may need root: the reason names it, and the container then fails at start.  Images built
    ``FROM`` this one also start as the user, and need ``USER root`` for their own
    installs.

References
    practices.md row 5; hadolint DL3002 "Last USER should not be root" (and DL3066,
    DL3046, DL3059, which the fix does not trigger for the users it creates).
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import Edit
from dockfix.model import is_root_user
from dockfix.model.preconditions import Precondition
from dockfix.model.purpose import dev_container_reason
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.rules.refusal import FixRefused
from dockfix.rules.runs_as_root.blockers import chown_blockers, find_blockers
from dockfix.rules.runs_as_root.fix import build_fix
from dockfix.rules.runs_as_root.image import Folders, Image, folders_of, image_of
from dockfix.rules.runs_as_root.process import no_process
from dockfix.rules.runs_as_root.startup import Risk
from dockfix.rules.runs_as_root.user import choose_target
from dockfix.syntax import Instruction

MESSAGE = "The container runs as root: no USER switches to an unprivileged user"
MESSAGE_EXPLICIT = "The last USER is root, so the container runs as root"


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


def _plan(image: Image, folders: Folders) -> tuple[list[Edit], str]:
    """The fix's edits and reason; FixRefused with every reason not to fix.

    Facts that cannot be read but matter only to the running container (``Risk``: an
    entrypoint not in the build context) do not stop the fix: its
    reason names each of them, after what the switch itself may change.
    """
    found = find_blockers(image, folders)
    refusals = [item for item in found if isinstance(item, FixRefused)]
    if refusals:
        raise FixRefused.combined(refusals)
    risks: dict[str, str] = {}
    for item in found:
        if isinstance(item, Risk):
            risks.setdefault(item.kind, item.reason)
    target = choose_target(image)
    if not target.spec.split(":", 1)[0].isdigit():
        # `USER name` with no known uid: hadolint DL3066 flags it, and Kubernetes'
        # runAsNonRoot cannot check it; the user is better given a fixed uid by hand.
        raise FixRefused(f"user {target.user} has no known uid for USER", kind="user name")
    refusals = list(chown_blockers(image, target))
    if refusals:
        raise FixRefused.combined(refusals)
    edits, reason = build_fix(image, folders, target)
    return edits, "; ".join([reason, *risks.values()])


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    if not document.stages:
        return
    image = image_of(context)
    users = [i for i in image.instructions if i.cmd == "USER" and i.value]
    last_user = users[-1] if users else None
    if not _runs_as_root(image, last_user):
        return  # already unprivileged, or a USER from a variable we cannot read
    if last_user is None and no_process(image) is not None:
        return  # a base, build or interactive environment: root is its user
    message = MESSAGE_EXPLICIT if last_user is not None else MESSAGE
    at = _report_at(image, last_user)
    dev_container = dev_container_reason(context.path)
    if dev_container is not None:
        yield rule.finding(message, at, note=dev_container)
        return
    try:
        edits, reason = _plan(image, folders_of(image))
    except FixRefused as refused:
        yield rule.finding(message, at, note=refused.reason)
        return
    yield rule.finding(message, at, edits=edits, applicability=Applicability.UNSAFE, reason=reason)


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
