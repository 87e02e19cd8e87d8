"""Image knowledge: what well-known base images are and ship (the data table).

What a *stage* has at its end (the base plus what it installs) is a fact of the stage
model: ``dockfix.model.StageFacts.end_traits``.
"""

from __future__ import annotations

from dockfix.images.table import TABLE, Family, ImageRow, ImageTraits, lookup

__all__ = ["TABLE", "Family", "ImageRow", "ImageTraits", "lookup"]
