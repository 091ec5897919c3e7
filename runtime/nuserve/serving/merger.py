"""``mlrun.serving.merger``: joining branches into a list."""

from nuserve.graph.merger import Merge

__all__ = ["Merge"]
