"""The serving spec in a Nuclio function's environment: ``NUSERVE_SPEC`` (JSON, or ``gz:`` +
base64 of gzipped JSON when large) or a file named by ``NUSERVE_SPEC_PATH``.

Writing a function.yaml needs only this, not the adapter that serves it.
"""

from __future__ import annotations

import base64
import gzip
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from nuserve.errors import ConfigError
from nuserve.spec.serving import ServingSpec

SPEC_ENV = "NUSERVE_SPEC"
MLRUN_SPEC_ENV = "SERVING_SPEC_ENV"
SPEC_PATH_ENV = "NUSERVE_SPEC_PATH"
CODE_DIR_ENV = "NUSERVE_CODE_DIR"
GZIP_PREFIX = "gz:"


def encode_spec(spec: dict[str, Any], limit: int = 32 * 1024) -> str:
    """The spec as env text: JSON, or gzip+base64 with a ``gz:`` prefix when over ``limit``."""
    text = orjson.dumps(spec).decode()
    if len(text) <= limit:
        return text
    return GZIP_PREFIX + base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()


def decode_spec(text: str) -> dict[str, Any]:
    """Inverse of ``encode_spec``."""
    try:
        if text.startswith(GZIP_PREFIX):
            text = gzip.decompress(base64.b64decode(text[len(GZIP_PREFIX) :])).decode()
        data = orjson.loads(text)
    except (ValueError, OSError) as exc:
        raise ConfigError(f"{SPEC_ENV} is not a valid serving spec: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{SPEC_ENV} must hold a JSON object (got {type(data).__name__})")
    return data


def read_spec(environ: Mapping[str, str] | None = None) -> ServingSpec:
    """The serving spec from the environment (read once, at the entry point)."""
    env = os.environ if environ is None else environ
    if env.get(SPEC_ENV):
        return ServingSpec.from_dict(decode_spec(env[SPEC_ENV]))
    if env.get(MLRUN_SPEC_ENV):  # MLRun's serving spec (converted by ServingSpec.from_dict)
        return ServingSpec.from_dict(decode_spec(env[MLRUN_SPEC_ENV]))
    path = env.get(SPEC_PATH_ENV)
    if path:
        return spec_from_file(Path(path))
    raise ConfigError(
        f"no serving spec: set {SPEC_ENV} (JSON) or {SPEC_PATH_ENV} (a spec or function.yaml); "
        "fn.to_yaml() writes it for you"
    )


def spec_from_file(path: Path) -> ServingSpec:
    """A serving spec from a JSON spec file or from a function.yaml's ``NUSERVE_SPEC`` env."""
    if not path.is_file():
        raise ConfigError(f"serving spec file {path} not found")
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml  # noqa: PLC0415 - only for function.yaml files

        doc = yaml.safe_load(text) or {}
        env = (doc.get("spec") or {}).get("env") or []
        names = (SPEC_ENV, MLRUN_SPEC_ENV)  # nuserve's, or MLRun's generated function.yaml
        value = next((e.get("value") for n in names for e in env if e.get("name") == n), None)
        if not value:
            raise ConfigError(
                f"{path} has no {SPEC_ENV} in spec.env (nor MLRun's {MLRUN_SPEC_ENV}); write "
                "it with fn.to_yaml()"
            )
        text = value
    return ServingSpec.from_dict(decode_spec(text))
