"""The rule registry: every rule, by stable code, in one table (ruff's ``codes.rs``)."""

from __future__ import annotations

from collections.abc import Iterable

from dockfix.rules import (
    add_local_source,
    apk_add_without_no_cache,
    apt_install_without_yes,
    apt_lists_not_removed,
    apt_no_install_recommends,
    apt_package_list_unsorted,
    apt_update_in_separate_run,
    build_tools_in_final_image,
    consecutive_run,
    dnf_without_clean,
    from_as_casing,
    full_python_base_image,
    gunicorn_worker_tmp_dir,
    legacy_key_value_format,
    log_to_file,
    maintainer_deprecated,
    package_cache_not_mounted,
    python_env_unset,
    runs_as_root,
    shell_form_cmd,
    source_copied_before_install,
    unused_suppression,
)
from dockfix.rules.base import Applicability, Finding, Fix, Rule, RuleContext, Settings

_REGISTERED: tuple[Rule, ...] = (
    legacy_key_value_format.RULE,
    from_as_casing.RULE,
    maintainer_deprecated.RULE,
    add_local_source.RULE,
    source_copied_before_install.RULE,
    apt_update_in_separate_run.RULE,
    apt_install_without_yes.RULE,
    apt_lists_not_removed.RULE,
    apt_no_install_recommends.RULE,
    apt_package_list_unsorted.RULE,
    apk_add_without_no_cache.RULE,
    dnf_without_clean.RULE,
    consecutive_run.RULE,
    package_cache_not_mounted.RULE,
    build_tools_in_final_image.RULE,
    full_python_base_image.RULE,
    shell_form_cmd.RULE,
    python_env_unset.RULE,
    gunicorn_worker_tmp_dir.RULE,
    log_to_file.RULE,
    runs_as_root.RULE,
    unused_suppression.RULE,
)

#: Every rule, in code order (the order of `--list-rules` and of the engine's runs).
ALL_RULES: tuple[Rule, ...] = tuple(sorted(_REGISTERED, key=lambda rule: rule.code))
#: Rules that run only when a selector names them (``default_enabled=False``).
_OPT_IN = frozenset(rule.code for rule in ALL_RULES if not rule.default_enabled)


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
    for rule in ALL_RULES:
        if key.upper() == rule.code or key.lower() == rule.name:
            return rule
    return None


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
