"""Build, inspect and run images with whatever container tool the machine has.

Why a layer of our own: `dockfix verify` and the end-to-end tests prove that a rewrite keeps an
image building and behaving the same. Developers have Docker (a daemon); CI machines here have
only daemonless buildah and podman. The commands differ; the facts compared must not, so every
tool is reduced to the same small set of results (`BuildResult`, `ImageFacts`, `RunResult`,
`HttpResult`).

Every external command runs without a shell, with a timeout, in its own process group (so a
timed-out build does not leave its RUN step running), and with an explicit environment: the e2e
tier points podman/buildah at private config files through environment variables and must not
change this process's own environment to do so.
"""

from __future__ import annotations

import enum
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from pathlib import Path

from dockfix.lazy_dataclass import dataclass
from dockfix.verify.inspect import (
    FileTree,
    ImageFacts,
    facts_from_buildah,
    facts_from_inspect,
    tree_from_tar,
)

__all__ = [
    "TRANSIENT_RETRIES",
    "TRANSIENT_RUNTIME_ERRORS",
    "BuildResult",
    "Builder",
    "BuilderKind",
    "BuilderUnavailable",
    "HttpResult",
    "RunResult",
    "find_builder",
    "port_is_free",
    "transient_failure",
]

#: How long a probe such as `podman info` may take before the tool counts as unusable.
PROBE_TIMEOUT = 30.0
#: Default bound for one image build (a data-science image compiles and downloads a lot).
BUILD_TIMEOUT = 1800.0
#: Default bound for short housekeeping commands (inspect, rm, create).
SHORT_TIMEOUT = 120.0
#: Lines of build output kept in `BuildResult.log_tail`.
LOG_TAIL_LINES = 40
#: How many times a build or run that failed for a transient runtime reason is tried again.
TRANSIENT_RETRIES = 2

#: Messages that the container runtime prints when it fails *before* the step's own command
#: runs, for a reason of the host that the next attempt usually does not meet. Only such
#: failures are retried: a step whose own command fails is a result about the Dockerfile.
#: - "sealing memfd copy": runc (and buildah's chroot runner) copy their own binary into a
#:   memfd and seal it; `fcntl(F_ADD_SEALS)` returns EBUSY while the kernel still holds
#:   pages of it (seen in CI here: "Close_Fd sealing memfd copy: Device or resource busy").
TRANSIENT_RUNTIME_ERRORS = ("sealing memfd copy: Device or resource busy",)


class BuilderUnavailable(RuntimeError):
    """No usable image builder (or runner) exists; the message says what was tried and why."""


class BuilderKind(enum.Enum):
    """The container tools we know how to drive."""

    DOCKER = "docker"
    PODMAN = "podman"
    BUILDAH = "buildah"


@dataclass(frozen=True)
class BuildResult:
    """Outcome of one build. A failed build is a result, not an exception: verifying a rewrite
    must be able to report "the rewritten Dockerfile no longer builds"."""

    tag: str
    success: bool
    seconds: float
    returncode: int
    log: str = field(repr=False)
    timed_out: bool = False
    #: Build steps seen in the log (FROM lines excluded), or None if the format is unknown.
    steps: int | None = None
    #: Steps served from the layer cache, or None if the format is unknown.
    cached_steps: int | None = None

    @property
    def log_tail(self) -> str:
        """The last lines of the build log: where the reason for a failure usually is."""
        return "\n".join(self.log.splitlines()[-LOG_TAIL_LINES:])


@dataclass(frozen=True)
class RunResult:
    """Outcome of one `run` of an image (a command, or the image's own CMD)."""

    argv: tuple[str, ...] | None
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """The command finished in time with exit status 0."""
        return self.returncode == 0 and not self.timed_out


@dataclass(frozen=True)
class HttpResult:
    """Outcome of starting an image's own CMD and asking it for one URL."""

    url: str
    #: HTTP status, or None if the server never answered.
    status: int | None
    body: str
    #: Seconds from container start to the first answer (or to giving up).
    seconds: float
    #: Container output, kept to explain a failure.
    logs: str = field(repr=False)
    error: str | None = None

    @property
    def answered(self) -> bool:
        """The server sent an HTTP response (of any status)."""
        return self.status is not None


