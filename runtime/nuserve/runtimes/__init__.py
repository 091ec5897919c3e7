"""``mlrun.runtimes``: the Nuclio init hook MLRun's generated handlers call."""

from __future__ import annotations

from typing import Any

from nuserve.runtimes.nuclio.serving import serving_subkind


def nuclio_init_hook(context: Any, data: dict[str, Any], kind: str) -> None:
    """MLRun's hook: read the serving spec from ``SERVING_SPEC_ENV`` and set
    ``context.mlrun_handler`` (the Nuclio handler) on ``context``; ``data`` is the code's
    globals, where the spec's classes are found."""
    from nuserve.nuclio.mlrun_spec import init_from_env  # noqa: PLC0415 - the adapter on demand

    init_from_env(context, data)


__all__ = ["nuclio_init_hook", "serving_subkind"]
