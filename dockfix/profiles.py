"""Which rules and settings apply to each file: its nearest configuration plus the CLI.

Configuration is per folder, so one run over a monorepo can use many rule sets.  A
:class:`Profile` (rules and settings) is a small picklable value, the same object for
every file that shares it, so worker processes receive it cheaply.  The
:class:`Resolver` also answers discovery's two questions (is this path excluded, is this
name included) with the configuration nearest to the folder being searched, as ruff does.
"""

from __future__ import annotations

import os
from pathlib import Path

from dockfix.config import Config, ConfigError, find_in, load_config
from dockfix.lazy_dataclass import dataclass
from dockfix.rules.base import Rule, Settings
from dockfix.strategies import CacheStrategy, SplitStrategy

__all__ = ["ConfigError", "Overrides", "Profile", "Resolver"]


@dataclass(frozen=True)
class Profile:
    """The rules and settings for one file."""

    rules: tuple[Rule, ...]
    settings: Settings


@dataclass(frozen=True)
class Overrides:
    """What the command line says; ``None`` or empty means "use the configuration"."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    cache_strategy: str | None = None
    split_strategy: str | None = None
    ignore_noqa: bool = False


_DEFAULT = Config()


class Resolver:
    """Finds each folder's configuration (cached) and turns it into profiles."""

    def __init__(
        self, overrides: Overrides, *, config_path: Path | None = None, isolated: bool = False
    ) -> None:
        self.overrides = overrides
        self.isolated = isolated
        #: ``--config``: one configuration for every file.
        self.fixed = load_config(config_path) if config_path is not None else None
        self._by_folder: dict[str, Config] = {}
        self._loaded: dict[str, Config] = {}
        self._profiles: dict[tuple[int, tuple[str, ...]], Profile] = {}
        self._configs: list[Config] = []  # keeps ids in the profile keys alive

    # --- configuration lookup ---------------------------------------------------------

    def config_for(self, folder: Path) -> Config:
        """The configuration that applies to files in *folder*; raises ConfigError."""
        if self.fixed is not None:
            return self.fixed
        if self.isolated:
            return _DEFAULT
        start = os.path.abspath(folder)
        walked: list[str] = []
        current = start
        config = _DEFAULT
        while True:
            if current in self._by_folder:
                config = self._by_folder[current]
                break
            walked.append(current)
            found = find_in(Path(current))
            if found is not None:
                config = self._load(found)
                break
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for folder_name in walked:
            self._by_folder[folder_name] = config
        return config

    def _load(self, path: Path) -> Config:
        key = str(path)
        if key not in self._loaded:
            self._loaded[key] = load_config(path)
        return self._loaded[key]

    # --- discovery hooks --------------------------------------------------------------

    def excluded(self, path: Path) -> bool:
        """Whether a file or folder met while searching is excluded by ``exclude``."""
        config = self.config_for(path.parent)
        return config.excludes(Path(os.path.abspath(path)).as_posix())

    def included(self, path: Path) -> bool:
        """Whether a file met while searching matches an ``include`` pattern."""
        config = self.config_for(path.parent)
        return config.includes(Path(os.path.abspath(path)).as_posix())

    # --- profiles ---------------------------------------------------------------------

    def profile_for(self, path: Path | None) -> Profile:
        """Rules and settings for the file at *path* (None: standard input, the cwd's)."""
        folder = Path.cwd() if path is None else path.parent
        config = self.config_for(folder)
        ignored: tuple[str, ...] = ()
        if path is not None:
            ignored = config.ignored_for(Path(os.path.abspath(path)).as_posix())
        key = (id(config), ignored)
        if key not in self._profiles:
            self._configs.append(config)
            self._profiles[key] = self._profile(config, ignored)
        return self._profiles[key]

    def _profile(self, config: Config, per_file: tuple[str, ...]) -> Profile:
        from dockfix.rules import select_rules

        cli = self.overrides
        if cli.select:  # as in ruff, the command line's selection replaces the file's
            select: tuple[str, ...] = cli.select
            ignore = (*per_file, *cli.ignore)
        else:
            select = (*(config.select if config.select is not None else ("ALL",)),)
            select = (*select, *config.extend_select)
            ignore = (*config.ignore, *per_file, *cli.ignore)
        try:
            rules = select_rules(select, ignore)
        except ValueError as error:  # only the CLI's selectors can still be wrong here
            raise ConfigError("command line", "--select/--ignore", str(error)) from None
        defaults = Settings()
        settings = Settings(
            unsafe_fixes=cli.unsafe_fixes or bool(config.unsafe_fixes),
            cache_strategy=CacheStrategy(
                cli.cache_strategy or config.cache_strategy or defaults.cache_strategy
            ),
            split_strategy=SplitStrategy(
                cli.split_strategy or config.split_strategy or defaults.split_strategy
            ),
            image_aliases=config.image_aliases,
            image_pins=config.pins,
            checksums=config.checksums,
            user_name=config.user_name or defaults.user_name,
            user_uid=config.user_uid if config.user_uid is not None else defaults.user_uid,
            syntax_directive=(
                config.syntax_directive
                if config.syntax_directive is not None
                else defaults.syntax_directive
            ),
            healthcheck_path=config.healthcheck_path or defaults.healthcheck_path,
            ignore_noqa=cli.ignore_noqa,
        )
        return Profile(rules, settings)
