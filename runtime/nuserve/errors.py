"""The one error tree of nuserve; every error carries the HTTP status it answers with.

    NuserveError (500)
    ├── BadRequest (400)            bad body, shape, datatype, parameters
    ├── NotFound (404)              unknown model, version, operation or path
    ├── MethodNotAllowed (405)      a known path asked with the wrong method
    ├── PayloadTooLarge (413)       a body over the configured limit
    ├── NotReady (503, retriable)   a model still loading, or whose load failed
    ├── ModelError (500)            an exception raised by user code (hooks, ops)
    ├── BadGateway (502, retriable) a remote model could not be reached or answered nonsense
    ├── RemoteTimeout (504, retriable) a remote model did not answer in time
    ├── RequestTimeout (504)        the request overran ``request_timeout``
    └── ConfigError (500)           a serving spec that cannot be built (bad class, path)

MLRun's names, for code that catches them (each also subclasses ``MLRunBaseError (500)``):
``MLRunInvalidArgumentError (500)`` is a ConfigError, ``MLRunRuntimeError (500)`` a
ModelError, ``MLRunNotFoundError (404)`` a NotFound, ``MLRunBadRequestError (400)`` a
BadRequest, ``MLRunTimeoutError (504)`` a RemoteTimeout and
``MLRunServiceUnavailableError (503)`` a NotReady.

The message is what the client reads in ``{"error": ..., "id": ...}``: it names the bad
value, what was expected and, where there is one, the fix. Tracebacks go to the log only.
"""

from __future__ import annotations


class NuserveError(Exception):
    """Base of every nuserve error; ``status`` is the HTTP status it maps to."""

    status: int = 500
    retriable: bool = False

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = headers or {}


class BadRequest(NuserveError):
    """The request body, its shape or its datatype is wrong (400)."""

    status = 400


class NotFound(NuserveError):
    """No model, version, operation or route matches the request (404)."""

    status = 404


class MethodNotAllowed(NuserveError):
    """The path exists but does not accept this HTTP method (405)."""

    status = 405


class PayloadTooLarge(NuserveError):
    """The body is larger than the server accepts (413)."""

    status = 413


class NotReady(NuserveError):
    """A model is loading or failed to load (503); clients may retry after ``Retry-After``."""

    status = 503
    retriable = True

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class ModelError(NuserveError):
    """User code (a model hook or an operation) raised; the cause is chained (500)."""

    status = 500


class BadGateway(NuserveError):
    """A remote model could not be reached, or answered something that is not its API (502)."""

    status = 502
    retriable = True


class RemoteTimeout(NuserveError):
    """A remote model did not answer within its timeout (504)."""

    status = 504
    retriable = True


class RequestTimeout(NuserveError):
    """The request overran the serving spec's ``request_timeout`` (504); not retriable: the
    same input may hang the model again."""

    status = 504


class ConfigError(NuserveError):
    """The serving spec cannot be built: a class that cannot be found, a bad argument."""

    status = 500


# ----- MLRun's error names, for code that catches them ----------------------------------------
# Each is one of nuserve's errors under the name MLRun gives it (``mlrun.errors``), so
# ``except mlrun.errors.MLRunInvalidArgumentError`` catches what nuserve raises for it.


class MLRunBaseError(NuserveError):
    """MLRun's base error name."""


class MLRunInvalidArgumentError(ConfigError, MLRunBaseError):
    """A bad argument to a builder call (MLRun's name for it; a ``ConfigError``)."""


class MLRunRuntimeError(ModelError, MLRunBaseError):
    """A failure while running (MLRun's name; a ``ModelError``)."""


class MLRunNotFoundError(NotFound, MLRunBaseError):
    """Something named does not exist (MLRun's name; a ``NotFound``, 404)."""


class MLRunBadRequestError(BadRequest, MLRunBaseError):
    """A bad request (MLRun's name; a ``BadRequest``, 400)."""


class MLRunTimeoutError(RemoteTimeout, MLRunBaseError):
    """A call took too long (MLRun's name; a ``RemoteTimeout``, 504)."""


class MLRunServiceUnavailableError(NotReady, MLRunBaseError):
    """Not ready yet (MLRun's name; a ``NotReady``, 503)."""
