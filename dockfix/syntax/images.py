"""Image references (``registry/name:tag@digest``) split the way Docker reads them."""

from __future__ import annotations

from dockfix.lazy_dataclass import dataclass


@dataclass(frozen=True)
class ImageRef:
    """A ``FROM`` image reference; ``registry`` is None for Docker Hub's default."""

    text: str
    registry: str | None
    name: str
    tag: str | None
    digest: str | None

    @property
    def repository(self) -> str:
        """The name without Docker Hub's implicit ``library/`` prefix."""
        return self.name.removeprefix("library/")

    @property
    def has_variables(self) -> bool:
        return "$" in self.text


def parse_image_ref(text: str) -> ImageRef:
    """Split ``text``; the first path component is a registry only if it looks like a host
    (has a ``.`` or ``:``, or is ``localhost``), as in the distribution reference grammar."""
    rest, digest = text, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
    registry = None
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, rest = first, remainder
    tag = None
    name, colon, maybe_tag = rest.rpartition(":")
    if colon and "/" not in maybe_tag:
        rest, tag = name, maybe_tag
    return ImageRef(text, registry, rest, tag, digest)
