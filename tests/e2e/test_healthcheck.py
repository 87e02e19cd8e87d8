"""Proof for DF210 (missing-healthcheck, practices.md row 11): the HEALTHCHECK dockfix adds to
a web app's image is one that `podman healthcheck run` reports healthy.

Three cases: webapp (gunicorn on python:3.11) and keep (`python -m http.server` on
python:3.11-slim) get the exec-form `python3 -c` urllib probe (Python images: it survives a
rewrite onto -slim, which has no curl); webapp-curl (webapp whose apt-get also installs curl)
gets `curl -fsS ... || exit 1`. For each, the test runs the dockfix command line with
`--select DF210 --unsafe-fixes --write` on a private copy of the app, builds the result (the
builder uses `--format docker`: the OCI format drops HEALTHCHECK), checks the image config has
the check, starts the image's own CMD in the host network, and polls `podman healthcheck run`
until it exits 0, within a bounded time; then, in a container of the same image that runs `sleep`
instead of the server, the same check must fail (the probe is not vacuous). The containers and
the image are removed in every case.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from dockfix.verify import port_is_free
from dockfix.verify.builders import TRANSIENT_RETRIES, transient_failure

from .conftest import E2EEnv, unavailable
from .test_build_fixtures import BUILD_TIMEOUT, Smoke, _copy_context

pytestmark = pytest.mark.e2e

#: How long the server may take to start and answer the probe.
HEALTHY_WITHIN = 90.0
#: case -> (fixture app, what the added HEALTHCHECK must probe with: the image's tools decide).
CASES = {
    "webapp": ("webapp", '"python3", "-c"'),
    "keep": ("keep", '"python3", "-c"'),
    # webapp whose Dockerfile also installs curl: the stage's own curl is preferred.
    "webapp-curl": ("webapp", "curl -fsS"),
}
#: Edits that make a case out of its app's Dockerfile (old, new).
EDITS = {
    "webapp-curl": ("apt-get install -y gcc libpq-dev", "apt-get install -y gcc libpq-dev curl")
}


def _container(e2e: E2EEnv, *argv: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run a podman command; one that the runtime failed for a transient host reason (see
    `builders.TRANSIENT_RUNTIME_ERRORS`) is tried again, as `Builder` does."""
    runner = e2e.builder.runner
    assert runner is not None  # the e2e fixture guarantees podman
    for _ in range(TRANSIENT_RETRIES):
        done = _podman(e2e, runner, argv, timeout)
        if transient_failure(done.returncode, done.stderr) is None:
            return done
        if "--name" in argv:  # a failed start may leave the name taken
            _podman(e2e, runner, ("rm", "--force", argv[argv.index("--name") + 1]), timeout)
    return _podman(e2e, runner, argv, timeout)


def _podman(
    e2e: E2EEnv, runner: str, argv: tuple[str, ...], timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [runner, *argv],
        env=e2e.env,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _add_healthcheck(context: Path) -> str:
    """Run the dockfix CLI as a user would; return the rewritten Dockerfile."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dockfix",
            "--isolated",
            "--select",
            "DF210",
            "--unsafe-fixes",
            "--write",
            str(context / "Dockerfile"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), f"dockfix failed:\n{done.stdout}\n{done.stderr}"
    return (context / "Dockerfile").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", sorted(CASES))
def test_added_healthcheck_reports_healthy(
    case: str, e2e: E2EEnv, tmp_path_factory: pytest.TempPathFactory
) -> None:
    app, probe = CASES[case]
    smoke = Smoke.load(app)
    assert smoke.http is not None, f"{app}: smoke.json has no http port"
    port = int(smoke.http["port"])
    if not port_is_free(port):
        unavailable(f"port {port} is busy on this host: the app serves in the host network")

    context = _copy_context(app, tmp_path_factory.mktemp(f"e2e-health-{case}") / "context")
    if case in EDITS:
        old, new = EDITS[case]
        dockerfile = context / "Dockerfile"
        original = dockerfile.read_text(encoding="utf-8")
        assert old in original, f"{app}/Dockerfile changed: update EDITS[{case!r}]"
        dockerfile.write_text(original.replace(old, new), encoding="utf-8")
    text = _add_healthcheck(context)
    checks = [line for line in text.splitlines() if line.startswith("HEALTHCHECK")]
    assert len(checks) == 1, f"{app}: expected one HEALTHCHECK:\n{text}"
    assert probe in checks[0] and f":{port}/" in checks[0], checks[0]

    builder = e2e.builder
    tag = f"localhost/dockfix-e2e/{app}:healthcheck-{case}"
    build = builder.build(context / "Dockerfile", context, tag, timeout=BUILD_TIMEOUT)
    assert build.success, f"{app}: build with the HEALTHCHECK failed:\n{build.log_tail}"
    name = f"dockfix-health-{uuid.uuid4().hex[:12]}"
    try:
        facts = builder.inspect(tag)
        assert facts.healthcheck, f"{tag}: the image config has no Healthcheck (OCI format?)"
        # No systemd timer: the test runs the check itself.
        started = _container(
            e2e, "run", "--detach", "--name", name, "--network", "host",
            "--health-interval=disable", tag,
        )  # fmt: skip
        assert started.returncode == 0, f"{tag} did not start:\n{started.stderr[-2000:]}"
        deadline = time.monotonic() + HEALTHY_WITHIN
        attempts, last = 0, None
        while time.monotonic() < deadline:
            attempts += 1
            last = _container(e2e, "healthcheck", "run", name)
            if last.returncode == 0:
                break
            running = _container(
                e2e, "container", "inspect", "--format", "{{.State.Running}}", name
            )
            if running.stdout.strip() != "true":
                break
            time.sleep(1.0)
        logs = _container(e2e, "logs", name)
        assert last is not None and last.returncode == 0, (
            f"{tag}: `podman healthcheck run` never reported healthy after {attempts} "
            f"attempt(s) (last exit {last.returncode if last else '-'}: "
            f"{(last.stdout + last.stderr).strip()[-1000:] if last else ''})\n"
            f"HEALTHCHECK: {checks[0]}\ncontainer log:\n{(logs.stdout + logs.stderr)[-3000:]}"
        )
        print(f"\n[e2e] {case}: healthy after {attempts} probe(s): {checks[0]}")
        # The probe is not vacuous: the same image with no server running is unhealthy (the
        # server's container goes first: both share the host network).
        _container(e2e, "rm", "--force", "--time", "0", name)
        idle = _container(
            e2e, "run", "--detach", "--name", f"{name}-idle", "--network", "host",
            "--health-interval=disable", tag, "sleep", "60",
        )  # fmt: skip
        assert idle.returncode == 0, f"{tag} (sleep) did not start:\n{idle.stderr[-2000:]}"
        unhealthy = _container(e2e, "healthcheck", "run", f"{name}-idle")
        assert unhealthy.returncode != 0, f"{tag}: the check passes with no server running"
    finally:
        _container(e2e, "rm", "--force", "--time", "0", name)
        _container(e2e, "rm", "--force", "--time", "0", f"{name}-idle")
        builder.remove_image(tag)
