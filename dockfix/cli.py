"""The ``dockfix`` entry point, ``main``, which imports click only when it needs it.

The commands are click's (``dockfix.commands``).  Importing click and letting it read the
command line costs about 70 M instructions, a tenth of a ``dockfix --check FILE`` run, so
``main()`` reads the command lines editors and hooks run by itself: paths (none starting
with ``-``, the first not a command name) and the flags of ``_FLAGS``, which take no
value.  It calls the main command's work (``dockfix.main_command.execute``) with what
click would have passed, after the checks click and the command make (a readable path,
at most one mode, some path).  Any other command line goes to click, and so does ``main``
used any other way than called without arguments: for everything else (click's test
runner, ``main.commands``) it is the click group.  An exception from the work is handed
to click, which reports it as it reports one from its commands (``Aborted!``, a closed
pipe...).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dockfix.main_command import PARALLEL_THRESHOLD

if TYPE_CHECKING:
    import click

__all__ = ["PARALLEL_THRESHOLD", "main", "quick_parameters"]

#: The main command's flags read without click, and the parameter each sets.
_FLAGS: dict[str, tuple[str, bool]] = {
    "--diff": ("diff", True),
    "--write": ("write", True),
    "--check": ("check", True),
    "--unsafe-fixes": ("unsafe_fixes", True),
    "--ignore-noqa": ("ignore_noqa", True),
    "--isolated": ("isolated", True),
    "--exit-zero": ("exit_zero", True),
    "--exit-non-zero-on-fix": ("exit_non_zero_on_fix", True),
    "--statistics": ("statistics", True),
    "--color": ("color", True),
    "--no-color": ("color", False),
}
#: The main command's parameters when no option is given (click's defaults).
_DEFAULTS: dict[str, Any] = {
    "diff": False,
    "write": False,
    "check": False,
    "unsafe_fixes": False,
    "ignore_noqa": False,
    "cache_strategy": None,
    "split_strategy": None,
    "select": (),
    "ignore": (),
    "config_path": None,
    "isolated": False,
    "fail_on": "fixable",
    "exit_zero": False,
    "exit_non_zero_on_fix": False,
    "statistics": False,
    "output_format": "text",
    "jobs": None,
    "stdin_filename": None,
    "color": None,
    "list_rules": False,
    "explain": None,
}
#: First arguments the click group reads as a command name, not a path.
_COMMANDS = frozenset({"run", "pr", "dump", "verify"})


def quick_parameters(argv: Sequence[str]) -> dict[str, Any] | None:
    """The main command's parameters for ``argv``, as click would pass them, or None when
    click must read it (anything else, or a usage error click would report)."""
    if os.name != "posix" or not argv or argv[0] in _COMMANDS:
        return None  # click expands wildcards itself on Windows
    if any(name.endswith("_COMPLETE") for name in os.environ):
        return None  # maybe click's shell-completion request
    parameters = dict(_DEFAULTS)
    paths: list[str] = []
    for arg in argv:
        if arg.startswith("-"):
            if arg not in _FLAGS:
                return None
            name, value = _FLAGS[arg]
            parameters[name] = value
        elif _unreadable(arg):
            return None  # click.Path says so
        else:
            paths.append(arg)
    if not paths or parameters["diff"] + parameters["write"] + parameters["check"] > 1:
        return None
    parameters["paths"] = tuple(paths)
    return parameters


def _unreadable(path: str) -> bool:
    """What ``click.Path()`` refuses: a path that exists but cannot be read."""
    try:
        os.stat(path)
    except OSError:
        return False  # a missing path is the command's to report
    return not os.access(path, os.R_OK)


def _run_quick(parameters: dict[str, Any]) -> None:
    """The main command's work for checked parameters; exits."""
    from dockfix.main_command import execute, mode_of

    options = dict(parameters)
    mode = mode_of(diff=options.pop("diff"), write=options.pop("write"), check=options.pop("check"))
    del options["list_rules"], options["explain"]
    try:
        execute(options.pop("paths"), mode, **options)
    except SystemExit:
        raise
    except BaseException as error:  # click decides what to do with it
        _reported_by_click(error)
        raise


def _reported_by_click(error: BaseException) -> None:
    """Have click report ``error`` as if its command had raised it: it exits, or raises
    the error again when it is not one click handles."""
    import click

    def fail() -> None:
        raise error

    click.Command("dockfix", callback=fail).main(args=[], standalone_mode=True)


def _group() -> click.Group:
    from dockfix.commands import main as group

    return group


class _Main:
    """``dockfix``: see the module docstring."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs:
            parameters = quick_parameters(sys.argv[1:])
            if parameters is not None:
                _run_quick(parameters)
                return None
        return _group()(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(_group(), name)


main = _Main()
