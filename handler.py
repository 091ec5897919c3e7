"""What Nuclio loads (``spec.handler: handler:handler``): nuserve's Nuclio adapter."""

from nuserve.nuclio.adapter import handler, handler_async, init_context

__all__ = ["handler", "handler_async", "init_context"]
