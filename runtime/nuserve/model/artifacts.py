"""Model artifact resolution: a model path to a local model file (MLRun's ``get_model``).

A model path is a file, a directory, or a spec yaml naming ``model_file`` and ``extra_data``
relative to its own directory; remote (fsspec) paths are downloaded once into a local cache.

Nothing a model directory or spec names may lead out of it: a spec path that is absolute, a
URL, or climbs with ``..``, and a file of the directory (or of the spec) that is a symlink to
somewhere outside, are refused with a ``ConfigError`` naming the entry. The model path itself
is the operator's choice and may be anywhere; ``suffix`` is only ever compared with names.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from nuserve.errors import ConfigError

SPEC_NAMES = ("model_spec.yaml", "model.yaml")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_T = TypeVar("_T")


@dataclass
class Feature:
    """One model input or output, as in MLRun's ``Feature``."""

    name: str
    value_type: str = ""
    dims: list[int] = field(default_factory=list)


@dataclass
class ModelSpec:
    """The model's description (MLRun's model artifact spec fields)."""

    model_file: str = ""
    extra_data: dict[str, str] = field(default_factory=dict)  # key -> relative path or URL
    parameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    inputs: list[Feature] = field(default_factory=list)
    outputs: list[Feature] = field(default_factory=list)
    feature_stats: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    framework: str = ""
    algorithm: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSpec:
        """Build from a flat mapping or MLRun's artifact layout (``kind``/``metadata``/``spec``).

        Fields under ``spec`` win over top-level ones; labels may also come from
        ``metadata.labels``. Unknown keys are ignored; wrong types raise ``ConfigError``.
        """
        nested = data.get("spec")
        if nested is not None and not isinstance(nested, Mapping):
            raise ConfigError(f"model spec 'spec' must be a mapping, got {type(nested).__name__}")
        fields = {**data, **(nested or {})}
        metadata = data.get("metadata")
        if fields.get("labels") is None and isinstance(metadata, Mapping):
            fields["labels"] = metadata.get("labels")
        raw = _get(fields, "extra_data", dict, {})
        extra_data = {str(k): _get(raw, k, str, "", f"extra_data[{k!r}]") for k in raw}
        return cls(
            model_file=_get(fields, "model_file", str, ""),
            extra_data=extra_data,
            parameters=_get(fields, "parameters", dict, {}),
            metrics=_get(fields, "metrics", dict, {}),
            inputs=_features(fields, "inputs"),
            outputs=_features(fields, "outputs"),
            feature_stats=_get(fields, "feature_stats", dict, {}),
            labels=_get(fields, "labels", dict, {}),
            framework=_get(fields, "framework", str, ""),
            algorithm=_get(fields, "algorithm", str, ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the spec as yaml to ``path``, or to ``path/model_spec.yaml`` for a directory."""
        target = Path(path)
        if target.is_dir():
            target = target / SPEC_NAMES[0]
        import yaml  # noqa: PLC0415 - yaml is needed only when a spec is read or written

        target.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False), encoding="utf-8")
        return target


_Model = tuple[str, dict[str, str], ModelSpec | None]  # what get_model returns


def _get(data: Mapping[Any, Any], key: Any, kind: type[_T], default: _T, name: str = "") -> _T:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise ConfigError(
            f"model spec field {name or key} must be a {kind.__name__}, "
            f"got {type(value).__name__} {value!r:.60}"
        )
    return value


def _features(data: Mapping[str, Any], key: str) -> list[Feature]:
    features = []
    for i, item in enumerate(_get(data, key, list, [])):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise ConfigError(f"model spec field {key}[{i}] must be a mapping with a 'name' string")
        dims = _get(item, "dims", list, [], f"{key}[{i}].dims")
        if not all(isinstance(d, int) for d in dims):
            raise ConfigError(f"model spec field {key}[{i}].dims must be a list of ints: {dims!r}")
        value_type = _get(item, "value_type", str, "", f"{key}[{i}].value_type")
        features.append(Feature(item["name"], value_type, dims))
    return features


def get_model(
    model_path: str, suffix: str = "", cache_dir: str | None = None
) -> tuple[str, dict[str, str], ModelSpec | None]:
    """Return (local model file, {extra_data key: local path}, spec or None).

    ``suffix`` (e.g. ``".pkl"``) picks the model file in a directory and is checked against
    a spec's ``model_file``. Remote files are cached under ``cache_dir``, else
    ``$NUSERVE_MODEL_CACHE``, else ``~/.cache/nuserve/models``.
    """
    path = model_path.removeprefix("file://")
    if _URL.match(path):
        local = _fetch(path, cache_dir)
        return _from_file(local, path, posixpath.dirname(path), suffix, cache_dir)
    local = Path(path).expanduser().absolute()
    if local.is_dir():
        spec_file = next((local / n for n in SPEC_NAMES if (local / n).is_file()), None)
        if spec_file is not None:  # a file with a spec name is always read as a spec
            return _from_file(spec_file, str(spec_file), str(local), suffix, cache_dir)
        model, files = _first_match(local, suffix)
        return str(model), {p.name: str(p) for p in files if p != model}, None
    if not local.is_file():
        raise ConfigError(f"model path {model_path} does not exist (looked for {local})")
    return _from_file(local, str(local), str(local.parent), suffix, cache_dir)


def _from_file(local: Path, where: str, base: str, suffix: str, cache_dir: str | None) -> _Model:
    spec = _read_spec(local, where, suffix)
    if spec is not None:
        return _from_spec(spec, base, where, suffix, cache_dir)
    if suffix and not local.name.endswith(suffix):
        raise ConfigError(f"model file {where} does not end with {suffix!r}")
    return str(local), {}, None


def _read_spec(file: Path, where: str, suffix: str) -> ModelSpec | None:
    """Read ``file`` as a spec if it is one: a spec name, or a yaml that has ``model_file``."""
    named = file.name in SPEC_NAMES
    is_yaml = file.name.endswith((".yaml", ".yml")) and not (suffix and file.name.endswith(suffix))
    if not (named or is_yaml):
        return None
    import yaml  # noqa: PLC0415 - yaml is needed only when a spec is read or written

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        if not named:
            return None  # not a spec after all: an ordinary model file
        raise ConfigError(f"cannot read model spec {where}: {exc}") from exc
    if not named:  # any other yaml is a spec only if it names a model_file
        nested = data.get("spec") if isinstance(data, Mapping) else None
        flat = {**data, **nested} if isinstance(nested, Mapping) else data
        if not isinstance(flat, Mapping) or "model_file" not in flat:
            return None
    if not isinstance(data, Mapping):
        raise ConfigError(f"model spec {where} must be a yaml mapping, got {type(data).__name__}")
    try:
        return ModelSpec.from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc.message}") from exc


def _from_spec(
    spec: ModelSpec, base: str, where: str, suffix: str, cache_dir: str | None
) -> _Model:
    """Resolve the spec's paths against ``base``, the spec's directory (local path or URL)."""
    if spec.model_file:
        label = f"model_file in {where}"
        if suffix and not spec.model_file.endswith(suffix):
            raise ConfigError(f"{label}: {spec.model_file!r} does not end with {suffix!r}")
        model = _localize(_join(base, spec.model_file, label), label, cache_dir)
    elif _URL.match(base):
        raise ConfigError(f"model spec {where} has no model_file; a remote spec must name it")
    else:
        model = str(_first_match(Path(base), suffix)[0])
    extra = {}
    for key, value in spec.extra_data.items():
        label = f"extra_data[{key!r}] in {where}"
        target = value if _URL.match(value) else _join(base, value, label)
        extra[key] = _localize(target, label, cache_dir)
    return model, extra, spec


def _join(base: str, rel: str, label: str) -> str:
    """Join a spec path onto its directory, refusing anything that leaves that directory."""
    if not rel or _URL.match(rel) or rel.startswith("/") or Path(rel).is_absolute():
        raise ConfigError(f"{label}: {rel!r} must be relative to the spec's directory {base}")
    escape = ConfigError(f"{label}: path {rel!r} escapes the model directory {base}")
    if _URL.match(base):
        norm = posixpath.normpath(rel)
        if norm == ".." or norm.startswith("../"):
            raise escape
        return f"{base.rstrip('/')}/{norm}"
    root = Path(base).resolve()
    target = (root / rel).resolve()
    if not target.is_relative_to(root):
        raise escape
    return str(target)


def _localize(path: str, label: str, cache_dir: str | None) -> str:
    if _URL.match(path):
        return str(_fetch(path, cache_dir))
    if not Path(path).exists():
        raise ConfigError(f"{label}: {path} does not exist")
    return path


def _first_match(directory: Path, suffix: str) -> tuple[Path, list[Path]]:
    """The first non-hidden file ending with ``suffix`` (by name), and all the listed files."""
    files = sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    root = directory.resolve()
    for file in files:
        if not file.resolve().is_relative_to(root):
            raise ConfigError(
                f"{file.name!r} in model directory {directory} is a link to {file.resolve()}, "
                "outside the directory; copy the file in, or point model_path at its directory"
            )
    for file in files:
        if file.name.endswith(suffix) and file.name not in SPEC_NAMES:
            return file, files
    wanted = f"file ending in {suffix!r}" if suffix else "model file"
    found = ", ".join(p.name for p in files) or "nothing"
    raise ConfigError(
        f"no {wanted} in directory {directory} (found: {found}); "
        f"pass a suffix that matches or set model_file in {SPEC_NAMES[0]}"
    )


def _fetch(url: str, cache_dir: str | None) -> Path:
    """Download ``url`` once into the cache; a cached copy is reused without touching ``url``."""
    root = cache_dir or os.environ.get("NUSERVE_MODEL_CACHE") or "~/.cache/nuserve/models"
    name = posixpath.basename(url.partition("?")[0].rstrip("/")) or "model"
    target = Path(root).expanduser() / hashlib.sha256(url.encode()).hexdigest()[:16] / name
    if target.is_file():
        return target
    try:
        import fsspec  # noqa: PLC0415  (optional extra: import only when a remote path is used)
    except ImportError as exc:
        raise ConfigError(f"model path {url} needs fsspec; pip install 'nuserve[remote]'") from exc
    partial = target.with_name(f".{name}.{os.getpid()}.part")
    try:
        fs, remote = fsspec.core.url_to_fs(url)
        if not fs.isfile(remote):
            what = "is a directory; point to the model file or its spec yaml"
            raise ConfigError(f"model path {url} {what if fs.isdir(remote) else 'does not exist'}")
        target.parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(remote, str(partial))
        os.replace(partial, target)  # atomic: a reader never sees a half-written model
    except (OSError, ValueError, ImportError) as exc:  # ImportError: no s3fs/gcsfs
        raise ConfigError(f"cannot download model path {url}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target
