"""Is a stage's image Linux or Windows?  From evidence only, with the reason kept.

Windows evidence: the image table, tags such as ``windowsservercore``, ``nanoserver``,
``ltsc2022``, Microsoft's Windows repositories, ``--platform=windows``, a backtick
``# escape``, a PowerShell/cmd ``SHELL``, ``C:\\`` paths.  Linux evidence: the image
table, distribution tags (``alpine``, ``bookworm``...), ``--platform=linux``, ``scratch``
and Linux-only commands in the stage's RUNs (``apt-get``, ``chmod``, ``useradd``...).
No evidence either way means *unknown*: Linux-only fixes are then not safe.
"""

from __future__ import annotations

import enum

from dockfix import lazy_re
from dockfix.images.table import Family, ImageTraits


class Platform(enum.Enum):
    LINUX = "linux"
    WINDOWS = "windows"
    UNKNOWN = "unknown"


_WINDOWS_IMAGE = lazy_re.compile(
    r"windowsservercore|nanoserver|servercore|ltsc20\d\d|windows-?server|"
    r"mcr\.microsoft\.com/(windows|dotnet/framework)|(^|[/_-])windows([/_:-]|$)"
)
_POWERSHELL_REPO = lazy_re.compile(r"mcr\.microsoft\.com/powershell")
_LINUX_TAG = lazy_re.compile(
    r"alpine|debian|ubuntu|bookworm|bullseye|buster|stretch|jessie|trixie|jammy|focal|"
    r"bionic|xenial|noble|centos|fedora|rocky|alma|ubi\d*|amzn|amazonlinux|slim|mariner|"
    r"azurelinux|cbl-mariner|distroless|chainguard|wolfi|musl|glibc|linux"
)
#: Commands that exist only on Linux images.
LINUX_COMMANDS = frozenset(
    {
        "apt-get",
        "apt",
        "apk",
        "yum",
        "dnf",
        "microdnf",
        "zypper",
        "pacman",
        "dpkg",
        "rpm",
        "useradd",
        "groupadd",
        "adduser",
        "addgroup",
        "usermod",
        "chmod",
        "chown",
        "chgrp",
        "ln",
        "ldconfig",
        "update-alternatives",
        "locale-gen",
        "export",
        "source",
        "sed",
        "grep",
        "awk",
        "test",
        "[",
        "su",
        "sudo",
        "chsh",
        "dpkg-reconfigure",
        "update-ca-certificates",
    }
)  # (not ls/rm/cp/mv/cat/mkdir: PowerShell has them as aliases; not make/tar: Windows has them)
#: Commands that exist only on Windows images.
WINDOWS_COMMANDS = frozenset(
    {
        "powershell",
        "powershell.exe",
        "pwsh.exe",
        "cmd.exe",
        "choco",
        "setx",
        "msiexec",
        "msiexec.exe",
        "icacls",
        "dism",
        "dism.exe",
        "install-windowsfeature",
        "invoke-webrequest",
        "start-process",
        "set-itemproperty",
        "new-item",
        "remove-item",
        "expand-archive",
        "copy-item",
        "winget",
    }
)
#: ``C:\\x`` (any drive, backslash) or ``C:/x`` (the usual drives, slash); not ``'s:/``.
_WINDOWS_PATH = lazy_re.compile(r"(?:^|(?<=[\s=;,\[\"']))(?:[A-Za-z]:\\|[CDcd]:/)")


def image_platform(
    image_text: str, platform_flag: str | None, traits: ImageTraits | None
) -> tuple[Platform, str]:
    """What the FROM line alone says (the image name, tag, ``--platform`` and the table)."""
    lowered = image_text.lower()
    flag = (platform_flag or "").lower()
    if flag.startswith("windows"):
        return Platform.WINDOWS, f"--platform={platform_flag}"
    if _WINDOWS_IMAGE.search(lowered):
        return Platform.WINDOWS, f"image {image_text}"
    if _POWERSHELL_REPO.search(lowered):
        tag = lowered.rpartition(":")[2] if ":" in lowered.rpartition("/")[2] else ""
        if _LINUX_TAG.search(tag):
            return Platform.LINUX, f"image {image_text}"
        return Platform.WINDOWS, f"image {image_text}"
    if traits is not None:
        if traits.family is Family.WINDOWS:
            return Platform.WINDOWS, f"image {image_text}"
        return Platform.LINUX, f"image {image_text}"
    if flag.startswith("linux"):
        return Platform.LINUX, f"--platform={platform_flag}"
    if lowered == "scratch":
        return Platform.LINUX, "scratch"
    name = lowered.rpartition("/")[2]
    if _LINUX_TAG.search(name):
        return Platform.LINUX, f"image {image_text}"
    return Platform.UNKNOWN, ""


def has_windows_path(text: str) -> bool:
    return bool(_WINDOWS_PATH.search(text))
