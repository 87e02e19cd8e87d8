"""``dockfix verify``: prove a rewrite by building and running both Dockerfiles.

Builds the original and the fixed Dockerfile with the same builder and context, then
compares what a user of the image sees: the image configuration (env, user, workdir,
entrypoint, cmd, ports, healthcheck), a smoke test run in both images, size and layer
count, and the time of a rebuild after one source file changes (the layer-cache win).
The original Dockerfile is never written: the fixed text goes to a temporary file
outside the context.
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, field
from pathlib import Path

from dockfix.lazy_dataclass import dataclass
from dockfix.verify.builders import Builder, BuildResult, RunResult
from dockfix.verify.compare import Change, config_diff, rebuild_after_touch, unexpected
from dockfix.verify.inspect import ImageFacts
from dockfix.verify.libraries import LibraryScan, apt_line, scan_image

#: Source files whose change a developer makes all the time (rebuild-time probe).
_SOURCE_SUFFIXES = (".py", ".js", ".ts", ".go", ".rb", ".php", ".java", ".html", ".css", ".sh")
_SKIP_DIRS = frozenset({".git", "node_modules", "__pycache__", ".venv", "venv"})
#: How long an image's own CMD must stay up (or exit 0) to count as started.
ALIVE_SECONDS = 8.0
#: Image configuration each rule means to change (fnmatch patterns over
#: ``compare.config_diff`` keys); any other difference fails the verification.
INTENDED_CHANGES: dict[str, tuple[str, ...]] = {
    "DF003": ("Labels.org.opencontainers.image.authors",),
    "DF201": ("User",),
    "DF202": ("Env.PATH",),
    "DF204": ("Cmd", "Entrypoint"),
    "DF205": ("Env.PYTHONDONTWRITEBYTECODE", "Env.PYTHONUNBUFFERED"),
    "DF206": ("Cmd", "Entrypoint"),
}


def intended_changes(codes: Sequence[str]) -> tuple[str, ...]:
    """The configuration keys the rules that fixed something meant to change."""
    return tuple(pattern for code in codes for pattern in INTENDED_CHANGES.get(code, ()))


@dataclass(frozen=True)
class Side:
    """One image: its build, what it looks like, how its smoke test went."""

    build_seconds: float
    success: bool
    log_tail: str = ""
    size_mb: float | None = None
    layers: int = 0
    smoke: str = ""
    smoke_ok: bool = False
    rebuild_seconds: float | None = None


@dataclass(frozen=True)
class VerifyReport:
    """Everything ``dockfix verify`` found, ready for text or JSON."""

    dockerfile: str
    context: str
    builder: str
    changed: bool
    verdict: str
    reasons: tuple[str, ...] = ()
    before: Side | None = None
    after: Side | None = None
    config_changes: dict[str, tuple[object, object]] = field(default_factory=dict)
    #: Shared-library scans of both images (``libraries=True``), None when not run.
    libraries_before: LibraryScan | None = None
    libraries_after: LibraryScan | None = None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def pick_source_file(context: Path) -> str | None:
    """A source file to touch for the rebuild-time probe (first by sorted path)."""
    for path in sorted(context.rglob("*")):
        if any(part in _SKIP_DIRS for part in path.relative_to(context).parts):
            continue
        if path.is_file() and path.suffix in _SOURCE_SUFFIXES:
            return str(path.relative_to(context))
    return None


def _smoke(builder: Builder, tag: str, smoke: str | None) -> tuple[str, bool]:
    """Run the smoke command (or the image's own CMD) and judge it."""
    if smoke:
        result = builder.run(tag, ["/bin/sh", "-c", smoke], timeout=120.0)
        return _describe(result), result.ok
    result = builder.run(tag, None, timeout=ALIVE_SECONDS)
    if result.timed_out:
        return f"own command still running after {ALIVE_SECONDS:.0f} s", True
    return _describe(result), result.returncode == 0


def _describe(result: RunResult) -> str:
    if result.timed_out:
        return "timed out"
    tail = (result.stdout or result.stderr).strip().splitlines()[-1:] or [""]
    return f"exit {result.returncode}: {tail[0][:200]}"


def _side(
    builder: Builder,
    dockerfile: Path,
    context: Path,
    tag: str,
    smoke: str | None,
    touched: str | None,
) -> Side:
    build: BuildResult = builder.build(dockerfile, context, tag)
    if not build.success:
        return Side(build.seconds, False, build.log_tail)
    facts: ImageFacts = builder.inspect(tag)
    smoke_text, smoke_ok = _smoke(builder, tag, smoke)
    rebuild = None
    if touched is not None:
        rebuilt = rebuild_after_touch(builder, dockerfile, context, f"{tag}-rebuild", touched)
        rebuild = rebuilt.seconds if rebuilt.success else None
        builder.remove_image(f"{tag}-rebuild")
    return Side(
        build.seconds,
        True,
        "",
        facts.size_mb,
        facts.layers,
        smoke_text,
        smoke_ok,
        rebuild,
    )


def verify(
    builder: Builder,
    dockerfile: Path,
    context: Path,
    original: str,
    fixed: str,
    *,
    smoke: str | None = None,
    intended: Sequence[str] = (),
    libraries: bool = True,
    rebuild_probe: bool = True,
) -> VerifyReport:
    """Build both texts, compare, and give a verdict.

    ``intended`` names the configuration fields the applied rules mean to change (the
    user, the PATH of a split venv...): differences there are reported, not failures.
    ``libraries`` scans both images for shared objects whose libraries do not load
    (``libraries.scan_image``); ``rebuild_probe=False`` skips the touched-source rebuild
    (the repair loop rebuilds often and needs only the verdict).
    """
    report = functools.partial(VerifyReport, str(dockerfile), str(context), builder.kind.value)
    if original == fixed:
        return report(changed=False, verdict="nothing to verify")
    stamp = f"{int(time.time())}-{abs(hash((original, fixed))) % 10**8}"
    touched = pick_source_file(context) if rebuild_probe else None
    scans: list[LibraryScan | None] = [None, None]
    with tempfile.TemporaryDirectory(prefix="dockfix-verify-") as folder:
        before_file = Path(folder) / "Dockerfile.original"
        after_file = Path(folder) / "Dockerfile.fixed"
        before_file.write_text(original, encoding="utf-8")
        after_file.write_text(fixed, encoding="utf-8")
        before_tag = f"localhost/dockfix-verify:{stamp}-before"
        after_tag = f"localhost/dockfix-verify:{stamp}-after"
        try:
            before = _side(builder, before_file, context, before_tag, smoke, touched)
            after = _side(builder, after_file, context, after_tag, smoke, touched)
            changes: dict[str, Change] = {}
            if before.success and after.success:
                changes = config_diff(builder.inspect(before_tag), builder.inspect(after_tag))
            if libraries:
                for index, (side, tag) in enumerate(((before, before_tag), (after, after_tag))):
                    scans[index] = scan_image(builder, tag) if side.success else None
        finally:
            for tag in (before_tag, after_tag):
                builder.remove_image(tag)
    reasons = judge(before, after, changes, intended) + library_reasons(*scans)
    return report(
        changed=True,
        verdict="fail" if reasons else "pass",
        reasons=tuple(reasons),
        before=before,
        after=after,
        config_changes={key: (c.before, c.after) for key, c in changes.items()},
        libraries_before=scans[0],
        libraries_after=scans[1],
    )


def library_reasons(before: LibraryScan | None, after: LibraryScan | None) -> list[str]:
    """A failure reason per soname the fixed image cannot load.

    A library missing in the original too is still a failure (the image cannot run that
    code), but says so: the rewrite did not cause it.
    """
    if after is None or not after.ran:
        return []
    old = {item.soname for item in before.missing} if before is not None and before.ran else set()
    reasons = []
    for item in after.missing:
        package = f" (package {item.package.package})" if item.package else ""
        where = ", ".join(item.needed_by[:3]) + (" ..." if len(item.needed_by) > 3 else "")
        also = "; the original image lacks it too" if item.soname in old else ""
        reasons.append(
            f"the fixed image cannot load {item.soname}{package}, needed by {where}{also}"
        )
    return reasons


def judge(
    before: Side, after: Side, changes: dict[str, Change], intended: Sequence[str]
) -> list[str]:
    """Why the fixed image is not as good as the original (empty: the verdict is pass)."""
    reasons = []
    if not before.success:
        reasons.append("the original Dockerfile does not build here; nothing to compare")
    if not after.success:
        reasons.append("the fixed Dockerfile does not build")
    if before.success and after.success:
        if before.smoke_ok and not after.smoke_ok:
            reasons.append(f"smoke test fails after the fix: {after.smoke}")
        for key in unexpected(changes, intended):
            reasons.append(f"image configuration changed: {key}")
    return reasons


def render_text(report: VerifyReport) -> str:
    """A side-by-side table people can read in a terminal or a PR comment."""
    lines = [f"dockfix verify {report.dockerfile} (context {report.context}, {report.builder})"]
    if not report.changed:
        lines.append("no fixes to verify: the Dockerfile is already clean")
        return "\n".join(lines) + "\n"
    before, after = report.before, report.after
    assert before is not None and after is not None

    def cell(value: object) -> str:
        return "-" if value is None or value == "" else str(value)

    rows = [
        ("builds", cell(before.success), cell(after.success)),
        ("build time (s)", cell(before.build_seconds), cell(after.build_seconds)),
        ("size (MB)", cell(before.size_mb), cell(after.size_mb)),
        ("layers", cell(before.layers), cell(after.layers)),
        (
            "rebuild after source change (s)",
            cell(before.rebuild_seconds),
            cell(after.rebuild_seconds),
        ),
        ("smoke", cell(before.smoke), cell(after.smoke)),
    ]
    width = max(len(row[0]) for row in rows)
    lines.append(f"{'':{width}}  {'original':<40}  fixed")
    lines.extend(f"{name:{width}}  {old:<40}  {new}" for name, old, new in rows)
    for key, (old, new) in sorted(report.config_changes.items()):
        lines.append(f"config {key}: {old!r} -> {new!r}")
    lines.extend(render_libraries(report.libraries_after))
    lines.append(f"verdict: {report.verdict.upper()}")
    lines.extend(f"  - {reason}" for reason in report.reasons)
    for name, side in (("original", before), ("fixed", after)):
        lines.extend(render_failed_build(name, side))
    return "\n".join(lines) + "\n"


#: Lines of a failed build's log the text report shows (the JSON report keeps the tail).
SHOWN_LOG_LINES = 12


def render_failed_build(name: str, side: Side) -> list[str]:
    """The end of a failed build's log: the reason (a missing base image, a package
    that does not install) is there, and without it "does not build" is a dead end."""
    if side.success or not side.log_tail.strip():
        return []
    tail = side.log_tail.rstrip("\n").splitlines()[-SHOWN_LOG_LINES:]
    return [f"{name} build log (last {len(tail)} lines):", *(f"    {line}" for line in tail)]


def render_libraries(scan: LibraryScan | None) -> list[str]:
    """The fixed image's library check: what is missing, its package, the line to add."""
    if scan is None:
        return []
    if not scan.ran:
        return [f"shared libraries: not checked ({scan.reason})"]
    if not scan.missing:
        return [f"shared libraries: all load ({scan.checked} files checked)"]
    lines = [f"shared libraries: {len(scan.missing)} missing ({scan.checked} files checked)"]
    for item in scan.missing:
        if item.package is None:
            named = "no package known"
        else:
            sure = "" if item.package.known else ", a guess"
            named = f"package {item.package.package} ({item.package.note}{sure})"
        lines.append(f"  {item.soname}: {named}; needed by {', '.join(item.needed_by[:3])}")
    if scan.packages:
        lines.append("  add to the final stage, after its FROM (dockfix verify --repair does):")
        lines.append(f"    {apt_line(scan.packages)}")
    return lines
