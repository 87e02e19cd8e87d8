"""``dockfix pr`` against real git repositories in temporary folders.

The contract: on a clean work tree, one commit per rule on a new ``dockfix/...`` branch,
a final tree equal to a one-shot ``--write`` (a last "remaining fixes" commit where the
rules applied one at a time end elsewhere), a title and markdown body, never a push;
``--dry-run`` changes nothing; a dirty tree is refused with exit status 2.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import corpus_files_dir

from dockfix.cli import main
from dockfix.pr.body import body, commit_message
from dockfix.pr.plan import make_plan
from dockfix.profiles import Profile
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext, Settings

SERVICES = {
    "services/api/Dockerfile": "FROM debian:12\nMAINTAINER team\nRUN apt-get install curl\n",
    "services/web/Dockerfile": "FROM debian:12\nENV A b c\nRUN apt-get install -y curl\n",
    "tools/Containerfile": "FROM debian:12 as base\nMAINTAINER ops\n",
    "docs/README.md": "not a Dockerfile\n",
}
#: The rules SERVICES needs, in the order of their commits.
EXPECTED_SUBJECTS = [
    "fix(dockerfile): DF001 legacy-key-value-format",
    "fix(dockerfile): DF002 from-as-casing",
    "fix(dockerfile): DF003 maintainer-deprecated",
    "fix(dockerfile): DF104 apt-install-without-yes",
]
RULES = "DF001,DF002,DF003,DF104"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def make_repo(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "config", "commit.gpgsign", "false")
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def subjects(root: Path) -> list[str]:
    return git(root, "log", "--format=%s", "main..HEAD").splitlines()[::-1]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", dict(SERVICES))


@pytest.fixture
def in_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(repo)
    yield repo


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def write_copy(source: Path, target: Path, *options: str) -> dict[str, bytes]:
    """What a one-shot ``dockfix --write`` makes of a copy of the tree."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".git"))
    command = [sys.executable, "-m", "dockfix", "--write", *options, "."]
    done = subprocess.run(command, cwd=target, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    return snapshot(target)


# -- through click's runner -----------------------------------------------------------


def test_one_commit_per_rule_ending_at_write(in_repo: Path, tmp_path: Path) -> None:
    expected = write_copy(in_repo, tmp_path / "copy", "--select", RULES)
    body_file = tmp_path / "body.md"
    status, out, err = invoke("pr", "--select", RULES, "--body-file", str(body_file))
    assert status == 0, err
    assert subjects(in_repo) == EXPECTED_SUBJECTS
    assert snapshot(in_repo) == expected
    assert git(in_repo, "status", "--porcelain") == ""
    branch = git(in_repo, "rev-parse", "--abbrev-ref", "HEAD").strip()
    assert branch.startswith("dockfix/")
    assert out.startswith("fix(dockerfile): dockfix fixes (DF001, DF002, DF003 +1 more) in 3 files")
    assert "nothing was pushed" in err
    # Each commit touches exactly the files its message lists.
    for rev in git(in_repo, "rev-list", "main..HEAD").split():
        touched = set(git(in_repo, "show", "--name-only", "--format=", rev).split())
        message = git(in_repo, "log", "-1", "--format=%B", rev)
        listed = {line[2:].split(" (")[0] for line in message.splitlines() if line[:2] == "- "}
        assert touched == listed, message
    text = body_file.read_text()
    for subject in EXPECTED_SUBJECTS:
        code_and_name = subject.split(": ", 1)[1]
        assert f"## {code_and_name}" in text
    assert "| `services/api/Dockerfile` | 1 | 1 |" in text
    assert "**Why:**" in text


def test_body_to_stdout_without_body_file(in_repo: Path) -> None:
    status, out, _ = invoke("pr", "--select", "DF003")
    assert status == 0
    title, _, rest = out.partition("\n\n")
    assert title == "fix(dockerfile): dockfix fixes (DF003) in 2 files"
    assert "## DF003 maintainer-deprecated" in rest
    assert "| `tools/Containerfile` | 1 | 1 |" in rest


def test_dry_run_changes_nothing(in_repo: Path) -> None:
    before = snapshot(in_repo)
    head = git(in_repo, "rev-parse", "HEAD")
    branches = git(in_repo, "branch", "--list")
    status, out, _ = invoke("pr", "--select", RULES, "--dry-run")
    assert status == 0
    assert "(not created: --dry-run)" in out
    assert "4. fix(dockerfile): DF104 apt-install-without-yes" in out
    assert "     services/api/Dockerfile (+1 -1)" in out
    assert snapshot(in_repo) == before
    assert git(in_repo, "rev-parse", "HEAD") == head
    assert git(in_repo, "branch", "--list") == branches


def test_dirty_tree_is_refused(in_repo: Path) -> None:
    (in_repo / "services/web/Dockerfile").write_text("FROM debian:12\nMAINTAINER me\n")
    before = snapshot(in_repo)
    status, out, err = invoke("pr")
    assert status == 2
    assert "uncommitted changes (services/web/Dockerfile)" in err
    assert "commit or stash them first" in err
    assert out == ""
    assert snapshot(in_repo) == before
    assert git(in_repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_staged_change_is_refused_too(in_repo: Path) -> None:
    (in_repo / "new.txt").write_text("x\n")
    git(in_repo, "add", "new.txt")
    status, _, err = invoke("pr")
    assert status == 2 and "uncommitted changes" in err


def test_untracked_files_are_left_alone(in_repo: Path) -> None:
    (in_repo / "scratch").mkdir()
    (in_repo / "scratch/Dockerfile").write_text("FROM debian:12\nMAINTAINER me\n")
    status, _, err = invoke("pr", "--select", "DF003")
    assert status == 0
    assert "scratch/Dockerfile: not tracked by git, left alone" in err
    assert (in_repo / "scratch/Dockerfile").read_text() == "FROM debian:12\nMAINTAINER me\n"


def test_nothing_to_fix_makes_no_branch(in_repo: Path) -> None:
    status, out, err = invoke("pr", "--select", "DF204")
    assert status == 0
    assert out == ""
    assert "nothing to fix" in err
    assert git(in_repo, "branch", "--list").strip() == "* main"


def test_existing_branch_and_bad_name_are_refused(in_repo: Path) -> None:
    git(in_repo, "branch", "dockfix/taken")
    status, _, err = invoke("pr", "--branch", "dockfix/taken")
    assert status == 2 and "already exists" in err
    status, _, err = invoke("pr", "--branch", "bad..name")
    assert status == 2 and "not a valid branch name" in err
    status, _, _ = invoke("pr", "--branch", "fixes/docker", "--select", "DF003")
    assert status == 0
    assert git(in_repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "fixes/docker"


def test_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain/Dockerfile").write_text("FROM a\nMAINTAINER me\n")
    monkeypatch.chdir(tmp_path / "plain")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    status, _, err = invoke("pr")
    assert status == 2
    assert "not inside a git work tree" in err


def test_verify_without_a_builder_says_so(
    in_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockfix.verify import builders

    def unavailable(*_args: object, **_kwargs: object) -> None:
        raise builders.BuilderUnavailable("docker: not found; podman: not found")

    monkeypatch.setattr(builders, "find_builder", unavailable)
    body_file = tmp_path / "body.md"
    status, _, _ = invoke("pr", "--select", "DF003", "--verify", "--body-file", str(body_file))
    assert status == 0
    text = body_file.read_text()
    assert "## Verification (`dockfix verify`)" in text
    assert "Not run: no image builder here (docker: not found; podman: not found)." in text


def test_not_fixed_reasons_are_grouped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        f"svc{i}/Dockerfile": "FROM debian:12\nRUN apt-get install -y curl\n" for i in range(3)
    }
    root = make_repo(tmp_path / "repo", dict(files))
    monkeypatch.chdir(root)
    status, out, _ = invoke("pr", "--select", "DF104,DF106")
    assert status == 0
    assert out == ""  # DF106 is unsafe: nothing to commit without --unsafe-fixes
    status, out, _ = invoke("pr", "--select", "DF104,DF106", "--unsafe-fixes", "--dry-run")
    assert "DF106 apt-no-install-recommends" in out


# -- plans, in memory -----------------------------------------------------------------


def _rewrite(code: str, old: str, new: str) -> Rule:
    """A test rule: ``ENV A=<old>`` becomes ``ENV A=<new>``."""

    def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
        document = context.document
        for instruction in document.instructions:
            if instruction.cmd == "ENV" and instruction.value == ("A", old):
                replacement = document.make_instruction(f"ENV A={new}")
                yield rule.finding(
                    "rewrite", instruction, edits=[Edit(instruction, (replacement,))]
                )

    return Rule(code, f"rewrite-{old}-{new}", f"{old} to {new}", Applicability.SAFE, check)


def test_remaining_step_when_rule_by_rule_ends_elsewhere(tmp_path: Path) -> None:
    """ZZ1 (b -> c) runs before ZZ2 (a -> b) one at a time, so only one-shot reaches c."""
    path = tmp_path / "Dockerfile"
    path.write_text("FROM x\nENV A=a\n")
    profile = Profile((_rewrite("ZZ1", "b", "c"), _rewrite("ZZ2", "a", "b")), Settings())
    plan = make_plan([(path, "Dockerfile", profile)])
    assert [step.rule.code if step.rule else None for step in plan.steps] == ["ZZ2", None]
    remaining = plan.steps[-1]
    assert remaining.changes[0].after == "FROM x\nENV A=c\n" == plan.targets[0].final
    assert (remaining.changes[0].added, remaining.changes[0].removed) == (1, 1)
    message = commit_message(remaining)
    assert message.startswith("fix(dockerfile): remaining dockfix fixes\n\n")
    assert "dockfix --write" in message and "- Dockerfile (+1 -1)" in message
    assert "## Remaining fixes" in body(plan)


def test_remaining_commit_in_a_repository(tmp_path: Path) -> None:
    """The same through git: the last commit makes the tree equal the one-shot result."""
    from dockfix.pr.command import commit_plan

    root = make_repo(tmp_path / "repo", {"Dockerfile": "FROM x\nENV A=a\n"})
    profile = Profile((_rewrite("ZZ1", "b", "c"), _rewrite("ZZ2", "a", "b")), Settings())
    plan = make_plan([(root / "Dockerfile", "Dockerfile", profile)])
    git(root, "checkout", "-q", "-b", "dockfix/test")
    assert len(commit_plan(root, plan)) == 2
    assert subjects(root) == [
        "fix(dockerfile): ZZ2 rewrite-a-b",
        "fix(dockerfile): remaining dockfix fixes",
    ]
    assert (root / "Dockerfile").read_text() == "FROM x\nENV A=c\n"


# -- a real multi-service tree from the corpus, through a real process ----------------


def _corpus_tree() -> dict[str, str | bytes]:
    folder = corpus_files_dir()
    if not folder.is_dir():
        pytest.skip(f"real-world corpus not found at {folder}; this test needs ../shared/corpus")
    files = sorted(p for p in folder.iterdir() if p.is_file())
    picked = files[:: max(1, len(files) // 12)][:12]  # a dozen services, spread over the corpus
    tree: dict[str, str | bytes] = {}
    for number, path in enumerate(picked):
        name = "Containerfile" if number % 4 == 3 else "Dockerfile"
        tree[f"services/svc{number:02d}-{path.stem[:6]}/{name}"] = path.read_bytes()
    return tree


@pytest.mark.corpus
@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_corpus_monorepo_through_a_process(tmp_path: Path, unsafe: bool) -> None:
    root = make_repo(tmp_path / "repo", _corpus_tree())
    options = ["--unsafe-fixes"] if unsafe else []
    expected = write_copy(root, tmp_path / "copy", *options)
    body_file = tmp_path / "body.md"
    command = [sys.executable, "-m", "dockfix", "pr", *options, "--body-file", str(body_file)]
    dry = subprocess.run([*command[:4], "--dry-run", *options], cwd=root, capture_output=True)
    assert dry.returncode == 0, dry.stderr
    assert git(root, "status", "--porcelain") == ""
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(root) == expected, "the branch must end where --write does"
    names = subjects(root)
    assert names, "the corpus sample should need fixes"
    rule_commits = [n for n in names if "remaining" not in n]
    assert len(rule_commits) == len(set(rule_commits)), "one commit per rule"
    assert all(n.startswith("fix(dockerfile): DF") for n in rule_commits)
    assert names[-1] == rule_commits[-1] or names[-1].endswith("remaining dockfix fixes")
    plan = dry.stdout.decode().splitlines()
    assert [line.split(". ", 1)[1] for line in plan if ". fix(" in line] == names
    assert done.stdout.startswith("fix(dockerfile): dockfix fixes (DF")
    text = body_file.read_text()
    assert "| commit | files | added | removed |" in text
    for name in rule_commits:
        assert f"## {name.split(': ', 1)[1]}" in text
    assert git(root, "status", "--porcelain") == ""


def test_failing_commit_hook_is_an_error_naming_the_branch(in_repo: Path) -> None:
    hook = in_repo / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\necho 'hook says no' >&2\nexit 1\n")
    hook.chmod(0o755)
    status, _, err = invoke("pr", "--select", "DF003", "--branch", "dockfix/hooked")
    assert status == 2
    assert "hook says no" in err
    assert "left on branch 'dockfix/hooked'" in err


def test_no_identity_is_refused_before_any_change(
    in_repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    git(in_repo, "config", "--unset", "user.name")
    git(in_repo, "config", "--unset", "user.email")
    git(in_repo, "config", "user.useConfigOnly", "true")
    monkeypatch.setenv("HOME", str(tmp_path))  # no global identity either
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GIT_COMMITTER_EMAIL", raising=False)
    status, _, err = invoke("pr", "--select", "DF003")
    assert status == 2
    assert "user.name and user.email" in err
    assert git(in_repo, "branch", "--list").strip() == "* main"


def test_per_folder_configuration_is_honoured_like_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files: dict[str, str | bytes] = dict(SERVICES)
    # per-file-ignores (unlike `ignore`) still apply under a command-line --select.
    files["services/api/.dockfix.toml"] = '[per-file-ignores]\n"Dockerfile" = ["DF003"]\n'
    root = make_repo(tmp_path / "repo", files)
    expected = write_copy(root, tmp_path / "copy", "--select", RULES)
    monkeypatch.chdir(root)
    status, _, err = invoke("pr", "--select", RULES)
    assert status == 0, err
    assert snapshot(root) == expected
    assert "MAINTAINER team" in (root / "services/api/Dockerfile").read_text()
    assert "MAINTAINER" not in (root / "tools/Containerfile").read_text()


def test_through_a_real_process(repo: Path, tmp_path: Path) -> None:
    expected = write_copy(repo, tmp_path / "copy", "--select", RULES)
    command = [sys.executable, "-m", "dockfix", "pr", "--select", RULES]
    dirty = repo / "services/web/Dockerfile"
    original = dirty.read_text()
    dirty.write_text(original + "# local edit\n")
    refused = subprocess.run(command, cwd=repo, capture_output=True, text=True, check=False)
    assert refused.returncode == 2
    assert refused.stderr.startswith("dockfix pr: error: the work tree has uncommitted changes")
    dirty.write_text(original)
    done = subprocess.run(command, cwd=repo, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("fix(dockerfile): dockfix fixes (DF001, DF002, DF003 +1 more)")
    assert "## DF104 apt-install-without-yes" in done.stdout
    assert subjects(repo) == EXPECTED_SUBJECTS
    assert snapshot(repo) == expected


# -- companion files (DF212's .dockerignore) ------------------------------------------

COPIES_EVERYTHING = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n'
CONTEXT_WITH_SECRETS = {
    "svc/Dockerfile": COPIES_EVERYTHING,
    "svc/app.py": "print('hello')\n",
    "svc/.env": "SECRET=1\n",
    "svc/__pycache__/app.cpython-312.pyc": b"\x00",
}


def test_companion_file_is_committed_like_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DF212's fix changes no Dockerfile line, only ``.dockerignore``: the PR commits that
    file, so the branch ends where ``--unsafe-fixes --write`` ends."""
    repo = make_repo(tmp_path / "repo", dict(CONTEXT_WITH_SECRETS))
    expected = write_copy(repo, tmp_path / "copy", "--unsafe-fixes", "--select", "DF212")
    assert "svc/.dockerignore" in expected
    monkeypatch.chdir(repo)
    body_file = tmp_path / "body.md"
    status, out, err = invoke(
        "pr", "--unsafe-fixes", "--select", "DF212", "--body-file", str(body_file)
    )
    assert status == 0, err
    assert snapshot(repo) == expected
    assert git(repo, "status", "--porcelain") == ""
    assert subjects(repo) == ["fix(dockerfile): DF212 missing-dockerignore"]
    touched = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert touched == ["svc/.dockerignore"]
    assert out.strip().endswith("in 1 file")
    # The finding the companion fixes is not listed as left over.
    assert "## Not fixed" not in body_file.read_text()


def test_one_companion_per_file_when_two_dockerfiles_share_a_context(tmp_path: Path) -> None:
    """Two Dockerfiles of one folder would each append to the same ``.dockerignore`` as
    it is on disk; the plan takes the first edit only (the second would undo it)."""
    for name, content in CONTEXT_WITH_SECRETS.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "svc/Dockerfile.dev").write_text(COPIES_EVERYTHING)
    from dockfix.rules import select_rules

    profile = Profile(select_rules(["DF212"]), Settings(unsafe_fixes=True))
    files = [
        (tmp_path / "svc/Dockerfile", "svc/Dockerfile", profile),
        (tmp_path / "svc/Dockerfile.dev", "svc/Dockerfile.dev", profile),
    ]
    plan = make_plan(files)
    assert list(plan.companions) == ["svc/.dockerignore"]
    paths = [change.path for step in plan.steps for change in step.changes]
    assert paths == ["svc/.dockerignore"]
    assert plan.companions["svc/.dockerignore"].old_text is None
