"""Renderers for what dockfix reports: diffs and other output formats."""
