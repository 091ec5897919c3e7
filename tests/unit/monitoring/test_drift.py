"""Golden values of the three distances and the status thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nuserve.errors import ConfigError
from nuserve.monitoring import (
    DRIFT_DETECTED,
    EPSILON,
    NO_DATA,
    NO_DRIFT,
    POSSIBLE_DRIFT,
    MonitorConfig,
    Reference,
    compute_drift,
    hellinger,
    kl_divergence,
    symmetric_kl,
    total_variation,
)
from nuserve.monitoring.drift import histogram, normalise

U = [0, 1 / 6, 1 / 3, 1 / 2]
T = [1 / 2, 1 / 3, 1 / 6, 0]


def test_golden_tvd_and_hellinger() -> None:
    assert total_variation(U, T) == pytest.approx(0.6667, abs=1e-4)
    assert hellinger(U, T) == pytest.approx(0.7270, abs=1e-4)


def test_golden_symmetric_kl_with_epsilon() -> None:
    # empty bins get EPSILON, then both are renormalised; by hand:
    def floor(p: list[float]) -> np.ndarray:
        a = np.where(np.asarray(p) > 0, p, EPSILON)
        return a / a.sum()

    u, t = floor(U), floor(T)
    by_hand = float(np.sum(u * np.log(u / t)) + np.sum(t * np.log(t / u)))
    assert symmetric_kl(U, T) == pytest.approx(by_hand)
    assert symmetric_kl(U, T) == pytest.approx(8.7457, abs=1e-4)
    assert kl_divergence(U, T) == pytest.approx(kl_divergence(T, U))  # mirror images
    assert math.isfinite(symmetric_kl([1, 0], [0, 1]))


@pytest.mark.parametrize("fn", [total_variation, hellinger, symmetric_kl])
def test_identical_distributions_are_zero(fn) -> None:
    assert fn(U, U) == pytest.approx(0.0, abs=1e-12)


def test_disjoint_distributions_are_one() -> None:
    assert total_variation([1, 0], [0, 1]) == pytest.approx(1.0)
    assert hellinger([1, 0], [0, 1]) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (0.0, NO_DRIFT),
        (0.4999, NO_DRIFT),
        (0.5, POSSIBLE_DRIFT),
        (0.6999, POSSIBLE_DRIFT),
        (0.7, DRIFT_DETECTED),
        (1.0, DRIFT_DETECTED),
        (None, NO_DATA),
    ],
)
def test_status_thresholds(value, status) -> None:
    assert MonitorConfig().status(value) == status


def test_thresholds_are_configurable_and_checked() -> None:
    config = MonitorConfig(possible_drift=0.2, drift_detected=0.3)
    assert config.status(0.25) == POSSIBLE_DRIFT
    assert config.status(0.3) == DRIFT_DETECTED
    with pytest.raises(ConfigError, match="possible_drift <= drift_detected"):
        MonitorConfig(possible_drift=0.8, drift_detected=0.7)


def test_histogram_clamps_outside_values_and_drops_nan() -> None:
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    counts = histogram([-5, 0, 0.5, 1, 2.9, 3, 99, float("nan")], edges)
    assert counts.tolist() == [3, 1, 3]
    assert normalise([0, 0]).tolist() == [0, 0]


def test_compute_drift_general_is_mean_of_tvd_and_hellinger_means() -> None:
    ref = Reference.from_stats(
        {
            "a": {"hist": [[3, 2, 1, 0], [0, 1, 2, 3, 4]]},
            "b": {"hist": [[1, 1, 1, 1], [0, 1, 2, 3, 4]]},
        }
    )
    current = {"a": [0, 10, 20, 30], "b": [10, 10, 10, 10]}
    result = compute_drift(ref, current, MonitorConfig(min_samples=1))
    a, b = result.features
    assert a.tvd == pytest.approx(0.6667, abs=1e-4)
    assert a.hellinger == pytest.approx(0.7270, abs=1e-4)
    assert a.value == pytest.approx((0.6667 + 0.7270) / 2, abs=1e-4)
    assert a.status == POSSIBLE_DRIFT  # 0.697: just under 0.7
    assert (b.tvd, b.hellinger, b.status) == (
        pytest.approx(0),
        pytest.approx(0, abs=1e-7),
        NO_DRIFT,
    )
    assert result.tvd_mean == pytest.approx(0.6667 / 2, abs=1e-4)
    assert result.general == pytest.approx((0.6667 / 2 + 0.7270 / 2) / 2, abs=1e-4)
    assert result.status == NO_DRIFT
    assert result.drifted == []
    strict = compute_drift(ref, current, MonitorConfig(min_samples=1, drift_detected=0.69))
    assert strict.drifted == ["a"]


def test_too_few_samples_is_no_data() -> None:
    ref = Reference.from_stats({"a": {"hist": [[1, 1], [0, 1, 2]]}})
    result = compute_drift(ref, {"a": [3, 0]}, MonitorConfig(min_samples=20))
    assert (result.status, result.general, result.samples) == (NO_DATA, None, 3)


def test_binning_all_features_at_once_matches_histogram() -> None:
    rng = np.random.default_rng(0)
    ref = Reference.from_stats(
        {
            "a": {"hist": [[1] * 5, np.linspace(0, 1, 6).tolist()]},
            "none": {"count": 3},  # no histogram: not binned
            "b": {"hist": [[1] * 3, [-2.0, 0.0, 0.5, 4.0]]},
        }
    )
    matrix = rng.normal(0.5, 1.5, (500, 3))
    matrix[::7, 0] = np.nan
    matrix[3, 2] = 4.0  # the last edge: in the last bin, as numpy.histogram counts it
    counts = ref.binning.to_dict(ref.binning.counts(matrix))
    assert list(counts) == ["a", "b"]
    assert counts["a"] == histogram(matrix[:, 0], np.linspace(0, 1, 6)).astype(int).tolist()
    assert (
        counts["b"] == histogram(matrix[:, 2], np.array([-2.0, 0.0, 0.5, 4.0])).astype(int).tolist()
    )
    inside = matrix[:, 2][(matrix[:, 2] >= -2) & (matrix[:, 2] <= 4)]
    assert counts["b"][1] == np.histogram(inside, [-2.0, 0.0, 0.5, 4.0])[0][1]
