"""The server: GraphServer (the one entry every adapter calls), lanes, the mock server."""

from nuserve.server.graph_server import GraphServer
from nuserve.server.mock import MockServer

__all__ = ["GraphServer", "MockServer"]
