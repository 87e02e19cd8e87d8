"""DF018 copy-ignored-file: a ``COPY``/``ADD`` source that ``.dockerignore`` excludes.

What it does
    Reads the build context's ``.dockerignore`` (``<Dockerfile>.dockerignore`` first, as
    BuildKit does) and reports each ``COPY``/``ADD`` source (without ``--from``) and
    each ``RUN --mount=type=bind`` source (without ``from=``) that it excludes: a file or
    folder the patterns exclude, a folder whose every file is excluded, or a wildcard
    whose every match is excluded.  It never rewrites anything.

Why is this bad?
    Excluded files are not sent to the builder: copying one fails the build (a single
    file or folder) or silently copies less than the line says (a wildcard, a folder
    whose files are all excluded).  Either the ``.dockerignore`` or the ``COPY`` is
    wrong, and only a person knows which.

Example
    With a ``.dockerignore`` holding ``tmp/*``, ``COPY ./tmp/helloworld.txt
    /helloworld.txt`` is reported.

Fix safety
    No fix: dropping the COPY changes the image, and re-including the file in
    ``.dockerignore`` may put a secret into the context.  A folder that keeps at least
    one file (``*`` then ``!src/``) is not reported, nor is ``COPY . .`` while any file
    of the context stays in (unlike BuildKit's check, moby/buildkit#6512).  Without a
    build context on disk (stdin) there is nothing to read and nothing is reported; a
    ``.dockerignore`` pattern that cannot be read is reported once, with the pattern.
    Sources with a variable are skipped.

References
    BuildKit's CopyIgnoredFile check
    (https://docs.docker.com/reference/build-checks/copy-ignored-file/).
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.images.install_reads import IgnoreFile
from dockfix.model import BuildContext
from dockfix.rules._context_reads import ContextRead, context_reads, dockerignore_name, ignore_file
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext


def _excluded(read: ContextRead, context: BuildContext, ignore: IgnoreFile) -> bool:
    """Whether nothing of ``read`` reaches the builder (False when unknown)."""
    path = read.path
    if path is None:
        return False
    if read.has_wildcard:
        matches = context.glob(path)
        return bool(matches) and all(ignore.excluded(match) for match in matches or ())
    if context.is_dir(path):
        if path != "." and ignore.excluded(path) and not any(keep for keep, _ in ignore.rules):
            return True  # excluded, and no `!` line can bring a file of it back
        files = context.files_under(path)
        if files is None:
            return False  # too many files to check
        if not files:
            return path != "." and ignore.excluded(path)
        return all(ignore.excluded(name) for name in files)
    if path == ".":
        return False
    return ignore.excluded(path)


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    view = context.model.context
    if not view.present:
        return
    name = context.path.name if context.path is not None else None
    ignore = ignore_file(view, name)
    reads = list(context_reads(context.document))
    if isinstance(ignore, str):
        if reads:
            yield rule.finding(
                "cannot check COPY/ADD sources against .dockerignore",
                reads[0].instruction,
                note=ignore,
            )
        return
    if not ignore.rules:
        return
    where = dockerignore_name(view, name)
    for read in reads:
        if not _excluded(read, view, ignore):
            continue
        keyword = "RUN --mount" if read.instruction.cmd == "RUN" else read.instruction.cmd
        yield rule.finding(
            f"{keyword} source `{read.source}` is excluded by {where}: "
            "the build fails or copies less than it says",
            read.instruction,
            note="change the .dockerignore or the source; which one is right is not known",
        )


RULE = Rule(
    code="DF018",
    name="copy-ignored-file",
    summary="Do not COPY/ADD files that `.dockerignore` excludes",
    applicability=Applicability.DISPLAY_ONLY,
    fix_availability=FixAvailability.NEVER,
    check=check,
    explanation=__doc__ or "",
    severity="error",
    keywords=frozenset({"COPY", "ADD", "RUN"}),
)
