"""``nuserve serve``: the local runtime, the same handler as under Nuclio behind uvicorn.

``app`` is a raw ASGI app that turns each HTTP request into a real ``nuclio_sdk.Event`` and
calls ``nuserve.nuclio.adapter.handler_async``; ``kafka`` feeds kafka-cluster triggers through
the same handler; ``metrics`` keeps per-worker counters; ``workers.run`` starts uvicorn with
N workers.
This package imports no web server: uvicorn is imported by ``workers.run`` only.
"""
