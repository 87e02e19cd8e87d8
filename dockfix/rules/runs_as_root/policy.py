"""DF201's tables: system folders, root's tools and daemons, user-tool options."""

from __future__ import annotations

import re

from dockfix import lazy_re
from dockfix.shell import Manager


def _paths(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Folders that belong to the system: the app cannot own them.
SYSTEM_FOLDERS = frozenset(
    _paths(
        """/ /bin /boot /dev /etc /home /lib /lib64 /media /mnt /opt /proc /run /sbin /srv
        /sys /tmp /usr /usr/local /usr/src /usr/local/src /usr/share /var /var/lib /var/www"""
    )
)
#: Trees the app never owns: a working directory inside them is a system folder too.
SYSTEM_TREES = _paths(
    """/root /etc /proc /sys /dev /boot /bin /sbin /lib /lib64 /usr/bin /usr/sbin /usr/lib
    /usr/lib64 /usr/libexec /usr/include /usr/local/bin /usr/local/sbin /usr/local/lib
    /usr/local/include /var/log /var/run"""
)
#: Where a build installs software: writes here are installs, not the app's data.
INSTALL_TREES = _paths(
    """/usr /etc /opt /bin /sbin /lib /lib32 /lib64 /libx32 /tmp /dev /proc /sys
    /var/lib/apt /var/lib/dpkg /var/lib/rpm /var/lib/dnf /var/lib/yum /var/cache/apt
    /var/cache/apk /var/cache/dnf /var/cache/yum /var/cache/debconf"""
)
#: Where programs keep data, logs and sockets at run time.
RUNTIME_TREES = _paths(
    """/data /var/log /var/lib /var/run /run /var/cache /var/spool /srv /mnt /media /home
    /var/www"""
)
#: Folders anyone may write to: the user can too.
WORLD_WRITABLE = _paths("/tmp /var/tmp /dev")
DATA_WORD = lazy_re.compile(
    r"(?:^|[-_.])(?:logs?|data|db|database|uploads?|storage|sessions?|state|spool|sqlite3?)"
    r"(?:[-_.]|$)",
    re.IGNORECASE,
)
#: Option names whose value is a place the program writes to.
WRITE_OPTION = lazy_re.compile(r"log|pid|out|sock|data|dir|db|cache|upload|storage|state", re.I)
ROOT_HOME = lazy_re.compile(r"(?:^|[:=\s\"'])(?:/root|~)(?:/|$|:)")
#: Programs that change user themselves, or need root to.
PRIVILEGE_TOOLS = _words(
    "sudo su gosu su-exec runuser setpriv chroot doas setuidgid s6-setuidgid chpst"
)
#: Programs that expect to start as root (to drop privileges, bind ports, run the system;
#: JupyterHub's default spawner starts each user's server as that system user).
ROOT_DAEMONS = _words(
    """service systemctl cron crond sshd supervisord rsyslogd nginx httpd apache2 apache2ctl
    apachectl php-fpm postfix dockerd mount sysctl iptables chown setcap useradd usermod
    update-ca-certificates modprobe insmod iscsiadm ip6tables nft jupyterhub"""
)
#: Programs whose main work needs raw sockets or packet capture (CAP_NET_RAW): as a user
#: they fail or fall back to less (nmap's SYN scans and OS detection need root).
RAW_NETWORK_TOOLS = _words("nmap masscan zmap hping3 arp-scan tcpdump tshark dumpcap iftop nethogs")
#: Packages whose programs need root (or a root-owned socket or device) when they run, by
#: the programs that do: an image that installs one may run them, which fails as a user.
#: Not refusals: the install may serve the build only, so the fix's reason names them.
ROOT_TOOL_PACKAGES: dict[str, str] = {
    "docker": "docker",
    "docker.io": "dockerd` and `docker",
    "docker-ce": "dockerd",
    "docker-ce-cli": "docker",
    "docker-cli": "docker",
    "docker-engine": "dockerd",
    "moby-engine": "dockerd",
    "moby-cli": "docker",
    "containerd": "containerd",
    "containerd.io": "containerd",
    "iptables": "iptables",
    "ip6tables": "ip6tables",
    "nftables": "nft",
    "kmod": "modprobe",
    "qemu-kvm": "qemu` with `/dev/kvm",
    "open-iscsi": "iscsiadm",
    "iscsi-initiator-utils": "iscsiadm",
    "nfs-common": "mount.nfs",
    "nfs-utils": "mount.nfs",
    "lvm2": "lvm",
    "multipath-tools": "multipath",
    "device-mapper-multipath": "multipath",
    "wireguard-tools": "wg-quick",
    "openvpn": "openvpn",
}
#: Package managers that write outside the application folder.
SYSTEM_WIDE_MANAGERS = frozenset(
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
READ_ONLY_ACTIONS = _words("list show freeze check run search info version")
#: Build steps known to write only into the application folder: they run as the user.
APP_TOOLS = frozenset({"django-admin", "django-admin.py", "pybabel", "flask", "alembic"})
#: Commands that write nothing (outside their redirections) or only change shell state.
HARMLESS = _words("echo printf true : ls pwd id whoami printenv cat test [ cd export set")
SHELLS = frozenset({"sh", "bash", "ash", "dash"})
#: Minimal init processes that run their arguments as the real command.
INIT_WRAPPERS = _words("tini tini-static dumb-init catatonit")
PYTHON = lazy_re.compile(r"python(\d+(\.\d+)*)?")
#: What gives an entrypoint script away as needing root: privileged tools, writes to
#: system folders.
SCRIPT_NEEDS_ROOT = lazy_re.compile(
    r"\b(?:gosu|su-exec|sudo|su|runuser|setpriv|chroot|chown|chmod|apt-get|apk|yum|dnf|"
    r"microdnf|service|crond?|sshd|supervisord|useradd|adduser|usermod|groupadd|addgroup|"
    r"setcap|mount|sysctl|update-ca-certificates)\b"
    r"|>>?\s*[\"']?/(?!dev/|tmp/|proc/)\S*"
    r"|\bsed\s+-i\S*\s+.*\s/(?:etc|usr|var|opt)/\S*"
)
#: ``host:port`` with an empty, bracketed, wildcard (waitress' ``*:80``) or named host
#: (``15:2`` is not an address).
PORT_IN_WORD = lazy_re.compile(
    r"(?:^|=)(?:\[[^\]]*\]|\*|[A-Za-z0-9_.\-]*[A-Za-z_.\-][A-Za-z0-9_.\-]*)?:(\d{1,5})$"
)
PORT_OPTIONS = _words("--port -p --http-port --https-port --server.port --listen --bind -b")
#: ``python -m http.server`` options that take a value (its port is the operand).
HTTP_SERVER_VALUE_OPTIONS = _words("-b --bind -d --directory -p --protocol")
#: ENV the servers read their port from (``PORT``: gunicorn binds ``0.0.0.0:$PORT`` when
#: told no bind, and Heroku-style apps read it; uvicorn, granian and ``flask run`` read
#: their options from prefixed variables).
PORT_VARIABLES = ("PORT", "UVICORN_PORT", "GRANIAN_PORT", "FLASK_RUN_PORT")
#: gunicorn options (also in ``GUNICORN_CMD_ARGS``) that make it change user itself.
GUNICORN_USER_OPTIONS = _words("-u --user -g --group")
#: ``useradd``/``adduser`` options that take a value (shadow, Debian adduser, BusyBox).
USER_VALUE_OPTIONS = _words(
    """-b -c -d -e -f -g -G -k -K -p -s -u -Z -R -P -h --base-dir --comment --home-dir
    --home --expiredate --inactive --gid --groups --skel --key --password --shell --uid
    --root --prefix --selinux-user --selinux-range --ingroup --gecos --firstuid --lastuid
    --firstgid --lastgid --conf"""
)
GROUP_VALUE_OPTIONS = _words("-g --gid -K --key -p --password -R --root -P --prefix")
#: ``chown``/``chgrp``/``chmod`` options that take a value.
CHOWN_VALUE_OPTIONS = frozenset({"--from", "--reference"})
#: A ``chmod`` mode that looks like an option (``chmod -x file``): GNU chmod reads it as
#: the mode (its own options are ``-R -c -f -v`` and long ones).
MINUS_MODE = lazy_re.compile(r"-[rwxXst]+")
#: A numeric mode, and a symbolic one (``u+x``, ``go-rwx``, ``a+rX,g=u``) clause by clause.
OCTAL_MODE = lazy_re.compile(r"[0-7]{1,4}")
SYMBOLIC_CLAUSE = lazy_re.compile(r"([ugoa]*)((?:[-+=](?:[ugo]|[rwxXst]*))+)")
SYMBOLIC_ACTION = lazy_re.compile(r"([-+=])([ugo]|[rwxXst]*)")
#: Options naming the user's ids and groups (names in use, with the user's own).
ID_OPTIONS = (("-u", "--uid"), ("-g", "--gid"), ("-G", "--groups", "--ingroup"))
#: How many uids from ``Settings.user_uid`` on are tried for a new user (the default,
#: 10001, is above the ranges of system and login users: nobody on the host either).
UID_TRIES = 9
#: Packages that bring ``useradd``/``groupadd`` (Debian ``passwd``, RHEL ``shadow-utils``).
USERADD_PACKAGES = frozenset({"passwd", "shadow", "shadow-utils"})
#: ``chgrp``/``chown`` group operands that name the root group (OpenShift's group 0).
GROUP_ZERO = frozenset({"0", "root"})
#: Programs a CMD of a build or CI environment runs: a shell, or a build tool.
BUILD_ENV_PROGRAMS = _words(
    "sh bash ash dash zsh make cmake mvn mvnw gradle gradlew gcc g++ cc cargo rustc javac ant"
)
MKDIR_VALUE_OPTIONS = frozenset({"-m", "--mode", "-d", "-r", "-t", "--context"})
