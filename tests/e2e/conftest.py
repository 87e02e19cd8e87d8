"""Session set-up of the e2e tier: real builds with buildah/podman, or a clear skip.

Why a session fixture runs `scripts/e2e-setup.sh`: the tier needs container tools, private
container configs and local stand-ins for the python base images (no registry is reachable).
The script is idempotent and takes under a second once its state dir is warm, so every session
may run it. Its environment (CONTAINERS_* config files, BUILDAH_ISOLATION, TMPDIR) is passed to
each container command explicitly; this process's own environment is left alone.

Where the tier cannot run (not Linux, not root, setup failed, no usable builder) every e2e test
is skipped with the reason, except under `CI=true`: CI must not pass by skipping its proof, so
there the same condition fails the tests.
"""

from __future__ import annotations

import collections
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from dockfix.verify import Builder, BuilderUnavailable, find_builder

E2E_DIR = Path(__file__).resolve().parent
ROOT = E2E_DIR.parents[1]
SETUP_SCRIPT = ROOT / "scripts" / "e2e-setup.sh"
FIXTURES = ROOT / "fixtures" / "e2e"
#: A cold setup (apt-get, debootstrap, two images) takes about 3 minutes here.
SETUP_TIMEOUT = 1800.0

REPORT_KEY = pytest.StashKey["E2EReport"]()


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too so that the tier works even where pyproject lacks the marker.
    config.addinivalue_line(
        "markers", "e2e: end-to-end tests that build and run real images with buildah/podman"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/e2e is an e2e test, whether or not its module says so."""
    del config
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


def in_ci() -> bool:
    """CI sets CI=true (GitHub Actions, GitLab, ...): there a missing builder is a failure."""
    return os.environ.get("CI", "").strip().lower() == "true"


def unavailable(reason: str) -> NoReturn:
    """Skip the tier with `reason`, or fail it under CI=true."""
    if in_ci():
        pytest.fail(f"e2e tier cannot run (CI=true, so this fails instead of skipping): {reason}")
    pytest.skip(f"e2e tier skipped: {reason}")


def state_dir() -> Path:
    """Where e2e-setup.sh keeps configs, rootfs tarballs and image storage."""
    home = os.environ.get("DOCKFIX_E2E_HOME")
    return Path(home) if home else Path.home() / ".cache" / "dockfix-e2e"


def parse_env_file(text: str) -> dict[str, str]:
    """The `export KEY=value` lines that e2e-setup.sh writes to env.sh."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, _, value = words[1].partition("=")
            out[key] = value
    return out


def run_setup(home: Path) -> tuple[float, str]:
    """Run e2e-setup.sh, echoing its progress to stderr (visible with -s); return
    (seconds, last lines of output). Raises RuntimeError on failure or timeout."""
    env = dict(os.environ, DOCKFIX_E2E_HOME=str(home))
    start = time.monotonic()
    proc = subprocess.Popen(
        ["bash", str(SETUP_SCRIPT), "setup"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    timer = threading.Timer(SETUP_TIMEOUT, proc.kill)
    timer.start()
    tail: collections.deque[str] = collections.deque(maxlen=30)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line.rstrip("\n"))
            if line.startswith("[e2e-setup]"):
                sys.stderr.write(line)
        returncode = proc.wait()
    finally:
        timer.cancel()
    seconds = time.monotonic() - start
    if returncode != 0:
        raise RuntimeError(f"{SETUP_SCRIPT.name} exited with {returncode}:\n" + "\n".join(tail))
    return seconds, "\n".join(tail)


@dataclass
class E2EReport:
    """Everything the tier measured, printed at the end and written as e2e-report.json."""

    setup_seconds: float | None = None
    state_dir: str = ""
    builder: str = ""
    disk_bytes: int | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    json_path: str = ""

    def add(self, **row: Any) -> None:
        self.rows.append(row)


@dataclass(frozen=True)
class E2EEnv:
    """A ready-to-use container setup for one test session."""

    builder: Builder
    home: Path
    env: dict[str, str]


@pytest.fixture(scope="session")
def e2e_report(request: pytest.FixtureRequest) -> E2EReport:
    """The session's report; the terminal summary prints it."""
    report = E2EReport()
    request.config.stash[REPORT_KEY] = report
    return report


@pytest.fixture(scope="session")
def e2e(e2e_report: E2EReport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EEnv]:
    """Set up (or reuse) the container environment and pick the builder."""
    if not sys.platform.startswith("linux"):
        unavailable(f"needs Linux (buildah/podman), this is {sys.platform}")
    if os.geteuid() != 0:
        unavailable("needs root: apt-get, debootstrap and rootful buildah/podman")
    if shutil.which("bash") is None or shutil.which("apt-get") is None:
        unavailable("needs bash and apt-get (a Debian-like host) to install buildah/podman")
    home = state_dir()
    try:
        seconds, _ = run_setup(home)
    except (OSError, RuntimeError) as exc:
        unavailable(f"scripts/e2e-setup.sh failed: {exc}")
    env_file = home / "env.sh"
    try:
        private = parse_env_file(env_file.read_text())
    except OSError as exc:
        unavailable(f"setup wrote no {env_file}: {exc}")
    env = {**os.environ, **private}
    preferred = os.environ.get("DOCKFIX_E2E_BUILDER", "buildah")
    try:
        builder = find_builder(preferred, env=env)
    except BuilderUnavailable as exc:
        unavailable(str(exc))
    if builder.runner is None:
        unavailable("podman is missing: the smoke tests run images with podman")
    e2e_report.setup_seconds = round(seconds, 1)
    e2e_report.state_dir = str(home)
    e2e_report.builder = f"{builder.kind.value} (run: {builder.runner})"
    yield E2EEnv(builder=builder, home=home, env=env)

    # Leftovers of touched rebuilds are untagged leaves; cached layers of tagged images stay.
    builder.prune_dangling()
    e2e_report.disk_bytes = _disk_usage(home)
    path = tmp_path_factory.getbasetemp() / "e2e-report.json"
    e2e_report.json_path = str(path)
    payload = json.dumps(asdict(e2e_report), indent=2, default=str)
    path.write_text(payload)
    extra = os.environ.get("DOCKFIX_E2E_REPORT")
    if extra:
        Path(extra).write_text(payload)


def _disk_usage(path: Path) -> int | None:
    try:
        done = subprocess.run(
            ["du", "-sxb", str(path)], capture_output=True, text=True, timeout=300, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = done.stdout.split()[:1]
    return int(first[0]) if done.returncode == 0 and first else None


def _fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    return format(value, spec) if spec else str(value)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print what the tier measured, whether or not -s was given."""
    del exitstatus
    report = config.stash.get(REPORT_KEY, None)
    if report is None or (report.setup_seconds is None and not report.rows):
        return  # the tier did not run (not selected, or skipped with its reason)
    write = terminalreporter.write_line
    terminalreporter.section("dockfix e2e report")
    write(
        f"builder: {report.builder or '-'}   setup: {_fmt(report.setup_seconds)} s   "
        f"state dir: {report.state_dir or '-'}   disk used: "
        + (f"{report.disk_bytes / 1e9:.2f} GB" if report.disk_bytes else "-")
    )
    header = (
        f"{'app':<11}{'variant':<9}{'build s':>8}{'cached':>8}{'size MB':>9}{'layers':>7}"
        f"{'rebuild s':>10}{'cached':>8}  smoke / notes"
    )
    write(header)
    write("-" * len(header))
    for row in report.rows:
        write(
            f"{row['app']:<11}{row['variant']:<9}{_fmt(row.get('build_s'), '.1f'):>8}"
            f"{row.get('cached', '-'):>8}{_fmt(row.get('size_mb'), '.1f'):>9}"
            f"{_fmt(row.get('layers')):>7}{_fmt(row.get('rebuild_s'), '.1f'):>10}"
            f"{row.get('rebuild_cached', '-'):>8}  {row.get('smoke', '-')}"
            + (f"; {row['notes']}" if row.get("notes") else "")
        )
    for note in report.notes:
        write(f"note: {note}")
    if report.json_path:
        write(f"json: {report.json_path}")
