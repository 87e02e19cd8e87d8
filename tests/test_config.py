"""Configuration: ``[tool.dockfix]``, ``.dockfix.toml``, ``dockfix.toml``, found like ruff's.

Driven through the command line (click's runner and a real process), because what counts
is what a team sees: the nearest configuration decides each file's rules, ``extend``
inherits, globs select files, and every mistake is ``path: key: message`` with exit 2.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dockfix.cli import PARALLEL_THRESHOLD, main
from dockfix.config import ConfigError, load_config
from dockfix.globs import matches_path
from dockfix.images.table import canonical_image, lookup
from dockfix.profiles import Overrides, Resolver

#: DF001 on line 3, DF002 on line 1, DF003 on line 2: all safe fixes.
SAMPLE = "FROM a as b\nMAINTAINER me\nENV A b c\n"


def write(root: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    return result


def found(result: Result) -> dict[str, list[str]]:
    """Finding codes per file, from the text report."""
    codes: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        where, code = line.split(" ")[:2]
        codes.setdefault(where.split(":")[0], []).append(code)
    return {path: sorted(values) for path, values in codes.items()}


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- finding the configuration -------------------------------------------------------------


def test_nearest_configuration_wins(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.dockfix]\nselect = ["DF002"]\n',
            "Dockerfile": SAMPLE,
            "svc/.dockfix.toml": 'select = ["DF001"]\n',
            "svc/api/Dockerfile": SAMPLE,
            "other/Dockerfile": SAMPLE,
        },
    )
    result = invoke(".")
    assert found(result) == {
        "Dockerfile": ["DF002"],
        "other/Dockerfile": ["DF002"],
        "svc/api/Dockerfile": ["DF001"],
    }


def test_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "dockfix.toml": 'select = ["DF003"]\n',
            "svc/pyproject.toml": '[project]\nname = "svc"\n',
            "svc/Dockerfile": SAMPLE,
        },
    )
    assert found(invoke(".")) == {"svc/Dockerfile": ["DF003"]}


def test_precedence_within_one_folder(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".dockfix.toml": 'select = ["DF001"]\n',
            "dockfix.toml": 'select = ["DF002"]\n',
            "pyproject.toml": '[tool.dockfix]\nselect = ["DF003"]\n',
            "Dockerfile": SAMPLE,
        },
    )
    assert found(invoke(".")) == {"Dockerfile": ["DF001"]}
    (tmp_path / ".dockfix.toml").unlink()
    assert found(invoke(".")) == {"Dockerfile": ["DF002"]}
    (tmp_path / "dockfix.toml").unlink()
    assert found(invoke(".")) == {"Dockerfile": ["DF003"]}


def test_extend_inherits_and_overrides(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base/dockfix.toml": (
                'select = ["DF00"]\nper-file-ignores = { "legacy/*" = ["DF003"] }\n'
            ),
            "svc/.dockfix.toml": 'extend = "../base/dockfix.toml"\nignore = ["DF001"]\n',
            "svc/Dockerfile": SAMPLE,
            "svc/legacy/Dockerfile": SAMPLE,
        },
    )
    # The base's per-file-ignores are relative to the base's folder: "legacy/*" there
    # means base/legacy, so svc/legacy keeps DF003.
    assert found(invoke("svc")) == {
        "svc/Dockerfile": ["DF002", "DF003"],
        "svc/legacy/Dockerfile": ["DF002", "DF003"],
    }
    write(tmp_path, {"svc/.dockfix.toml": 'extend = "../base/dockfix.toml"\nselect = ["DF001"]\n'})
    assert found(invoke("svc")) == {
        "svc/Dockerfile": ["DF001"],
        "svc/legacy/Dockerfile": ["DF001"],
    }


def test_extend_select_adds_to_the_inherited_selection(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base.toml": 'select = ["DF001"]\n',
            ".dockfix.toml": 'extend = "base.toml"\nextend-select = ["DF003"]\n',
            "Dockerfile": SAMPLE,
        },
    )
    assert found(invoke(".")) == {"Dockerfile": ["DF001", "DF003"]}


def test_circular_extend_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"a.toml": 'extend = "b.toml"\n', "b.toml": 'extend = "a.toml"\n'})
    write(tmp_path, {".dockfix.toml": 'extend = "a.toml"\n', "Dockerfile": SAMPLE})
    result = invoke(".")
    assert result.exit_code == 2
    assert "extend: circular extend" in result.stderr


def test_per_file_ignores(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".dockfix.toml": (
                'select = ["DF00"]\n[per-file-ignores]\n'
                '"legacy/**" = ["DF001", "from-as-casing"]\n"Dockerfile.dev" = ["DF003"]\n'
            ),
            "Dockerfile": SAMPLE,
            "Dockerfile.dev": SAMPLE,
            "legacy/a/b/Dockerfile": SAMPLE,
            "app/Dockerfile.dev": SAMPLE,
        },
    )
    assert found(invoke(".")) == {
        "Dockerfile": ["DF001", "DF002", "DF003"],
        "Dockerfile.dev": ["DF001", "DF002"],
        "app/Dockerfile.dev": ["DF001", "DF002"],
        "legacy/a/b/Dockerfile": ["DF003"],
    }


def test_exclude_and_extend_exclude(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".dockfix.toml": (
                'select = ["DF002"]\nexclude = ["vendor"]\nextend-exclude = ["svc/old/**"]\n'
            ),
            "vendor/x/Dockerfile": SAMPLE,
            "svc/vendor/Dockerfile": SAMPLE,
            "svc/old/a/Dockerfile": SAMPLE,
            "svc/new/Dockerfile": SAMPLE,
        },
    )
    assert found(invoke(".")) == {"svc/new/Dockerfile": ["DF002"]}
    # A file named on the command line is always checked (the user asked for it).
    assert found(invoke("vendor/x/Dockerfile")) == {"vendor/x/Dockerfile": ["DF002"]}


def test_include_adds_file_name_patterns(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".dockfix.toml": 'select = ["DF002"]\ninclude = ["*.docker", "images/*.df"]\n',
            "api.docker": SAMPLE,
            "images/web.df": SAMPLE,
            "other/web.df": SAMPLE,
            "README.md": "# hi\n",
        },
    )
    assert found(invoke(".")) == {"api.docker": ["DF002"], "images/web.df": ["DF002"]}


def test_settings_come_from_the_configuration(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".dockfix.toml": (
                'unsafe-fixes = true\ncache-strategy = "no-cache"\nsplit-strategy = "venv"\n'
                'user-name = "svc"\nuser-uid = 20000\nsyntax-directive = false\n'
                '[image-aliases]\n"registry.corp/python" = "python"\n'
                '"Mirror.gcr.io/library/python" = "python"\n'
            ),
        },
    )
    settings = Resolver(Overrides()).profile_for(tmp_path / "Dockerfile").settings
    assert settings.unsafe_fixes is True
    assert (settings.cache_strategy, settings.split_strategy) == ("no-cache", "venv")
    assert (settings.user_name, settings.user_uid, settings.syntax_directive) == (
        "svc",
        20000,
        False,
    )
    assert settings.image_aliases == (
        ("registry.corp/python", "python"),
        ("mirror.gcr.io/library/python", "python"),
    )
    cli = Overrides(cache_strategy="mount", split_strategy="wheels")
    overridden = Resolver(cli).profile_for(tmp_path / "Dockerfile").settings
    assert (overridden.cache_strategy, overridden.split_strategy) == ("mount", "wheels")
    assert Resolver(Overrides(), isolated=True).profile_for(tmp_path / "x").settings.user_uid == (
        10001
    )


def test_unsafe_fixes_from_the_configuration_apply(tmp_path: Path) -> None:
    text = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
    write(tmp_path, {"Dockerfile": text, ".dockfix.toml": 'select = ["DF106"]\n'})
    assert invoke("--diff", ".").stdout == ""
    assert invoke(".").stderr.endswith("1 more fix with --unsafe-fixes.\n")
    write(tmp_path, {".dockfix.toml": 'select = ["DF106"]\nunsafe-fixes = true\n'})
    assert "--no-install-recommends" in invoke("--diff", ".").stdout
    assert invoke(".").stderr == "1 file checked, 1 finding, 1 file fixable with --write.\n"
    written = invoke("--write", ".")
    assert (written.exit_code, written.stdout) == (0, "")  # fixed: nothing left to report
    # The unsafe fix the configuration turned on says what it may have changed.
    assert written.stderr.startswith("Dockerfile:2:31: DF106 unsafe fix applied: ")
    assert written.stderr.endswith("ca-certificates\n1 file checked, 1 fix applied in 1 file.\n")


def test_command_line_select_replaces_and_ignore_adds(tmp_path: Path) -> None:
    write(tmp_path, {".dockfix.toml": 'select = ["DF001", "DF002"]\n', "Dockerfile": SAMPLE})
    assert found(invoke("--select", "DF003", ".")) == {"Dockerfile": ["DF003"]}
    assert found(invoke("--ignore", "DF001", ".")) == {"Dockerfile": ["DF002"]}
    write(tmp_path, {".dockfix.toml": 'ignore = ["DF003"]\nper-file-ignores = { x = ["DF001"] }\n'})
    assert found(invoke("--select", "DF003", ".")) == {"Dockerfile": ["DF003"]}
    (tmp_path / "x").mkdir()
    (tmp_path / "x/Dockerfile").write_text(SAMPLE)
    assert found(invoke("--select", "DF001,DF003", "x")) == {"x/Dockerfile": ["DF003"]}


def test_isolated_and_explicit_config(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".dockfix.toml": "this is = not toml [\n",
            "svc/.dockfix.toml": 'select = ["DF001"]\n',
            "svc/Dockerfile": SAMPLE,
            "ci/strict.toml": 'select = ["DF003"]\n',
        },
    )
    isolated = invoke("--isolated", "--select", "DF00", "svc")
    assert isolated.exit_code == 1
    assert found(isolated) == {"svc/Dockerfile": ["DF001", "DF002", "DF003"]}
    explicit = invoke("--config", "ci/strict.toml", ".")
    assert found(explicit) == {"svc/Dockerfile": ["DF003"]}
    missing = invoke("--config", "ci/nope.toml", ".")
    assert missing.exit_code == 2
    assert "ci/nope.toml: file not found" in missing.stderr


# --- mistakes ------------------------------------------------------------------------------

BAD_CONFIGS = [
    ('selec = ["DF001"]\n', "selec: unknown key (did you mean 'select'?)"),
    ('select = "DF001"\n', "select: expected a list of strings, got a string"),
    ('ignore = ["DF999"]\n', "ignore: unknown rule selector 'DF999'"),
    ("unsafe-fixes = 1\n", "unsafe-fixes: expected true or false, got an integer"),
    ('cache-strategy = "tmpfs"\n', "cache-strategy: expected 'mount' or 'no-cache', got 'tmpfs'"),
    ("split-strategy = 3\n", "split-strategy: expected 'wheels' or 'venv', got 3"),
    ("user-uid = 0\n", "user-uid: expected a uid from 1 to 2147483647, got 0"),
    ("user-uid = true\n", "user-uid: expected a uid from 1 to 2147483647, got True"),
    ('user-name = "root"\n', "user-name: expected a user name like 'app' (not root), got 'root'"),
    ('syntax-directive = "no"\n', "syntax-directive: expected true or false, got a string"),
    ('per-file-ignores = ["x"]\n', "per-file-ignores: expected a table of glob = [codes]"),
    ('per-file-ignores = { "a/*" = ["nope"] }\n', "per-file-ignores.a/*: unknown rule"),
    ("image-aliases = { x = 1 }\n", "image-aliases.x: expected an image name, got an integer"),
    ('image-aliases = { "a b" = "python" }\n', "image-aliases.a b: not an image name: 'a b'"),
    ('exclude = [""]\n', "exclude: empty pattern"),
    ('pins = { python = "latest" }\n', "pins.python: expected a tag ('3.12-slim')"),
    ('pins = { "python:3" = "3.12" }\n', "pins.python:3: not an image name without a tag"),
    ("pins = { python = 3 }\n", "pins.python: expected a tag"),
    ('checksums = { "ftp://x/a" = "sha256:00" }\n', "checksums.ftp://x/a: expected an http(s) URL"),
    ('checksums = { "https://x/a" = "md5:1" }\n', "checksums.https://x/a: expected 'sha256:"),
    ('extend = "missing.toml"\n', "extend: file not found: missing.toml"),
    ("select = [\n", "invalid TOML"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CONFIGS)
def test_bad_configuration_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, {"svc/.dockfix.toml": text, "svc/Dockerfile": SAMPLE})
    result = invoke(".")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {os.path.join('svc', '.dockfix.toml')}: ")
    assert message in result.stderr
    assert result.stdout == ""


def test_bad_pyproject_table_key_is_prefixed(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.dockfix]\nbogus = 1\n", "Dockerfile": SAMPLE})
    result = invoke(".")
    assert result.exit_code == 2
    assert "error: pyproject.toml: tool.dockfix.bogus: unknown key" in result.stderr


def test_load_config_raises_config_error(tmp_path: Path) -> None:
    write(tmp_path, {"c.toml": "zzz = 1\n"})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "c.toml")
    assert (caught.value.key, caught.value.message) == ("zzz", "unknown key")


# --- pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "entry", "expected"),
    [
        ("vendor", "a/vendor/Dockerfile", False, True),
        ("vendor", "a/vendor/Dockerfile", True, False),
        ("vendor", "a/vendor", True, True),
        ("*.docker", "a/b/x.docker", False, True),
        ("svc/*", "svc/a/Dockerfile", False, False),
        ("svc/*", "svc/a", True, True),
        ("svc/**", "svc/a/b/Dockerfile", False, True),
        ("**/legacy/*", "x/legacy/Dockerfile", False, True),
        ("**/legacy/*", "legacy/Dockerfile", False, True),
        ("Dockerfile.[dp]*", "x/Dockerfile.prod", False, True),
        ("Dockerfile.[!dp]*", "x/Dockerfile.prod", False, False),
        ("./svc/a", "svc/a", True, True),
    ],
)
def test_globs(pattern: str, path: str, entry: bool, expected: bool) -> None:
    assert matches_path(pattern, path, entry=entry) is expected


def test_an_excluded_folder_named_on_the_command_line_is_searched(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".dockfix.toml": 'select = ["DF002"]\nexclude = ["vendor"]\n',
            "vendor/x/Dockerfile": SAMPLE,
            "app/Dockerfile": SAMPLE,
        },
    )
    assert found(invoke(".")) == {"app/Dockerfile": ["DF002"]}
    assert found(invoke("vendor")) == {"vendor/x/Dockerfile": ["DF002"]}


def test_image_aliases_map_to_known_images() -> None:
    aliases = (("registry.corp/python", "python"), ("mirror.gcr.io", "docker.io"))
    assert canonical_image("registry.corp/python", aliases) == "python"
    assert canonical_image("Mirror.gcr.io/library/python", aliases) == "docker.io/library/python"
    assert canonical_image("registry.corp/python-extra", aliases) == "registry.corp/python-extra"
    assert lookup("registry.corp/python", "3.12-slim") is None
    assert lookup("registry.corp/python", "3.12-slim", aliases) == lookup("python", "3.12-slim")
    assert lookup("mirror.gcr.io/library/python", "3.12", aliases) == lookup("python", "3.12")


def test_profiles_pickle_and_are_shared(tmp_path: Path) -> None:
    write(tmp_path, {".dockfix.toml": 'select = ["DF001"]\n'})
    resolver = Resolver(Overrides())
    first = resolver.profile_for(tmp_path / "a" / "Dockerfile")
    assert resolver.profile_for(tmp_path / "b" / "Dockerfile") is first
    data = pickle.dumps(first)
    assert pickle.loads(data) == first
    # Registered rules travel to worker processes as their codes, not their documentation.
    assert len(data) < 2000
    assert all(a is b for a, b in zip(pickle.loads(data).rules, first.rules, strict=True))


# --- a real process ------------------------------------------------------------------------


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "dockfix", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def test_subprocess_nearest_config_bad_key_isolated_and_config(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.dockfix]\nselect = ["DF002"]\n',
            "Dockerfile": SAMPLE,
            "svc/dockfix.toml": 'select = ["DF001"]\n',
            "svc/Dockerfile": SAMPLE,
        },
    )
    result = run(".", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "Dockerfile:1:8: DF002 'as' and 'FROM' keywords' casing do not match",
        'svc/Dockerfile:3:5: DF001 "ENV key=value" should be used instead of legacy "ENV key'
        ' value" format',
    ]
    write(tmp_path, {"svc/dockfix.toml": 'selct = ["DF001"]\n'})
    bad = run(".", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr == (
        f"error: {os.path.join('svc', 'dockfix.toml')}: selct: unknown key"
        " (did you mean 'select'?)\n"
    )
    isolated = run("--isolated", "--select", "DF003", ".", cwd=tmp_path)
    assert isolated.returncode == 1
    assert len(isolated.stdout.splitlines()) == 2
    explicit = run("--config", "pyproject.toml", ".", cwd=tmp_path)
    assert explicit.returncode == 1
    assert [line.split()[1] for line in explicit.stdout.splitlines()] == ["DF002", "DF002"]


def test_subprocess_worker_processes_use_each_files_config(tmp_path: Path) -> None:
    """Over PARALLEL_THRESHOLD files the work goes to worker processes: per-file profiles."""
    count = PARALLEL_THRESHOLD // 2 + 1
    files = {f"a/{i}/Dockerfile": SAMPLE for i in range(count)}
    files.update({f"b/{i}/Dockerfile": SAMPLE for i in range(count)})
    files["a/.dockfix.toml"] = 'select = ["DF001"]\n'
    files["b/.dockfix.toml"] = 'select = ["DF002"]\nper-file-ignores = { "0/*" = ["DF002"] }\n'
    write(tmp_path, files)
    result = run(".", cwd=tmp_path)
    assert result.returncode == 1
    codes: dict[str, set[str]] = {}
    for line in result.stdout.splitlines():
        codes.setdefault(line.split("/")[0], set()).add(line.split()[1])
    assert codes == {"a": {"DF001"}, "b": {"DF002"}}
    assert sum(line.startswith("b/0/") for line in result.stdout.splitlines()) == 0
    assert f"{2 * count} files checked" in result.stderr


def test_verify_uses_the_files_configuration_and_reports_a_bad_one(tmp_path: Path) -> None:
    write(tmp_path, {"svc/.dockfix.toml": "user-uid = -1\n", "svc/Dockerfile": SAMPLE})
    result = CliRunner().invoke(main, ["verify", "svc/Dockerfile"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {os.path.join('svc', '.dockfix.toml')}: user-uid: expected a uid from 1 to"
        " 2147483647, got -1\n"
    )


def test_a_broken_pyproject_of_another_tool_is_not_our_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".dockfix.toml": 'select = ["DF002"]\n',
            "svc/pyproject.toml": "[project\nname = 'broken'\n",
            "svc/Dockerfile": SAMPLE,
        },
    )
    assert found(invoke(".")) == {"svc/Dockerfile": ["DF002"]}
    write(tmp_path, {"svc/pyproject.toml": "[tool.dockfix\n"})
    result = invoke(".")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {os.path.join('svc', 'pyproject.toml')}: invalid TOML")


def test_subprocess_extend_exclude_include(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base.toml": 'select = ["DF002"]\ninclude = ["*.docker"]\n',
            "repo/.dockfix.toml": 'extend = "../base.toml"\nextend-exclude = ["generated"]\n',
            "repo/a/api.docker": SAMPLE,
            "repo/a/generated/Dockerfile": SAMPLE,
            "repo/a/Dockerfile": SAMPLE,
        },
    )
    result = run("repo", cwd=tmp_path)
    assert result.returncode == 1
    assert sorted(line.split(":")[0] for line in result.stdout.splitlines()) == [
        "repo/a/Dockerfile",
        "repo/a/api.docker",
    ]
    assert {line.split()[1] for line in result.stdout.splitlines()} == {"DF002"}


def test_pins_and_checksums_reach_the_settings(tmp_path: Path) -> None:
    digest = "sha256:" + "ab" * 32
    write(
        tmp_path,
        {
            "base.toml": (
                '[pins]\npython = "3.11-slim"\nnode = "20"\n'
                f'[checksums]\n"https://x.org/a" = "{digest}"\n'
            ),
            "pyproject.toml": (
                '[tool.dockfix]\nextend = "base.toml"\n'
                f'[tool.dockfix.pins]\npython = "3.12-slim@{digest}"\n'
                f'"Registry.corp/app" = "{digest}"\n'
            ),
        },
    )
    settings = Resolver(Overrides()).profile_for(tmp_path / "Dockerfile").settings
    assert dict(settings.image_pins) == {
        "python": f"3.12-slim@{digest}",
        "node": "20",
        "registry.corp/app": digest,
    }
    assert settings.checksums == (("https://x.org/a", digest),)
    assert (
        Resolver(Overrides(), isolated=True).profile_for(tmp_path / "x").settings.image_pins == ()
    )


def test_healthcheck_path_from_the_configuration(tmp_path: Path) -> None:
    """DF210's probe path: `healthcheck-path`, default `/`, checked, inherited by `extend`."""
    write(
        tmp_path,
        {
            "base.toml": 'healthcheck-path = "/healthz"\n',
            "svc/.dockfix.toml": 'extend = "../base.toml"\nselect = ["DF210"]\n',
            "svc/Dockerfile": 'FROM python:3.11\nCMD ["gunicorn", "app:app"]\n',
            "bad/.dockfix.toml": 'healthcheck-path = "health check"\n',
            "bad/Dockerfile": SAMPLE,
        },
    )
    resolver = Resolver(Overrides())
    assert resolver.profile_for(tmp_path / "svc" / "Dockerfile").settings.healthcheck_path == (
        "/healthz"
    )
    assert resolver.profile_for(tmp_path / "Dockerfile").settings.healthcheck_path == "/"
    with pytest.raises(ConfigError, match="healthcheck-path: expected a URL path"):
        load_config(tmp_path / "bad" / ".dockfix.toml")
    profile = resolver.profile_for(tmp_path / "svc" / "Dockerfile")
    assert [rule.code for rule in profile.rules] == ["DF210"]


