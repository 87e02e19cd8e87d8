"""The one place where the e2e tier asks dockfix for a rewrite.

Everything else in `test_build_fixtures.py` (building, smoke tests, config/file/size/rebuild
comparisons) already works; plugging dockfix in means replacing the body of
`fixed_dockerfile` with a call to it.
"""

from __future__ import annotations

from pathlib import Path


def fixed_dockerfile(app_dir: Path, unsafe: bool) -> str | None:
    """The text dockfix makes of `app_dir / "Dockerfile"`, or None if there is no rewrite yet.

    `app_dir` is a private copy of the fixture app (the build context), so a rewrite may also
    write files there, e.g. a `.dockerignore`. `unsafe` is True for the `--unsafe-fixes` run.
    The returned text is written outside the context and built with `-f`, so the original
    Dockerfile stays in the context and `COPY . .` copies the same files in both builds.

    Returning None makes the after-fix tests skip with a message saying no rewrite is
    available yet.
    """
    del app_dir, unsafe  # not used until dockfix can rewrite
    return None
