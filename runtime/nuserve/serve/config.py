"""ServeConfig: what one ``nuserve serve`` worker needs, read from the environment once.

``workers.run`` sets the variables in the supervisor; every worker process (uvicorn spawns
them) reads them back in ``ServeConfig.from_env`` when its app is created.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from nuserve.errors import ConfigError
from nuserve.nuclio import CODE_DIR_ENV, SPEC_PATH_ENV

METRICS_DIR_ENV = "NUSERVE_METRICS_DIR"
LOG_LEVEL_ENV = "NUSERVE_LOG_LEVEL"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
FAILED_PREFIX = "failed-"
"""A worker whose startup failed leaves ``failed-<pid>.txt`` (the reason) in the metrics dir."""


@dataclass(frozen=True)
class ServeConfig:
    """Settings of one worker process."""

    spec_path: str
    """The function.yaml (or JSON serving spec) to serve."""
    metrics_dir: str | None = None
    """Where workers share their metrics snapshots; ``None`` serves this worker's only."""
    log_level: str = "warning"
    """Level of the worker's Nuclio logger (stderr)."""
    code_dir: str | None = None
    """An extra directory searched for the function's code file."""
    snapshot_interval: float = 1.0
    """Seconds between two metrics snapshots written to ``metrics_dir``."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServeConfig:
        env = os.environ if environ is None else environ
        spec_path = env.get(SPEC_PATH_ENV)
        if not spec_path:
            raise ConfigError(
                f"{SPEC_PATH_ENV} is not set; start the server with "
                "nuserve.serve.workers.run('function.yaml') or `nuserve serve function.yaml`"
            )
        level = env.get(LOG_LEVEL_ENV, "warning").lower()
        if level not in LOG_LEVELS:
            raise ConfigError(
                f"{LOG_LEVEL_ENV} must be one of {', '.join(LOG_LEVELS)} (got {level!r})"
            )
        return cls(
            spec_path=spec_path,
            metrics_dir=env.get(METRICS_DIR_ENV) or None,
            log_level=level,
            code_dir=env.get(CODE_DIR_ENV) or None,
        )

    def handler_environ(self) -> dict[str, str]:
        """The environment ``init_context`` reads: this spec file, never an inline spec."""
        environ = {SPEC_PATH_ENV: self.spec_path}
        if self.code_dir:
            environ[CODE_DIR_ENV] = self.code_dir
        return environ
