"""Drift between a window's input histograms and the reference, per feature and overall.

Both histograms are normalised to probabilities over the reference bins, then compared with

- total variation distance ``TVD = 1/2 sum |p - q|`` (0 to 1),
- Hellinger distance ``H = sqrt(1 - sum sqrt(p q))`` (0 to 1),
- symmetric Kullback-Leibler divergence ``KL(p||q) + KL(q||p)`` (0 to infinity). KL is infinite as
  soon as one histogram has an empty bin where the other has mass, so empty bins are given
  ``EPSILON`` (1e-4) probability and the histogram is renormalised first, as MLRun does
  with its ``kld_scaling``. KL is reported, not used for the status: it has no upper bound.

A feature's drift value is ``(TVD + H) / 2``; the general drift is ``(mean TVD + mean H) / 2``
over the features with a reference histogram (MLRun's rule). Values outside the reference
range are counted in the first or last bin, so a shift past the training range shows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nuserve.monitoring.config import NO_DATA, MonitorConfig
from nuserve.monitoring.reference import Array, Reference

EPSILON = 1e-4
"""Probability given to empty bins before computing KL (then renormalised)."""


def normalise(counts: Sequence[float] | Array) -> Array:
    """Counts as probabilities summing to 1 (all zeros stay all zeros)."""
    array = np.asarray(counts, dtype=float)
    total = float(array.sum())
    return array / total if total > 0 else array


def total_variation(p: Sequence[float] | Array, q: Sequence[float] | Array) -> float:
    """Half the L1 distance between two probability vectors."""
    return float(0.5 * np.abs(np.asarray(p, dtype=float) - np.asarray(q, dtype=float)).sum())


def hellinger(p: Sequence[float] | Array, q: Sequence[float] | Array) -> float:
    """``sqrt(1 - Bhattacharyya coefficient)``; clamped at 0 against rounding."""
    bc = float(np.sqrt(np.asarray(p, dtype=float) * np.asarray(q, dtype=float)).sum())
    return math.sqrt(max(0.0, 1.0 - bc))


def kl_divergence(
    p: Sequence[float] | Array, q: Sequence[float] | Array, epsilon: float = EPSILON
) -> float:
    """``KL(p||q)`` after giving empty bins ``epsilon`` and renormalising both."""
    pp, qq = _floor(p, epsilon), _floor(q, epsilon)
    return float((pp * np.log(pp / qq)).sum())


def symmetric_kl(
    p: Sequence[float] | Array, q: Sequence[float] | Array, epsilon: float = EPSILON
) -> float:
    return kl_divergence(p, q, epsilon) + kl_divergence(q, p, epsilon)


def _floor(p: Sequence[float] | Array, epsilon: float) -> Array:
    array = np.asarray(p, dtype=float)
    return normalise(np.where(array > 0, array, epsilon))


def histogram(values: Sequence[float] | Array, edges: Array) -> Array:
    """Counts of ``values`` in the bins ``edges`` delimit; outside values go to the end bins,
    NaN is left out."""
    array = np.asarray(values, dtype=float)
    array = array[~np.isnan(array)]
    bins = len(edges) - 1
    index = np.clip(np.searchsorted(edges, array, side="right") - 1, 0, bins - 1)
    return np.bincount(index, minlength=bins).astype(float)


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's distances; ``current`` holds the window's counts on the reference bins."""

    feature: str
    tvd: float
    hellinger: float
    kl: float
    value: float
    status: str
    current: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "tvd": self.tvd,
            "hellinger": self.hellinger,
            "kl": self.kl,
            "value": self.value,
            "status": self.status,
            "current": list(self.current),
        }


@dataclass(frozen=True)
class DriftResult:
    """The drift of one window: per feature, the means, the general value and status."""

    features: tuple[FeatureDrift, ...]
    tvd_mean: float | None
    hellinger_mean: float | None
    kl_mean: float | None
    general: float | None
    status: str
    samples: int

    @property
    def drifted(self) -> list[str]:
        """Features whose own drift value reaches the ``drift_detected`` threshold."""
        return [f.feature for f in self.features if f.status == "DRIFT_DETECTED"]


def compute_drift(
    reference: Reference, counts: Mapping[str, Sequence[float] | Array], config: MonitorConfig
) -> DriftResult:
    """Compare ``counts`` (window histograms on the reference bins) with ``reference``.

    A window with fewer than ``config.min_samples`` rows in some feature gets ``NO_DATA``
    and no distances: a handful of requests says little about a distribution.
    """
    features: list[FeatureDrift] = []
    samples = min((int(np.sum(counts.get(f.name, ()))) for f in reference.features), default=0)
    if samples < config.min_samples:
        return DriftResult((), None, None, None, None, NO_DATA, samples)
    for ref in reference.features:
        current = counts.get(ref.name)
        if not ref.has_histogram or current is None:
            continue
        p, q = normalise(current), normalise(ref.counts)
        tvd, hel = total_variation(p, q), hellinger(p, q)
        value = (tvd + hel) / 2
        features.append(
            FeatureDrift(
                ref.name,
                tvd,
                hel,
                symmetric_kl(p, q),
                value,
                config.status(value),
                tuple(int(c) for c in current),
            )
        )
    if not features:
        return DriftResult((), None, None, None, None, NO_DATA, samples)
    tvd_mean = float(np.mean([f.tvd for f in features]))
    hel_mean = float(np.mean([f.hellinger for f in features]))
    kl_mean = float(np.mean([f.kl for f in features]))
    general = (tvd_mean + hel_mean) / 2
    return DriftResult(
        tuple(features), tvd_mean, hel_mean, kl_mean, general, config.status(general), samples
    )
