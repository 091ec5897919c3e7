"""Routers: pick which model(s) answer a request."""
