"""The reference a monitor compares live inputs with: a model's ``feature_stats``.

It comes from a model spec (a model directory, its ``model_spec.yaml``, an MLRun artifact
yaml) or a JSON file holding either a spec or the ``feature_stats`` mapping alone. Live input
columns map to features by position: the spec's ``inputs`` order when it names them, else
the order of ``feature_stats``' keys.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from nuserve.errors import ConfigError
from nuserve.model.artifacts import SPEC_NAMES, ModelSpec

Array = np.ndarray[Any, np.dtype[np.float64]]
Counts = np.ndarray[Any, Any]
"""Integer bin counts, features by bins."""


@dataclass(frozen=True)
class FeatureReference:
    """One feature's reference histogram (``edges`` empty when the stats have none)."""

    name: str
    counts: tuple[int, ...]
    edges: tuple[float, ...]

    @property
    def has_histogram(self) -> bool:
        return len(self.edges) >= 2 and sum(self.counts) > 0

    def edge_array(self) -> Array:
        return np.asarray(self.edges, dtype=float)


class Binning:
    """Bins every feature of a row matrix at once on the reference edges.

    A value's bin is the number of inner edges at or below it, which is ``numpy.histogram``'s
    rule (the last bin closed) with values outside the range in the end bins: one
    comparison against a (features x edges) matrix and one ``bincount`` per record, instead
    of a ``searchsorted`` per feature. Features with fewer bins pad their edges with +inf.
    """

    def __init__(self, features: tuple[FeatureReference, ...]) -> None:
        self.columns = [i for i, f in enumerate(features) if f.has_histogram]
        self.names = [features[i].name for i in self.columns]
        self.bins = [len(features[i].counts) for i in self.columns]
        self.width = max(self.bins, default=1)
        self.inner = np.full((len(self.columns), self.width - 1), np.inf)
        for row, i in enumerate(self.columns):
            edges = features[i].edges[1:-1]
            self.inner[row, : len(edges)] = edges
        self._offsets = np.arange(len(self.columns)) * self.width

    def counts(self, matrix: Array) -> Counts:
        """Counts per feature (rows) and bin (columns, ``width`` of them); NaN is skipped."""
        values = matrix[:, self.columns]
        index = (values[:, :, None] >= self.inner[None, :, :]).sum(axis=2)
        flat = (index + self._offsets[None, :])[~np.isnan(values)]
        total = len(self.columns) * self.width
        return np.bincount(flat, minlength=total).reshape(len(self.columns), self.width)

    def to_dict(self, counts: Counts) -> dict[str, list[int]]:
        return {
            name: [int(c) for c in counts[row, :bins]]
            for row, (name, bins) in enumerate(zip(self.names, self.bins, strict=True))
        }


@dataclass(frozen=True)
class Reference:
    """The features of one model, in input column order."""

    features: tuple[FeatureReference, ...]
    source: str = ""

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @cached_property
    def binning(self) -> Binning:
        return Binning(self.features)

    def to_dict(self) -> dict[str, Any]:
        """JSON form kept with the endpoint (the dashboard draws the reference from it)."""
        return {f.name: {"hist": [list(f.counts), list(f.edges)]} for f in self.features}

    @classmethod
    def from_stats(
        cls, stats: Mapping[str, Any], order: list[str] | None = None, source: str = ""
    ) -> Reference:
        """From a ``feature_stats`` mapping; ``order`` lists the input columns' features."""
        if not isinstance(stats, Mapping):
            raise ConfigError(f"feature_stats in {source or 'the reference'} must be a mapping")
        names = order or [str(k) for k in stats]
        return cls(tuple(_feature(n, stats.get(n), source) for n in names), source)


def _feature(name: str, stats: Any, source: str) -> FeatureReference:
    hist = stats.get("hist") if isinstance(stats, Mapping) else None
    if hist is None:
        return FeatureReference(name, (), ())
    where = f"feature_stats[{name!r}].hist in {source or 'the reference'}"
    if not isinstance(hist, list | tuple) or len(hist) != 2:
        raise ConfigError(f"{where} must be [[counts], [edges]] (got {hist!r:.80})")
    try:
        counts = tuple(int(c) for c in hist[0])
        edges = tuple(float(e) for e in hist[1])
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where} must hold numbers: {exc}") from exc
    if len(edges) != len(counts) + 1 or any(b < a for a, b in itertools.pairwise(edges)):
        raise ConfigError(
            f"{where} needs n counts and n + 1 increasing edges "
            f"(got {len(counts)} counts, {len(edges)} edges)"
        )
    return FeatureReference(name, counts, edges)


def load_reference(path: str | Path) -> Reference:
    """The reference in a model directory, spec yaml or JSON file (see the module doc)."""
    target = Path(str(path).removeprefix("file://")).expanduser()
    if target.is_dir():
        found = next((target / n for n in SPEC_NAMES if (target / n).is_file()), None)
        if found is None:
            raise ConfigError(
                f"reference {path} is a directory without {' or '.join(SPEC_NAMES)}; "
                "point to the model spec or a feature_stats JSON file"
            )
        target = found
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read reference {path}: {exc}") from exc
    data = _parse(text, target)
    if not isinstance(data, Mapping):
        raise ConfigError(f"reference {target} must hold a mapping (got {type(data).__name__})")
    nested = data.get("spec")
    is_spec = any(k in data for k in ("feature_stats", "model_file")) or isinstance(nested, Mapping)
    if not is_spec:  # the feature_stats mapping alone
        return Reference.from_stats(data, source=str(target))
    spec = ModelSpec.from_dict(data)
    if not spec.feature_stats:
        raise ConfigError(
            f"model spec {target} has no feature_stats; record them when training: "
            "ModelSpec(..., feature_stats=nuserve.monitoring.feature_stats(X, names=...))"
        )
    order = [f.name for f in spec.inputs] or None
    return Reference.from_stats(spec.feature_stats, order, str(target))


def _parse(text: str, target: Path) -> Any:
    if target.suffix == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"cannot parse reference {target}: {exc}") from exc
    import yaml  # noqa: PLC0415 - only specs need it

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"cannot parse reference {target}: {exc}") from exc
