"""``mlrun.serving.remote``: flow steps calling HTTP endpoints."""

from nuserve.graph.remote_step import BatchHttpRequests, RemoteStep

__all__ = ["BatchHttpRequests", "RemoteStep"]
