"""What a rule is and what it returns: findings, each with an optional fix.

As in ruff, a fix is a set of node replacements plus an applicability: *safe* fixes keep
the build and the container's behaviour and are applied by ``--diff``/``--write``;
*unsafe* ones may change behaviour and need ``--unsafe-fixes``; *display-only* findings
are never rewritten.  Rules are pure: they read the tree and return values, the engine
applies and verifies.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, SupportsIndex

from dockfix.model.preconditions import Precondition
from dockfix.syntax import Dockerfile
from dockfix.syntax.nodes import Node

if TYPE_CHECKING:
    from dockfix.model import BuildContext, FileModel


class Applicability(enum.Enum):
    """How far a rule's fix can be trusted (ordered from most to least)."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"


@dataclass(frozen=True)
class Edit:
    """Replace one top-level node by zero or more nodes (which may include itself)."""

    old: Node
    new: tuple[Node, ...]


@dataclass(frozen=True)
class Fix:
    """The edits that fix one finding, applied together or not at all."""

    edits: tuple[Edit, ...]
    applicability: Applicability
    #: For unsafe fixes: what may change, shown to the user.
    reason: str = ""

    def touched(self) -> set[int]:
        return {id(edit.old) for edit in self.edits}


@dataclass(frozen=True)
class Finding:
    """One match of a rule, at a 1-based line and column."""

    code: str
    name: str
    message: str
    line: int
    column: int
    fix: Fix | None = None
    #: Why a matching case is not fixed automatically (shown with the finding).
    note: str = ""
    #: How much the finding matters: ``error``, ``warning`` or ``info`` (the rule's).
    severity: str = "warning"


#: Severities a rule may have, from most to least serious (SARIF's levels, minus "none").
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Settings:
    """Options that change what rules do; one value passed everywhere, like black's Mode."""

    unsafe_fixes: bool = False
    #: How package caches are kept out of layers: BuildKit cache mounts (``mount``), or
    #: the managers' own no-cache flags (``no-cache``) for builders without BuildKit.
    cache_strategy: str = "mount"
    #: How DF202 hands built packages from the builder stage to the final one: wheels in
    #: ``/wheels`` installed with ``--no-index`` (``wheels``), or a virtualenv in
    #: ``/opt/venv`` copied over and put on ``PATH`` (``venv``).
    split_strategy: str = "wheels"
    #: Image aliases from the configuration: ``(pattern, canonical)`` pairs such as
    #: ``("registry.corp/python", "python")`` so internal mirrors get the table's knowledge.
    image_aliases: tuple[tuple[str, str], ...] = ()
    #: Name and uid DF201 gives the non-root user it creates.
    user_name: str = "app"
    user_uid: int = 10001
    #: Whether fixes may add ``# syntax=docker/dockerfile:1`` (BuildKit then pulls a
    #: frontend image, which air-gapped CI cannot).
    syntax_directive: bool = True
    #: ``--ignore-noqa``: report and fix regardless of suppression comments.
    ignore_noqa: bool = False


@dataclass(frozen=True)
class RuleContext:
    """What a rule may look at: the tree, where the file lives, the settings, and the
    stage model (built once per round, on first use)."""

    document: Dockerfile
    path: Path | None = None
    #: The build context on disk (the Dockerfile's folder by default), if there is one.
    context_dir: Path | None = None
    settings: Settings = field(default_factory=Settings)
    #: The cached, read-only view of ``context_dir`` (one per file, shared by rounds).
    build_context: BuildContext | None = None

    @cached_property
    def model(self) -> FileModel:
        """Facts about every stage (platform, shell, user, env...): rules read these."""
        from dockfix.model import BuildContext, FileModel

        view = self.build_context or BuildContext(self.context_dir)
        return FileModel(self.document, view, self.settings.image_aliases)


CheckFunction = Callable[["Rule", RuleContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A registered rule: stable code, kebab-case name and documentation."""

    code: str
    name: str
    summary: str
    #: The strongest fix the rule can offer (safe, unsafe or display-only).
    applicability: Applicability
    check: CheckFunction
    #: The rule module's docstring: what it does, why, fix safety, references.
    explanation: str = ""
    #: What the rule's fixes assume about the stage they edit; the engine withdraws a
    #: fix where one fails and makes it unsafe where one cannot be decided.
    preconditions: tuple[Precondition, ...] = ()
    #: How much a finding matters: ``error`` (the build or image is wrong or insecure),
    #: ``warning`` (a practice is not followed) or ``info`` (worth knowing).
    severity: str = "warning"
    #: Every kind of fix the rule may offer (default: only ``applicability``); DF101 and
    #: DF204 fix some cases safely and others only with ``--unsafe-fixes``.
    fix_kinds: tuple[Applicability, ...] = ()

    @property
    def fix_label(self) -> str:
        """``safe``, ``unsafe``, ``display-only`` or e.g. ``safe/unsafe`` (docs, tables)."""
        return "/".join(kind.value for kind in self.fix_kinds or (self.applicability,))

    #: Opt-in rules (False) run only when a selector names them (like ruff's RUF100).
    default_enabled: bool = True

    def finding(
        self,
        message: str,
        at: object,
        *,
        edits: Sequence[Edit] = (),
        applicability: Applicability | None = None,
        reason: str = "",
        note: str = "",
    ) -> Finding:
        """A finding at ``at`` (anything with ``line`` and ``column``), fixed by ``edits``."""
        fix = None
        if edits:
            fix = Fix(tuple(edits), applicability or self.applicability, reason)
        return Finding(
            self.code,
            self.name,
            message,
            getattr(at, "line", 1),
            getattr(at, "column", 1),
            fix,
            note,
            self.severity,
        )

    def run(self, context: RuleContext) -> list[Finding]:
        return list(self.check(self, context))

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        """A registered rule pickles as its code: worker processes get each file's rule set
        (its configuration's) without the rules' documentation, about 50 kB a set."""
        from dockfix.rules import lookup

        if lookup(self.code) is self:
            return (_registered_rule, (self.code,))
        return super().__reduce_ex__(protocol)


def _registered_rule(code: str) -> Rule:
    from dockfix.rules import lookup

    rule = lookup(code)
    if rule is None:  # pragma: no cover - the registry is the same in every process
        raise LookupError(f"no rule {code}")
    return rule
