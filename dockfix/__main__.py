"""``python -m dockfix``."""

from dockfix.program import run

if __name__ == "__main__":
    run()
