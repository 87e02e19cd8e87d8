"""What a rule is and what it returns: findings, each with an optional fix.

The fix values (``Applicability``, ``Edit``, ``Fix``) live in ``dockfix.edits`` and are
re-exported here.  Rules are pure: they read the tree and return values, the engine
applies and verifies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any, SupportsIndex

from dockfix.cached import cached_property
from dockfix.edits import Applicability, Edit, Fix, FixAvailability
from dockfix.lazy_dataclass import dataclass
from dockfix.model.preconditions import Precondition
from dockfix.strategies import CacheStrategy, SplitStrategy
from dockfix.syntax import Dockerfile

if TYPE_CHECKING:
    from dockfix.model import BuildContext, FileModel

__all__ = [
    "SEVERITIES",
    "Applicability",
    "CacheStrategy",
    "Edit",
    "Finding",
    "Fix",
    "FixAvailability",
    "Rule",
    "RuleContext",
    "Settings",
    "SplitStrategy",
]


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
    cache_strategy: CacheStrategy = CacheStrategy.MOUNT
    #: How DF202 hands built packages from the builder stage to the final one: wheels in
    #: ``/wheels`` installed with ``--no-index`` (``wheels``), or a virtualenv in
    #: ``/opt/venv`` copied over and put on ``PATH`` (``venv``).
    split_strategy: SplitStrategy = SplitStrategy.WHEELS
    #: Image aliases from the configuration: ``(pattern, canonical)`` pairs such as
    #: ``("registry.corp/python", "python")`` so internal mirrors get the table's knowledge.
    image_aliases: tuple[tuple[str, str], ...] = ()
    #: Image pins from the configuration (``pins``): ``(image, tag)`` pairs such as
    #: ``("python", "3.12-slim")``; the tag may carry ``@sha256:...`` or be a digest (DF302).
    image_pins: tuple[tuple[str, str], ...] = ()
    #: Checksums from the configuration (``checksums``): ``(url, "sha256:<hex>")`` (DF304).
    checksums: tuple[tuple[str, str], ...] = ()
    #: Name and uid DF201 gives the non-root user it creates.
    user_name: str = "app"
    user_uid: int = 10001
    #: The URL path DF210's HEALTHCHECK probes (``healthcheck-path``).
    healthcheck_path: str = "/"
    #: Whether fixes may add ``# syntax=docker/dockerfile:1`` (BuildKit then pulls a
    #: frontend image, which air-gapped CI cannot).
    syntax_directive: bool = True
    #: ``--ignore-noqa``: report and fix regardless of suppression comments.
    ignore_noqa: bool = False

    def __post_init__(self) -> None:
        # Configuration and the CLI give the strategies as their strings.
        object.__setattr__(self, "cache_strategy", CacheStrategy(self.cache_strategy))
        object.__setattr__(self, "split_strategy", SplitStrategy(self.split_strategy))


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
    #: Every applicability the rule's fixes may have (default: only ``applicability``);
    #: DF101 and DF204 fix some cases safely and others only with ``--unsafe-fixes``.
    fix_kinds: tuple[Applicability, ...] = ()
    #: Whether the rule offers a fix at all (never, for some cases, for every case),
    #: apart from how safe the fix is.
    fix_availability: FixAvailability = FixAvailability.SOMETIMES

    @property
    def kinds(self) -> tuple[Applicability, ...]:
        """The applicabilities the rule's fixes may have (none for a rule that never fixes)."""
        if self.fix_availability is FixAvailability.NEVER:
            return ()
        return self.fix_kinds or (self.applicability,)

    @property
    def fix_label(self) -> str:
        """``safe``, ``unsafe``, ``none`` or e.g. ``safe/unsafe`` (docs, tables)."""
        return "/".join(kind.value for kind in self.kinds) or "none"

    #: Opt-in rules (False) run only when a selector names them (like ruff's RUF100).
    default_enabled: bool = True
    #: The instruction names (``Instruction.cmd``, upper case) the rule reports on: the
    #: engine does not run it on a file that has none of them.  Empty: always run (the
    #: safe default for a rule whose findings may sit on any instruction).
    keywords: frozenset[str] = frozenset()

    def may_report(self, present: frozenset[str] | set[str]) -> bool:
        """Whether the rule can find anything in a file whose instruction names are
        ``present`` (see ``keywords``)."""
        return not self.keywords or not self.keywords.isdisjoint(present)

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
