"""dockfix's exit statuses, in one place (the CLI, the report and the CI gate share them)."""

from __future__ import annotations

#: Nothing to report (or everything fixed).
EXIT_CLEAN = 0
#: Findings remain (or ``--check`` would change a file).
EXIT_FINDINGS = 1
#: dockfix could not do its job: a file it cannot read or parse, a bad option, a bug.
EXIT_ERROR = 2
