"""``mlrun.utils``: the logger MLRun code imports."""

import logging

logger = logging.getLogger("nuserve")

__all__ = ["logger"]
