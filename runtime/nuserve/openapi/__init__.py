"""OpenAPI documents generated from the served graph (no I/O here).

    document.py       build_document: the whole document of a frozen graph root
    router_paths.py   a router's paths, as its route table lays them out
    flow_paths.py     a flow's paths
    schemas.py        components.schemas: OIP tensors, MLRun rows, KServe v1, errors
    responses.py      operation objects and the shared error answers
    operation_ids.py  unique operationId values

``nuserve serve`` answers it at ``GET /openapi.json``; ``nuserve openapi function.yaml``
writes it without serving.
"""

from __future__ import annotations

from nuserve.openapi.document import OPENAPI_PATH, build_document, document_json

__all__ = ["OPENAPI_PATH", "build_document", "document_json"]