# --- configuration that cannot be read: an error, never the defaults -----------------------


def test_config_not_utf8_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": SAMPLE})
    (tmp_path / "pyproject.toml").write_bytes(b'\xff\xfe[tool.dockfix]\nexclude = ["Dockerfile"]\n')
    result = invoke("--write", ".")
    assert result.exit_code == 2
    assert "pyproject.toml" in result.output and "not UTF-8" in result.output
    assert (tmp_path / "Dockerfile").read_text() == SAMPLE


def test_a_dangling_config_link_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": SAMPLE})
    (tmp_path / ".dockfix.toml").symlink_to(tmp_path / "gone.toml")
    result = invoke("--write", ".")
    assert result.exit_code == 2
    assert "a symbolic link to nothing" in result.output
    assert (tmp_path / "Dockerfile").read_text() == SAMPLE


def test_an_unreadable_pyproject_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It may exclude the file (root reads any file, so the refusal is simulated).
    write(tmp_path, {"Dockerfile": SAMPLE, "pyproject.toml": '[tool.dockfix]\nexclude = ["*"]\n'})
    real = Path.read_bytes

    def refuse(path: Path) -> bytes:
        if path.name == "pyproject.toml":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    result = invoke("--write", ".")
    assert result.exit_code == 2
    assert "cannot read: Permission denied" in result.output
    assert (tmp_path / "Dockerfile").read_text() == SAMPLE
