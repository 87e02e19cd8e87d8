"""Rules' access to parsed RUN shell text (lives in the model: one parse for everyone)."""

from dockfix.model.runs import RunShell, is_shell_run, parse_text, run_shell

__all__ = ["RunShell", "is_shell_run", "parse_text", "run_shell"]
