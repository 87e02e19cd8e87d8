"""The rule registry: every rule, by stable code, in one table (ruff's ``codes.rs``)."""

from __future__ import annotations

from collections.abc import Iterable

from dockfix.rules import (
    add_local_source,
    add_remote_url,
    apk_add_without_no_cache,
    apt_install_without_yes,
    apt_lists_not_removed,
    apt_no_install_recommends,
    apt_package_list_unsorted,
    apt_update_in_separate_run,
    apt_upgrade,
    build_tools_in_final_image,
    cd_in_run,
    consecutive_run,
    consistent_instruction_casing,
    copy_ignored_file,
    dnf_without_clean,
    duplicate_stage_name,
    entrypoint_cmd_shape,
    expose_invalid_format,
    expose_proto_casing,
    from_as_casing,
    from_platform_flag_const,
    full_python_base_image,
    gunicorn_worker_tmp_dir,
    invalid_default_arg_in_from,
    legacy_key_value_format,
    log_to_file,
    maintainer_deprecated,
    missing_dockerignore,
    missing_healthcheck,
    multiple_instructions,
    no_empty_continuation,
    package_cache_not_mounted,
    pipefail,
    python_env_unset,
    redundant_target_platform,
    reserved_stage_name,
    runs_as_root,
    secrets_in_arg_env,
    several_processes,
    shell_form_cmd,
    source_copied_before_install,
    stage_name_casing,
    sudo_as_root,
    undefined_arg_in_from,
    unpinned_base_image,
    unpinned_packages,
    unused_suppression,
    workdir_relative_path,
)
from dockfix.rules.base import Applicability, Finding, Fix, Rule, RuleContext, Settings

_REGISTERED: tuple[Rule, ...] = (
    legacy_key_value_format.RULE,
    from_as_casing.RULE,
    stage_name_casing.RULE,
    consistent_instruction_casing.RULE,
    no_empty_continuation.RULE,
    multiple_instructions.RULE,
    workdir_relative_path.RULE,
    maintainer_deprecated.RULE,
    expose_proto_casing.RULE,
    expose_invalid_format.RULE,
    duplicate_stage_name.RULE,
    reserved_stage_name.RULE,
    undefined_arg_in_from.RULE,
    invalid_default_arg_in_from.RULE,
    from_platform_flag_const.RULE,
    copy_ignored_file.RULE,
    redundant_target_platform.RULE,
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
    apt_upgrade.RULE,
    cd_in_run.RULE,
    pipefail.RULE,
    build_tools_in_final_image.RULE,
    full_python_base_image.RULE,
    shell_form_cmd.RULE,
    python_env_unset.RULE,
    gunicorn_worker_tmp_dir.RULE,
    log_to_file.RULE,
    missing_healthcheck.RULE,
    runs_as_root.RULE,
    sudo_as_root.RULE,
    missing_dockerignore.RULE,
    secrets_in_arg_env.RULE,
    unpinned_base_image.RULE,
    unpinned_packages.RULE,
    add_remote_url.RULE,
    several_processes.RULE,
    entrypoint_cmd_shape.RULE,
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
