"""What a RUN changes for the shells that run after it (DF102's reasons to keep RUNs apart).

Each RUN starts a fresh shell.  Joined with ``&&``, the commands of the next RUN run in
the same shell instead, so they no longer see what only a fresh shell picks up: a shell
switched by ``conda activate`` or ``ln -s ... /bin/sh``, startup files a login shell or
``$BASH_ENV`` loads, or a program that upgraded itself to another place on ``PATH``.
"""

from __future__ import annotations

import re

from dockfix import lazy_re
from dockfix.model import ShellDialect, Step
from dockfix.rules._shell import RunShell
from dockfix.shell import Manager, SimpleCommand, command_words, iter_simple_commands

#: ``tool subcommand`` pairs that change the running shell (functions, PATH, prompt).
ACTIVATORS = frozenset(
    {
        ("conda", "activate"),
        ("conda", "deactivate"),
        ("mamba", "activate"),
        ("mamba", "deactivate"),
        ("micromamba", "activate"),
        ("micromamba", "deactivate"),
        ("nvm", "use"),
        ("pyenv", "shell"),
        ("pyenv", "activate"),
        ("rvm", "use"),
        ("sdk", "use"),
        ("jenv", "shell"),
    }
)
_ACTIVATOR_NAMES = frozenset({"activate", "deactivate", "workon"})
#: ``tool subcommand`` pairs that write shell startup files (``~/.bashrc``...).
SHELL_INITS = frozenset(
    {
        ("conda", "init"),
        ("mamba", "init"),
        ("micromamba", "shell"),
        ("pyenv", "init"),
        ("nvm", "alias"),
    }
)
#: Installers that edit the startup files unless told not to.
_PROFILE_WRITERS = frozenset({"rustup-init"})
#: Commands that change which shell ``/bin/sh`` or a user's login shell is.
_SHELL_SWITCHERS = frozenset({"chsh"})
_FILE_MOVERS = frozenset({"ln", "cp", "mv", "install", "rm", "dpkg-divert"})
_SHELL_PROGRAMS = frozenset({"sh", "bash", "dash", "zsh", "ash", "ksh"})
#: Files a shell reads when it starts (login, interactive, or the system-wide ones).
_STARTUP_FILE = lazy_re.compile(
    r"(?:^|/)\.(?:bashrc|bash_profile|bash_login|bash_aliases|profile|zshrc|zprofile|zshenv)$"
    r"|^/etc/(?:profile(?:\.d(?:/.*)?)?|bash\.bashrc|bashrc|environment|zsh/.*)$"
)


def _values(command: SimpleCommand) -> list[str]:
    """The command's words and redirect targets, quotes stripped where they are known."""
    words = [word.value for word in command_words(command)]
    words += [r.target.value for r in command.redirects if r.target is not None]
    return [word.strip("'\"") for word in words]


def reads_startup_files(step: Step) -> bool:
    """Does RUN's shell read startup files (a login or interactive shell, ``BASH_ENV``)?"""
    if step.dialect is ShellDialect.BASH_LOGIN:
        return True
    if not step.dialect.is_posix:
        return False
    words = step.shell or ()
    options = [word for word in words if re.fullmatch(r"-[a-zA-Z]+", word)]
    if "--login" in words or any("l" in option or "i" in option for option in options):
        return True  # `sh -l -c`, `bash -i -c`
    # sh reads $ENV only when interactive, which RUN is not; bash -c reads $BASH_ENV.
    return step.dialect is ShellDialect.BASH and step.defines("BASH_ENV")


def _running_shell_change(words: list[str], shell_paths: frozenset[str]) -> str | None:
    """Why the command changes the running shell or the program later RUNs start."""
    name = words[0].rsplit("/", 1)[-1]
    pair = (name, words[1] if len(words) > 1 else "")
    if pair in ACTIVATORS or name in _ACTIVATOR_NAMES:
        return f"`{' '.join(pair).strip()}` changes the shell the next commands run in"
    if name in _SHELL_SWITCHERS or (name == "dpkg-reconfigure" and "dash" in words):
        return f"`{name}` changes the shell later RUNs start"
    if name == "update-alternatives" and any(w.rsplit("/", 1)[-1] == "sh" for w in words[1:]):
        return "`update-alternatives` changes `/bin/sh`"
    if name in _FILE_MOVERS and any(w in shell_paths for w in words[1:]):
        return f"`{name}` replaces the shell later RUNs start"
    return None


