"""Errors in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

The OpenAI clients read ``error.message`` and raise by status (``BadRequestError`` for 400,
``NotFoundError`` for 404, ...). The body also carries nuserve's ``id`` beside ``error``, so a
failure is found in the log by the same request id as any other.
"""

from __future__ import annotations

from typing import Any

from nuserve.errors import NuserveError
from nuserve.event import Response

TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    503: "server_error",
    504: "timeout_error",
}


class OpenAIError(NuserveError):
    """A request refused or failed, with the field (``param``) and the ``code`` to name."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, headers=headers)
        self.status = status
        self.param = param
        self.code = code


def bad_field(param: str, message: str) -> OpenAIError:
    return OpenAIError(message, 400, param, "invalid_value")


def error_body(exc: NuserveError, event_id: str) -> dict[str, Any]:
    param = getattr(exc, "param", None)
    code = getattr(exc, "code", None)
    kind = TYPES.get(exc.status, "server_error" if exc.status >= 500 else "invalid_request_error")
    error = {"message": exc.message, "type": kind, "param": param, "code": code}
    return {"error": error, "id": event_id}


def error_response(exc: NuserveError, event_id: str) -> Response:
    return Response(error_body(exc, event_id), exc.status, dict(exc.headers))
