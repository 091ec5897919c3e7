"""The model: the class users subclass, its operations, input checks, batching and artifacts."""

from nuserve.model.v2_model_server import V2ModelServer

__all__ = ["V2ModelServer"]
