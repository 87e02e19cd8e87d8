"""Rules' access to parsed RUN shell text (lives in the model: one parse for everyone)."""

from dockfix.model.runs import (
    CommandKey,
    RunShell,
    command_key,
    is_shell_run,
    parse_text,
    run_comments,
    run_shell,
)

__all__ = [
    "CommandKey",
    "RunShell",
    "command_key",
    "is_shell_run",
    "parse_text",
    "run_comments",
    "run_shell",
]
