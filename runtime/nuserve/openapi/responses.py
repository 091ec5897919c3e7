"""Operation pieces: JSON bodies, and the error answers every path shares.

Every error nuserve sends is ``{"error": "...", "id": "..."}`` with the status of the error
class that raised it (``nuserve.errors``); the statuses are defined once here, in
``components.responses``, and operations refer to them by status.
"""

from __future__ import annotations

from typing import Any

from nuserve.openapi.schemas import Schema, ref

Operation = dict[str, Any]
"""An OpenAPI operation object (``paths.<path>.<method>``)."""

ERRORS: dict[int, str] = {
    400: "Bad request: a body that is not JSON, or not the shape, width or datatype the "
    "model takes",
    404: "Not found: no model, version or operation of that name",
    401: "Unauthorized: the server wants `Authorization: Bearer <token>`",
    405: "Method not allowed: the path exists, with another method",
    408: "Request timeout: the body did not arrive in time (nuserve serve's body_timeout)",
    413: "Payload too large: a body over max_body_size",
    500: "Internal error: the model's code raised (the traceback is in the server's log)",
    502: "Bad gateway: the remote model could not be reached, or answered nonsense",
    503: "Not ready: the model is loading, or failed to load (see Retry-After)",
    504: "Gateway timeout: a remote model, or the whole request (the serving spec's "
    "request_timeout), did not answer in time",
}
"""The error statuses nuserve answers, as ``nuserve.errors`` maps them."""

INFER_ERRORS = (400, 413, 500, 503)
REMOTE_ERRORS = (502, 504)


def json_content(schema: Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def ok(schema: Schema, description: str = "OK") -> dict[str, Any]:
    """A 200 answer with a JSON body."""
    return {"description": description, "content": json_content(schema)}


def error_responses() -> dict[str, Any]:
    """``components.responses``: one entry per error status, all with the error body."""
    responses: dict[str, Any] = {}
    for status, description in ERRORS.items():
        response: dict[str, Any] = {
            "description": description,
            "content": json_content(ref("error")),
        }
        if status == 503:
            response["headers"] = {
                "Retry-After": {
                    "description": "seconds to wait before asking again",
                    "schema": {"type": "integer"},
                }
            }
        responses[str(status)] = response
    return responses


def with_errors(
    responses: dict[str, Any], statuses: tuple[int, ...], *, default: bool = False
) -> dict[str, Any]:
    """``responses`` plus a reference to each error status; ``default`` adds the error body
    for any other status (a flow step's error keeps the status it was raised with)."""
    out = dict(responses)
    for status in sorted(set(statuses)):
        out[str(status)] = {"$ref": f"#/components/responses/{status}"}
    if default:
        out["default"] = {
            "description": "Any other error, with the status of the error raised",
            "content": json_content(ref("error")),
        }
    return out


def operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    tag: str | None = None,
    body: Schema | None = None,
    body_required: bool = True,
    description: str | None = None,
) -> Operation:
    """One operation object; keys in the order the OpenAPI specification lists them."""
    op: Operation = {"summary": summary}
    if tag is not None:
        op["tags"] = [tag]
    if description is not None:
        op["description"] = description
    op["operationId"] = operation_id
    if body is not None:
        op["requestBody"] = {"required": body_required, "content": json_content(body)}
    op["responses"] = responses
    return op
