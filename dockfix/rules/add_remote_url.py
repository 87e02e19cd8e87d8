"""DF304 add-remote-url: ``ADD https://...`` downloads a file without checking it.

What it does
    Reports ``ADD`` instructions whose source is an ``http://`` or ``https://`` URL and
    that have no ``--checksum``, in every stage (a builder that downloads a tampered
    tool ships what the tool builds).  Git sources (``ADD https://host/repo.git#ref``)
    are not reported: a commit pins them.

    With a ``checksums`` table in the configuration the fix adds the checksum::

        [tool.dockfix.checksums]
        "https://example.com/tool-1.2.tar.gz" = "sha256:<64 hex digits>"

    Otherwise the finding's note gives the ``RUN curl ... | sha256sum -c -`` to write
    instead.

Why is this bad?
    Whatever the server returns at build time goes into the image: a compromised or
    changed download is not noticed, and the build is not reproducible.  ``ADD`` of a
    URL also hides the download from the reader, who expects ``ADD`` to copy from the
    build context.

Example
    ``ADD https://example.com/tool.tar.gz /tmp/`` with the URL's checksum in the
    configuration becomes ``ADD --checksum=sha256:... https://example.com/tool.tar.gz
    /tmp/``.

Fix safety
    Unsafe: the build now fails when the download changes (which is the point), and
    ``--checksum`` needs the Dockerfile frontend 1.6 (BuildKit; older buildah and
    podman builds reject the flag).  Fixed only for one URL source without variables,
    with its checksum in the configuration, when the file's syntax directive allows the
    flag (or may get ``# syntax=docker/dockerfile:1``); dockfix never downloads anything
    to compute a checksum.

References
    practices.md row 6; hadolint DL3020 (its ``ADD`` for URLs case); Docker's ``ADD
    --checksum`` reference.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockfix.edits import FixAvailability, FixBuilder
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.syntax import Instruction

#: ``ADD --checksum``: stable in Dockerfile frontend 1.6, in ``1.5-labs`` before.
CHECKSUM_FRONTEND = (1, 6)


def is_remote(source: str) -> bool:
    lower = source.lower()
    if not lower.startswith(("http://", "https://")):
        return False
    path = lower.split("#", 1)[0].split("?", 1)[0]
    return not path.endswith(".git") and "#" not in lower


def template(url: str, destination: str) -> str:
    """The ``RUN curl`` that downloads and checks ``url`` (the hash left to fill in)."""
    target = destination
    if destination.endswith("/") or destination in (".", ""):
        name = posixpath.basename(url.split("?", 1)[0].rstrip("/")) or "download"
        target = posixpath.join(destination or ".", name)
    return f'RUN curl -fsSL {url} -o {target} && echo "<sha256>  {target}" | sha256sum -c -'


def _syntax_refusal(context: RuleContext) -> str:
    syntax = context.model.syntax
    supported = syntax.supports(CHECKSUM_FRONTEND, experimental_from=(1, 5))
    if supported:
        return ""
    if supported is False:
        return f"`# syntax={syntax.frontend}` has no ADD --checksum (docker/dockerfile:1.6)"
    if syntax.present:
        return f"frontend `{syntax.frontend}` is not known to support ADD --checksum"
    if not context.settings.syntax_directive:
        return (
            "ADD --checksum needs `# syntax=docker/dockerfile:1.6` or later, and the "
            "configuration forbids adding the directive (syntax-directive = false)"
        )
    return ""


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    checksums = {str(url): str(value) for url, value in context.settings.checksums}
    for instruction in document.instructions:
        if instruction.cmd != "ADD" or instruction.flag("checksum") is not None:
            continue
        words = list(instruction.value)
        if len(words) < 2:
            continue
        sources, destination = words[:-1], words[-1]
        remote = [source for source in sources if is_remote(source)]
        if not remote:
            continue
        for url in remote:
            message = f"ADD downloads {url} without checking it: pin its checksum"
            fix, note = _fix(context, instruction, sources, url, checksums)
            if fix is None:
                yield rule.finding(message, instruction, note=_note(note, url, destination))
                continue
            yield rule.finding(
                message,
                instruction,
                edits=fix.edits(),
                reason=(
                    "the build now fails if the download changes; --checksum needs "
                    "BuildKit's Dockerfile frontend 1.6 (older buildah/podman reject it)"
                ),
            )


def _note(why: str, url: str, destination: str) -> str:
    why = why or "no checksum for it in the configuration's `checksums` table"
    return f"{why}; or download and check it: `{template(url, destination)}`"


def _fix(
    context: RuleContext,
    instruction: Instruction,
    sources: list[str],
    url: str,
    checksums: dict[str, str],
) -> tuple[FixBuilder | None, str]:
    checksum = checksums.get(url)
    if checksum is None:
        return None, ""
    if len(sources) != 1:
        return None, "--checksum takes one source; the ADD has several"
    if "$" in url:
        return None, "the URL has variables"
    refusal = _syntax_refusal(context)
    if refusal:
        return None, refusal
    document = context.document
    builder = FixBuilder(document).replace(
        instruction, document.add_flag(instruction, f"--checksum={checksum}")
    )
    if not context.model.syntax.present:
        builder.prepend(document.make_directive("syntax", "docker/dockerfile:1"))
    return builder, ""


RULE = Rule(
    code="DF304",
    name="add-remote-url",
    summary="Check downloads: `ADD --checksum=` or `curl` with `sha256sum -c`",
    applicability=Applicability.UNSAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"ADD"}),
)
