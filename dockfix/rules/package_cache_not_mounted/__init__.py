"""DF110 package-cache-not-mounted: package downloads cached in the layer, or not at all.

What it does
    Adds a BuildKit cache mount to ``RUN`` steps that install packages with pip, uv,
    poetry, npm, yarn or go, so downloads are kept on the build host between builds
    and never end up in the image::

        RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt

    and adds ``# syntax=docker/dockerfile:1`` when the file has no syntax directive
    (unless the configuration forbids it: ``syntax-directive = false``).
    With ``cache_strategy = "no-cache"`` (for builders without BuildKit) it adds
    ``--no-cache-dir`` to pip instead.

    The mounted folder is the one the tool really uses at that step, read from the
    stage model: the user (root's home is ``/root``), ``HOME``, ``XDG_CACHE_HOME`` and
    the tools' own variables (``PIP_CACHE_DIR``, ``UV_CACHE_DIR``, ``POETRY_CACHE_DIR``,
    ``npm_config_cache``, ``YARN_CACHE_FOLDER``, ``GOPATH``, ``GOMODCACHE``,
    ``GOCACHE``), options such as ``--cache-dir``, and the base image of the stage's
    lineage (``golang`` images keep modules in ``/go/pkg/mod``).

Why is this bad?
    Without a mount, pip and npm leave their download caches in the layer (bigger
    images) or, with ``--no-cache-dir``, download everything again on every rebuild.
    Practice 7 of the source article.

Fix safety
    Safe: the mount is a build-time folder only; the image's files and configuration
    are those of the original minus the package manager's cache.  Not fixed (reported,
    with the reason):

    * Windows stages, and stages whose RUN shell is not POSIX (preconditions);
    * a frontend pinned without ``RUN --mount`` (``# syntax=docker/dockerfile:1.0``);
    * a cache that belongs to a non-root user (the mount would be root-owned), or a
      cache folder named by a variable whose value cannot be known;
    * a RUN that removes the cache folder (``rm -rf /root/.cache``: a mount point cannot
      be removed, so the RUN would fail);
    * a folder an existing mount already covers (``target=/root/.cache`` holds pip's);
    * Go's module cache when something reads it from the image: ``COPY --from=... /go/pkg/mod``,
      a later ``go test``/``go mod vendor``/``make`` without the mount, ``go`` run by the
      container, or a Go image shipped without CMD (only the build cache is mounted then);
    * Poetry's whole cache folder when it may hold the project's virtualenv (only its
      ``cache`` and ``artifacts`` subfolders are mounted then);
    * uv's cache folder when uv links packages into it: ``UV_LINK_MODE=symlink`` (ENV,
      ARG, ``export`` or ``VAR=`` in the RUN) or ``--link-mode symlink``, or a value the
      model cannot know (an ARG without a default, ``--link-mode $MODE``).  Site-packages
      then holds symlinks into the cache, which a build mount leaves out of the image; a
      mount over a folder an earlier RUN of the stage (or of a stage it builds on) linked
      into is left out too, as it would hide those packages.  ``copy``, ``hardlink`` (uv
      copies across file systems) and ``clone`` are fixed; pip and Poetry copy files out
      of their caches;
    * yarn, unless the yarn that runs is known to copy packages out of its cache: Yarn 1
      (no ``.yarnrc.yml``, no ``packageManager`` naming Yarn 2+, no corepack unless
      ``packageManager`` names Yarn 1), or Yarn 2+ with ``nodeLinker: node-modules`` (its
      cache is then ``<globalFolder>/cache``, or ``cacheFolder`` without
      ``enableGlobalCache``, read from ``.yarnrc.yml`` and the ``YARN_*`` variables).
      With Plug'n'Play (Yarn 2+'s default linker) the installed packages stay in the
      cache, so a mount would leave them out of the image; ``pnpm`` links from a store.
      The project's ``package.json``, ``.yarnrc.yml`` (also in the folders above it and
      in ``HOME``) and ``.yarnrc`` are read through the COPYs that put them there: one
      that cannot be read (no build context, ``COPY --from``), a ``RUN`` that switches
      yarn (``yarn set version``, ``corepack prepare yarn@...``) or rewrites its settings,
      and a cache inside the project folder (zero-installs) are not fixed.

    Unsafe, with the reason: the user of the stage is not known (the folders assume
    root; an unknown image counts as root once one of its steps ran apt/apk/dnf without
    sudo, which only root can), or the file has no syntax directive and may not get one
    (``syntax-directive = false``, or the first stage is not a known Linux stage, so the
    line cannot go above it).  Commands that opt
    out of caching (``--no-cache-dir``, ``PIP_NO_CACHE_DIR``) are left alone: removing
    that opt-out is the user's call (hadolint DL3042 would then flag the command).
    apt and apk caches are not mounted by this rule: apt needs the image's
    ``docker-clean`` hook removed, which changes the image, and the apk rule (DF108)
    covers apk with ``--no-cache``.

References
    practices.md row 7; Docker docs "Optimize cache usage in builds"; hadolint DL3042.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.model.preconditions import Precondition, evaluate
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.rules.package_cache_not_mounted.fix import findings_of, no_cache_check
from dockfix.rules.package_cache_not_mounted.memo import ModuleMemo
from dockfix.rules.package_cache_not_mounted.plan import Plan, plan_run
from dockfix.strategies import CacheStrategy


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    model = context.model
    settings = context.settings
    no_cache = settings.cache_strategy is CacheStrategy.NO_CACHE
    syntax = evaluate(
        Precondition.RUN_MOUNTS, model, None, None, may_add_syntax=settings.syntax_directive
    )
    plans: list[Plan] = []
    memo = ModuleMemo(model)
    for facts in model.stages:
        for instruction in facts.stage.instructions:
            shell = run_shell(instruction)
            if not isinstance(shell, RunShell):
                continue
            if no_cache:
                finding = no_cache_check(rule, context.document, model, facts, instruction, shell)
                if finding is not None:
                    yield finding
                continue
            plan = plan_run(model, facts, instruction, shell, memo)
            if plan is not None:
                plans.append(plan)
    if no_cache:
        return
    directive = not model.syntax.present and settings.syntax_directive
    yield from findings_of(
        rule, context.document, model, plans, syntax.holds, syntax.reason, directive
    )


RULE = Rule(
    code="DF110",
    name="package-cache-not-mounted",
    summary="Use BuildKit cache mounts for pip, uv, poetry, npm, yarn and go downloads",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    preconditions=(Precondition.LINUX, Precondition.POSIX_SHELL),
    fix_kinds=(Applicability.SAFE, Applicability.UNSAFE),
)
