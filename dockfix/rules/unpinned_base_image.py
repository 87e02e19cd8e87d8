"""DF302 unpinned-base-image: the final image is built on an untagged or ``latest`` image.

What it does
    Reports ``FROM image`` without a tag, or with ``:latest``, in the final stage and the
    stages it is built on (``FROM builder``...): they are what ships.  Stages that only
    feed ``COPY --from`` (builders) are not reported, nor ``scratch``, references to
    other stages, images pinned by digest (``@sha256:...``), and bases given by a build
    argument whose default is pinned (``ARG BASE=python:3.12-slim``); a build argument
    without a default is not judged.

    With a ``pins`` table in the configuration the fix writes the pinned tag (or digest)::

        [tool.dockfix]
        pins = { python = "3.12-slim", "registry.corp/app" = "2.4@sha256:..." }

    A pin is found by the image's name as written, with or without its registry
    (``docker.io/library/python`` and ``python`` are the same image).  A pin of the form
    ``sha256:...`` replaces the tag with the digest.

Why is this bad?
    ``latest`` is whatever was pushed last: two builds of the same Dockerfile get
    different bases (a new Python, a new distribution release), the build cache hides
    the change until it does not, and a rollback does not roll the base back.

Example
    ``FROM python`` with ``pins = {python = "3.12-slim"}`` becomes
    ``FROM python:3.12-slim``.

Fix safety
    Unsafe: the pinned image may differ from what ``latest`` pulls today.  Without a
    pin for the image, or when the image comes from a build argument, the finding is
    reported with a note; dockfix never invents a version.

References
    practices.md row 12; hadolint DL3006 and DL3007.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.syntax import ImageRef

_HUB_PREFIXES = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")


def normalized(name: str) -> str:
    """An image name without Docker Hub's registry and ``library/`` prefix, lower case."""
    name = name.lower().rstrip("/")
    for prefix in _HUB_PREFIXES:
        if name.startswith(prefix):
            name = name.removeprefix(prefix)
            break
    return name.removeprefix("library/")


def full_name(image: ImageRef) -> str:
    return f"{image.registry}/{image.name}" if image.registry else image.name


def pin_for(image: ImageRef, pins: tuple[tuple[str, str], ...]) -> str | None:
    wanted = normalized(full_name(image))
    for name, pin in pins:
        if normalized(name) == wanted:
            return pin
    return None


def pinned_text(image: ImageRef, pin: str) -> str:
    """The reference with the pin in place of the tag (``name:tag[@digest]``/``name@digest``)."""
    name = full_name(image)
    if pin.startswith("sha256:"):
        return f"{name}@{pin}"
    return f"{name}:{pin}"


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    final = context.model.final
    if final is None:
        return
    document = context.document
    pins = tuple((str(name), str(pin)) for name, pin in context.settings.image_pins)
    for facts in final.lineage:
        if facts.parent is not None:
            continue  # FROM another stage: its own FROM is checked
        stage = facts.stage
        written = stage.image
        image = facts.image
        if image is None or not stage.from_instruction.value:
            continue  # a build argument without a default: not known
        if image.text.lower() == "scratch" or image.digest or "$" in image.text:
            continue
        if image.tag is not None and image.tag != "latest":
            continue
        shown = written.text
        subject = f"`FROM {shown}`"
        if written.has_variables:
            subject += f" (`{image.text}` by default)"
        if image.tag is None:
            message = f"{subject} has no tag: it pulls `latest`, which changes without notice"
        else:
            message = f"{subject} pulls `latest`, which changes without notice"
        message += "; pin a version"
        at = stage.from_instruction
        if written.has_variables:
            yield rule.finding(
                message,
                at,
                note="the image comes from a build argument: pin its default",
            )
            continue
        pin = pin_for(image, pins)
        if pin is None:
            yield rule.finding(
                message,
                at,
                note=(
                    f"no pin for `{normalized(full_name(image))}` in the configuration's "
                    "`pins` table"
                ),
            )
            continue
        words = [piece for piece in at.pieces_of("word") if piece.text == written.text]
        if not words:
            yield rule.finding(message, at, note="the image word could not be found")
            continue
        new_text = pinned_text(image, pin)
        new = document.replace_piece(at, words[0], new_text)
        yield rule.finding(
            message,
            at,
            edits=[Edit(at, (new,))],
            reason=(
                f"the base becomes `{new_text}` (the configuration's pin); it may differ "
                f"from what `{shown}` pulls today"
            ),
        )


RULE = Rule(
    code="DF302",
    name="unpinned-base-image",
    summary="Pin the final image's base to a tag or digest, not `latest`",
    applicability=Applicability.UNSAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"FROM"}),
)