def _startup_change(words: list[str], bash_env: str | None) -> str | None:
    """Why the command changes the startup files a login/interactive shell reads
    (``bash_env``: the file ``$BASH_ENV`` names, when RUN's bash reads one)."""
    name = words[0].rsplit("/", 1)[-1]
    pair = (name, words[1] if len(words) > 1 else "")
    if pair in SHELL_INITS or name in _PROFILE_WRITERS:
        return f"`{' '.join(pair).strip()}` changes what later shells load"
    startup = next((w for w in words[1:] if _STARTUP_FILE.search(w)), None)
    if startup is None and bash_env is not None:
        startup = next((w for w in words[1:] if w == bash_env or "BASH_ENV" in w), None)
    if startup is not None:
        return f"it writes `{startup}`, which RUN's shell loads"
    if name in _SHELL_PROGRAMS or name.endswith(".sh"):
        # `curl ... | bash`, `bash install.sh`: nvm, rustup, sdkman... edit the profiles.
        return "a script it runs may edit the startup files that RUN's shell loads"
    return None


#: ``BASH_ENV`` is set, but to a value the model does not know.
_UNKNOWN = "?"


def _bash_env(step: Step) -> str | None:
    """The file RUN's bash loads through ``BASH_ENV`` (``_UNKNOWN`` when set to a value
    the model cannot know), or None when none is loaded."""
    if step.dialect not in (ShellDialect.BASH, ShellDialect.BASH_LOGIN):
        return None
    if not step.defines("BASH_ENV"):
        return None
    value = step.value("BASH_ENV")
    return _UNKNOWN if value is None or "$" in value else value


def later_shell_change(shell: RunShell, step: Step) -> str | None:
    """Why commands joined after this RUN would not see what it set up for later shells.

    Startup files matter only where RUN's shell reads them (``bash --login``, ``-i``,
    ``BASH_ENV``); ``sh -c`` reads none, so writing them there changes nothing a join
    could lose.  A ``BASH_ENV`` file is matched by its path or by ``$BASH_ENV``; where
    its path is not known, any RUN may write it.
    """
    shell_paths = frozenset({"/bin/sh", "/usr/bin/sh", *(step.shell or ())[:1]})
    startup = reads_startup_files(step)
    bash_env = _bash_env(step) if startup else None
    if bash_env == _UNKNOWN:
        return "RUN's bash loads `$BASH_ENV`, whose file is not known: this RUN may write it"
    for command in iter_simple_commands(shell.script):
        words = _values(command)
        if not words:
            continue
        reason = _running_shell_change(words, shell_paths)
        if reason is None and startup:
            reason = _startup_change(words, bash_env)
        if reason is not None:
            return reason
    return None


def _package_name(text: str) -> str:
    """``pip`` of ``pip==24.0``, ``pip>=23``, ``npm@latest``, ``"pip"``."""
    return re.split(r"[<>=!~\[@;\s]", text.strip("'\""), maxsplit=1)[0].lower()


def self_upgrades(shell: RunShell, python_image: bool) -> frozenset[str]:
    """The programs, as the RUN invokes them, that install a new copy of themselves
    (``pip3 install --upgrade pip``, ``npm install -g npm``) somewhere else on PATH.

    In a Python image (``python:3.12``) pip lives in ``/usr/local/bin`` and upgrades
    itself in place, so a remembered path still runs the new copy; a distribution's pip
    (``/usr/bin/pip3``) is upgraded into ``/usr/local/bin``.
    """
    names = set()
    for package in shell.packages():
        own = package.manager.value
        if python_image and package.manager is Manager.PIP:
            continue
        if package.program_words and any(
            _package_name(word.value) == own for word in package.packages
        ):
            names.add(package.program_words[0].value)
    return frozenset(names)
