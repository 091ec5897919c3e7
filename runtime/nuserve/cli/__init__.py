"""The ``nuserve`` command (``nuserve.cli:main``)."""

from nuserve.cli.main import main

__all__ = ["main"]