@dataclass(frozen=True)
class _Completed:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool


def _execute(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None,
    timeout: float,
    merge_stderr: bool = False,
    cwd: Path | None = None,
    on_timeout: Callable[[], None] | None = None,
) -> _Completed:
    """Run argv to completion or until timeout; on timeout kill its whole process group.

    A build's RUN step is a grandchild of the builder process: killing only the direct child
    would leave it running, so the command gets its own session and the group is signalled.
    `on_timeout` runs first: a `podman run` client forwards SIGTERM to a container that may
    ignore it, so removing the container is the quick way to end it.
    """
    start = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        if on_timeout is not None:
            on_timeout()
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                out, err = proc.communicate(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        else:
            out, err = "", ""
    return _Completed(
        returncode=proc.returncode if proc.returncode is not None else -1,
        stdout=out or "",
        stderr=err or "",
        seconds=time.monotonic() - start,
        timed_out=timed_out,
    )


def transient_failure(returncode: int, output: str) -> str | None:
    """The transient runtime message that explains a failed command, or None."""
    if returncode == 0:
        return None
    return next((message for message in TRANSIENT_RUNTIME_ERRORS if message in output), None)


def _execute_retrying(
    run: Callable[[], _Completed], output: Callable[[_Completed], str]
) -> tuple[_Completed, str]:
    """Run `run` until it succeeds or fails for a reason that is not transient.

    Returns the last attempt and a note of the attempts retried (empty if none), to be put in
    front of the output that the caller keeps.
    """
    notes: list[str] = []
    done = run()
    for number in range(1, TRANSIENT_RETRIES + 1):
        if done.timed_out:
            break
        message = transient_failure(done.returncode, output(done))
        if message is None:
            break
        notes.append(
            f"[dockfix.verify] attempt {number} failed in the container runtime "
            f"({message!r}), not in the step's command: trying again\n"
        )
        done = run()
    return done, "".join(notes)


_BUILDAH_STEP = re.compile(r"STEP \d+/\d+: (\S+)")
_BUILDAH_CACHED = re.compile(r"^--> Using cache ", re.MULTILINE)
_BUILDKIT_STEP = re.compile(r"^#(\d+) \[[^\]]*\d+/\d+\] (\S+)", re.MULTILINE)
_BUILDKIT_CACHED = re.compile(r"^#(\d+) CACHED$", re.MULTILINE)


def _count_steps(kind: BuilderKind, log: str) -> tuple[int | None, int | None]:
    """Count build steps (FROM excluded) and cache hits in a build log.

    Why: the layer-cache rule is about rebuild cost. "7 of 8 steps cached after touching
    app.py" says more than a time, which also depends on the network.
    """
    if kind is BuilderKind.DOCKER:
        ids = {i for i, instr in _BUILDKIT_STEP.findall(log) if instr.upper() != "FROM"}
        if not ids:
            return None, None
        return len(ids), len(ids & set(_BUILDKIT_CACHED.findall(log)))
    steps = [m for m in _BUILDAH_STEP.findall(log) if m.upper() != "FROM"]
    if not steps:
        return None, None
    return len(steps), len(_BUILDAH_CACHED.findall(log))


def port_is_free(port: int) -> bool:
    """True if nothing listens on `port` on this host (a server in the host network needs it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class Builder:
    """One container tool, ready to use: `program` builds, `runner` runs and inspects.

    With buildah the runner is podman (same storage, same config): buildah can build but has no
    `run` of an image's CMD with port access, and its inspect output lacks the image size.
    """

    kind: BuilderKind
    program: str
    #: podman or docker binary used for run/inspect/create, or None if there is none.
    runner: str | None
    #: Full environment for every command (None: inherit this process's environment).
    env: Mapping[str, str] | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ build
    def build_argv(self, dockerfile: Path, context: Path, tag: str, no_cache: bool) -> list[str]:
        """The build command line.

        buildah/podman: `--pull=never` (no registry is reachable; base images are local),
        `--layers` (one cached layer per instruction, like Docker), `--force-rm` (a failed build
        leaves no container behind) and `--format docker` (the OCI format drops HEALTHCHECK,
        SHELL and ONBUILD, which dockfix rewrites and must compare).
        """
        extra = ["--no-cache"] if no_cache else []
        if self.kind is BuilderKind.DOCKER:
            return [
                self.program,
                "buildx",
                "build",
                "--load",
                "--progress=plain",
                *extra,
                "-f",
                str(dockerfile),
                "-t",
                tag,
                str(context),
            ]
        return [
            self.program,
            "build",
            "--pull=never",
            "--layers",
            "--force-rm",
            "--format",
            "docker",
            *extra,
            "-f",
            str(dockerfile),
            "-t",
            tag,
            str(context),
        ]

    def build(
        self,
        dockerfile: Path,
        context: Path,
        tag: str,
        *,
        timeout: float = BUILD_TIMEOUT,
        no_cache: bool = False,
    ) -> BuildResult:
        """Build `dockerfile` with `context` as `tag`. Never raises for a failing build.

        A build that the runtime failed for a transient reason (`TRANSIENT_RUNTIME_ERRORS`) is
        tried again, at most `TRANSIENT_RETRIES` times; the layer cache keeps the steps that
        were done. The log says so: a retried build is not silently a different build.
        """
        argv = self.build_argv(dockerfile, context, tag, no_cache)
        done, retried = _execute_retrying(
            lambda: _execute(argv, env=self.env, timeout=timeout, merge_stderr=True),
            lambda completed: completed.stdout,
        )
        log = retried + done.stdout
        if done.timed_out:
            log += f"\n[dockfix.verify] build killed after {timeout:.0f} s\n"
        steps, cached = _count_steps(self.kind, log)
        return BuildResult(
            tag=tag,
            success=done.returncode == 0 and not done.timed_out,
            seconds=round(done.seconds, 2),
            returncode=done.returncode,
            log=log,
            timed_out=done.timed_out,
            steps=steps,
            cached_steps=cached,
        )

    # ---------------------------------------------------------------- inspect
    def _require_runner(self, what: str) -> str:
        if self.runner is None:
            raise BuilderUnavailable(
                f"{what} needs podman or docker; only {self.program} was found. "
                "Install podman (it shares buildah's storage and configuration)."
            )
        return self.runner

    def _check(self, argv: Sequence[str], timeout: float = SHORT_TIMEOUT) -> str:
        """Run a housekeeping command that must succeed; return its stdout."""
        done = _execute(argv, env=self.env, timeout=timeout)
        if done.returncode != 0 or done.timed_out:
            detail = "timed out" if done.timed_out else done.stderr.strip()[-2000:]
            raise RuntimeError(f"{' '.join(argv)} failed: {detail}")
        return done.stdout

    def inspect(self, tag: str) -> ImageFacts:
        """The configuration facts of image `tag` (raises if the image does not exist)."""
        if self.runner is None:
            out = self._check([self.program, "inspect", "--type", "image", tag])
            return facts_from_buildah(tag, out)
        return facts_from_inspect(tag, self._check([self.runner, "image", "inspect", tag]))

    def remove_image(self, tag: str) -> None:
        """Remove image `tag` if it exists (its cached parent layers stay)."""
        tool = self.runner or self.program
        _execute([tool, "rmi", "--force", tag], env=self.env, timeout=SHORT_TIMEOUT)

    def prune_dangling(self) -> None:
        """Remove untagged images that nothing builds on (e.g. leftovers of touched rebuilds).

        Cached intermediate layers of tagged images have children and are kept.
        """
        tool = self.runner or self.program
        argv = [tool, "image", "prune", "--force"] if self.runner else [tool, "rmi", "--prune"]
        _execute(argv, env=self.env, timeout=600.0)

    # -------------------------------------------------------------------- run
    def _run_flags(self) -> list[str]:
        # podman would otherwise start a systemd timer for an image's HEALTHCHECK.
        if self.runner and Path(self.runner).name == "docker":
            return ["--no-healthcheck"]
        return ["--health-interval=disable"]

    @staticmethod
    def _container_name() -> str:
        return f"dockfix-verify-{uuid.uuid4().hex[:12]}"

    def _force_remove(self, name: str) -> None:
        runner = self._require_runner("removing a container")
        _execute([runner, "rm", "--force", "--time", "0", name], env=self.env, timeout=60.0)

    def run(
        self,
        tag: str,
        argv: Sequence[str] | None = None,
        *,
        network: str = "none",
        timeout: float = 120.0,
        env: Mapping[str, str] | None = None,
        user: str | None = None,
        entrypoint: str | None = None,
    ) -> RunResult:
        """Run `argv` in a throw-away container of `tag` (argv None: the image's own CMD).

        The network defaults to none: a smoke test must not depend on, or change, anything
        outside the container. `entrypoint` replaces the image's ENTRYPOINT (an inspection
        command must not become the arguments of the app's own entrypoint).
        """
        runner = self._require_runner("running an image")
        name = self._container_name()
        cmd = [runner, "run", "--rm", "--name", name, "--network", network, *self._run_flags()]
        for key, value in (env or {}).items():
            cmd += ["--env", f"{key}={value}"]
        if user is not None:
            cmd += ["--user", user]
        if entrypoint is not None:
            cmd += ["--entrypoint", entrypoint]
        cmd.append(tag)
        cmd += list(argv or [])

        def attempt() -> _Completed:
            try:
                return _execute(
                    cmd, env=self.env, timeout=timeout, on_timeout=lambda: self._force_remove(name)
                )
            finally:
                # --rm does not fire when we kill the client; make sure nothing is left.
                self._force_remove(name)

        done, retried = _execute_retrying(attempt, lambda completed: completed.stderr)
        return RunResult(
            argv=tuple(argv) if argv is not None else None,
            returncode=done.returncode,
            stdout=done.stdout,
            stderr=retried + done.stderr,
            seconds=round(done.seconds, 2),
            timed_out=done.timed_out,
        )

    def serve_http(
        self,
        tag: str,
        port: int,
        path: str = "/",
        *,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
        request_timeout: float = 5.0,
    ) -> HttpResult:
        """Start the image's own CMD in the host network, GET http://127.0.0.1:<port><path>.

        The host network avoids port mapping (which needs netavark/iptables on these VMs); the
        price is that `port` must be free here, which is checked first. The loop is bounded by
        `startup_timeout`, stops early if the container exits, and the container is removed
        in every case.
        """
        runner = self._require_runner("serving an image")
        url = f"http://127.0.0.1:{port}{path}"
        if not port_is_free(port):
            return HttpResult(url, None, "", 0.0, "", error=f"port {port} is already in use")
        name = self._container_name()
        cmd = [runner, "run", "--detach", "--name", name, "--network", "host", *self._run_flags()]
        for key, value in (env or {}).items():
            cmd += ["--env", f"{key}={value}"]
        cmd.append(tag)
        start = time.monotonic()
        status: int | None = None
        body = ""
        error: str | None = None
        try:

            def start_detached() -> _Completed:
                done = _execute(cmd, env=self.env, timeout=SHORT_TIMEOUT)
                if done.returncode != 0:
                    self._force_remove(name)  # a failed start may leave the name taken
                return done

            started, _ = _execute_retrying(start_detached, lambda completed: completed.stderr)
            if started.returncode != 0:
                error = f"container did not start: {started.stderr.strip()[-2000:]}"
            deadline = start + startup_timeout
            # No proxies: an http_proxy in the environment must not carry a loopback request.
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            while error is None and time.monotonic() < deadline:
                try:
                    with opener.open(url, timeout=request_timeout) as resp:
                        status, body = resp.status, resp.read().decode(errors="replace")
                    break
                except urllib.error.HTTPError as exc:
                    status, body = exc.code, exc.read().decode(errors="replace")
                    break
                except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                    pass
                if not self._is_running(name):
                    error = "container exited before answering"
                    break
                time.sleep(0.25)
            else:
                if error is None:
                    error = f"no answer within {startup_timeout:.0f} s"
            seconds = time.monotonic() - start
            logs = _execute([runner, "logs", name], env=self.env, timeout=60.0, merge_stderr=True)
        finally:
            self._force_remove(name)
        return HttpResult(url, status, body, round(seconds, 2), logs.stdout[-4000:], error)

    def _is_running(self, name: str) -> bool:
        runner = self._require_runner("inspecting a container")
        done = _execute(
            [runner, "container", "inspect", "--format", "{{.State.Running}}", name],
            env=self.env,
            timeout=30.0,
        )
        return done.returncode == 0 and done.stdout.strip() == "true"

    # -------------------------------------------------------------- file tree
    def export_folder(self, tag: str, folder: str) -> bytes | None:
        """A tar stream of `folder` in image `tag`, or None if the folder does not exist.

        `create` + `cp CONTAINER:folder -` instead of `export`: both read the same container
        file system with owners and modes, but `export` streams the whole image (700 MB for
        python:3.11, ~10x slower) when only one folder is compared.
        """
        runner = self._require_runner("reading an image's files")
        name = self._container_name()
        # The command is never started; create only needs one when the image has no CMD.
        self._check([runner, "create", "--name", name, tag, "/dockfix-verify-not-run"])
        try:
            proc = subprocess.run(
                [runner, "cp", f"{name}:{folder}", "-"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                env=dict(self.env) if self.env is not None else None,
                timeout=600.0,
                check=False,
            )
        finally:
            self._force_remove(name)
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace")
            if "no such file or directory" in err.lower() or "could not find" in err.lower():
                return None
            raise RuntimeError(f"{runner} cp {tag}:{folder} failed: {err.strip()[-2000:]}")
        return proc.stdout

    def file_tree(self, tag: str, folder: str) -> FileTree:
        """Every path under `folder` in image `tag` with mode, owner, size and content hash.

        An empty tree means the folder does not exist, which compares as "all files removed".
        """
        data = self.export_folder(tag, folder)
        return {} if data is None else tree_from_tar(data)


def _which(name: str, env: Mapping[str, str] | None) -> str | None:
    path = (env or os.environ).get("PATH")
    return shutil.which(name, path=path)


def _probe(argv: Sequence[str], env: Mapping[str, str] | None) -> str | None:
    """None if the command works, else why it does not."""
    try:
        done = _execute(argv, env=env, timeout=PROBE_TIMEOUT)
    except OSError as exc:
        return str(exc)
    if done.timed_out:
        return f"'{' '.join(argv)}' did not answer within {PROBE_TIMEOUT:.0f} s"
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        return f"'{' '.join(argv)}' failed: {last[0]}"
    return None


def find_builder(preferred: str | None = None, *, env: Mapping[str, str] | None = None) -> Builder:
    """The first usable builder: docker buildx if a daemon answers, else podman, else buildah.

    `preferred` ("docker", "podman" or "buildah") tries only that tool. `env` is the full
    environment for every later command (the e2e tier passes its private CONTAINERS_* files).
    Raises `BuilderUnavailable` naming each tool tried and why it cannot be used.
    """
    order = list(BuilderKind)
    if preferred is not None:
        try:
            order = [BuilderKind(preferred)]
        except ValueError:
            names = ", ".join(k.value for k in BuilderKind)
            raise ValueError(f"unknown builder {preferred!r}; use one of {names}") from None
    reasons: list[str] = []
    for kind in order:
        program = _which(kind.value, env)
        if program is None:
            reasons.append(f"{kind.value}: not installed")
            continue
        if kind is BuilderKind.DOCKER:
            probes = [
                [program, "info", "--format", "{{.ServerVersion}}"],
                [program, "buildx", "version"],
            ]
            runner: str | None = program
        elif kind is BuilderKind.PODMAN:
            probes = [[program, "info", "--format", "{{.Store.GraphDriverName}}"]]
            runner = program
        else:
            probes = [[program, "info"]]
            runner = _which("podman", env)
        why = next((r for r in (_probe(p, env) for p in probes) if r is not None), None)
        if why is not None:
            reasons.append(f"{kind.value}: {why}")
            continue
        return Builder(kind=kind, program=program, runner=runner, env=env)
    raise BuilderUnavailable(
        "no usable image builder ("
        + "; ".join(reasons)
        + "). Start a Docker daemon, or install buildah and podman "
        "(on Debian as root: scripts/e2e-setup.sh)."
    )
