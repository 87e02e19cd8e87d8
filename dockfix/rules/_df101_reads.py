"""Moved to ``dockfix.images.install_reads``: this re-export keeps old imports working."""

from dockfix.images.install_reads import IgnoreFile, ReadsSource, Scope, Unprovable, reads_of

__all__ = ["IgnoreFile", "ReadsSource", "Scope", "Unprovable", "reads_of"]
