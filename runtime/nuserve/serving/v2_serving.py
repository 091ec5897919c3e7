"""``mlrun.serving.v2_serving``: the model base class."""

from nuserve.model.v2_model_server import V2ModelServer

__all__ = ["V2ModelServer"]
