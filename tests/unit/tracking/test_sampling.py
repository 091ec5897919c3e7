"""Sampling: one in N exactly, a percentage statistically (seeded), and the record's counts."""

from __future__ import annotations

import math

from nuserve.tracking.sampling import Sampler
from tests.unit.tracking.helpers import request, serve


def test_one_in_n_is_exact_and_deterministic():
    sampler = Sampler(sample=10)
    kept = [i for i in range(10_000) if sampler.keep()]
    assert len(kept) == 1_000
    assert kept[:3] == [0, 10, 20]


def test_percentage_keeps_its_share_and_a_seed_repeats_the_draw():
    n, share = 50_000, 0.2
    draws = [Sampler(percentage=20, seed=7).keep for _ in range(2)]
    first = [draws[0]() for _ in range(n)]
    assert first == [draws[1]() for _ in range(n)]
    sigma = math.sqrt(n * share * (1 - share))
    assert abs(sum(first) - n * share) < 4 * sigma
    other = Sampler(percentage=20, seed=8)
    assert first != [other.keep() for _ in range(n)]


def test_both_combine():
    sampler = Sampler(sample=2, percentage=50, seed=1)
    kept = sum(sampler.keep() for _ in range(40_000))
    assert abs(kept - 10_000) < 4 * math.sqrt(40_000 * 0.25 * 0.75)


def test_no_sampling_is_inactive():
    assert not Sampler().active
    assert Sampler(sample=2).active and Sampler(percentage=99.5).active


def test_sampled_server_records_what_each_record_stands_for():
    server, sink = serve(sample=10)
    for i in range(10_000):
        request(server, i)
    tracker = server.tracker
    assert tracker is not None
    server.close()
    records = sink.records()
    assert len(records) == 1_000
    assert [r["request"]["id"] for r in records[:3]] == ["r0", "r10", "r20"]
    assert {(r["sampling_percentage"], r["effective_sample_count"]) for r in records} == {(10, 10)}
    assert tracker.stats() == {
        "tracked": 1_000, "sent": 1_000, "retried": 0, "dropped": 0, "queued": 0, "errors": 0,
    }  # fmt: skip


def test_percentage_through_the_server():
    server, sink = serve(sampling_percentage=25, seed=42)
    for i in range(4_000):
        request(server, i)
    server.close()
    records = sink.records()
    assert abs(len(records) - 1_000) < 4 * math.sqrt(4_000 * 0.25 * 0.75)
    assert {(r["sampling_percentage"], r["effective_sample_count"]) for r in records} == {(25, 4)}


def test_large_n_counts_without_a_cycle():
    sampler = Sampler(sample=20_000)
    kept = [i for i in range(60_000) if sampler.keep()]
    assert kept == [0, 20_000, 40_000]


def test_a_stopped_sampler_keeps_nothing():
    sampler = Sampler()
    assert sampler.keep()
    sampler.stop()
    assert not any(sampler.keep() for _ in range(10))
