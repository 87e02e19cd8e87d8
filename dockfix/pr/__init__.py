"""``dockfix pr``: turn a run into reviewable commits and a pull-request description.

Split by job: ``git`` talks to git, ``plan`` works out in memory what each rule changes
(and what a one-shot ``--write`` would give), ``body`` writes the commit messages, the
title and the markdown body, ``command`` puts them together.  Nothing here pushes: the
CI job that runs it pushes the branch and opens the PR.
"""

from __future__ import annotations

from dockfix.pr.command import PrError, PrOptions, run_pr

__all__ = ["PrError", "PrOptions", "run_pr"]
