"""The rule registry: every rule, by stable code, in one table (ruff's ``codes.rs``).

The table (``dockfix.rules.codes``) is generated from the rule modules by
``scripts/gen_rule_codes.py``; it lets the registry answer every question about a rule
without importing its module (see ``dockfix.rules.deferred``).
"""

from __future__ import annotations

from collections.abc import Iterable

from dockfix.rules.base import Applicability, Finding, Fix, Rule, RuleContext, Settings
from dockfix.rules.codes import RULES

#: Every rule, in code order (the order of `--list-rules` and of the engine's runs).  Each
#: is a ``DeferredRule``: its module is imported when the rule first runs or its
#: documentation is read, so choosing rules costs no rule imports.
ALL_RULES: tuple[Rule, ...] = RULES
#: Rules that run only when a selector names them (``default_enabled=False``).
_OPT_IN = frozenset(rule.code for rule in ALL_RULES if not rule.default_enabled)
_BY_KEY = {key: rule for rule in ALL_RULES for key in (rule.code, rule.name)}


__all__ = [
    "ALL_RULES",
    "Applicability",
    "Finding",
    "Fix",
    "Rule",
    "RuleContext",
    "Settings",
    "lookup",
    "select_rules",
]


def lookup(code_or_name: str) -> Rule | None:
    """A rule by code (``DF001``) or name (``legacy-key-value-format``)."""
    key = code_or_name.strip()
    return _BY_KEY.get(key.upper()) or _BY_KEY.get(key.lower())


def select_rules(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> tuple[Rule, ...]:
    """Rules chosen by ``--select``/``--ignore``; raises ValueError for unknown names.

    A selector may also be a code prefix (``DF`` or ``DF00``), as in ruff.
    """

    def expand(selectors: Iterable[str]) -> set[str]:
        codes: set[str] = set()
        for selector in selectors:
            for part in selector.split(","):
                part = part.strip()
                if not part:
                    continue
                rule = lookup(part)
                if rule:
                    codes.add(rule.code)
                    continue
                prefixed = {r.code for r in ALL_RULES if r.code.startswith(part.upper())}
                if not prefixed or part.upper() == "ALL":
                    if part.upper() == "ALL":
                        codes.update(r.code for r in ALL_RULES if r.default_enabled)
                        continue
                    raise ValueError(f"unknown rule selector {part!r}")
                if len(part) <= 2:  # `DF` means every default rule; opt-in ones need DF9...
                    prefixed = {c for c in prefixed if c not in _OPT_IN}
                codes.update(prefixed)
        return codes

    select = tuple(select)
    chosen = expand(select) if select else {r.code for r in ALL_RULES if r.default_enabled}
    dropped = expand(ignore)
    return tuple(rule for rule in ALL_RULES if rule.code in chosen - dropped)
