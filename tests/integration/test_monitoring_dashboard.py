"""The dashboard in a real headless Chromium (Debian's ``chromium``): the page loads, names
the drifted feature, and a screenshot is saved (under the test's tmp dir; with
``NUSERVE_UPDATE_DOCS=1`` also to ``docs/monitoring/dashboard.png``). On SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from nuserve.monitoring import Dashboard, Monitor, MonitorConfig, Store, open_store
from tests.docs.site import DASHBOARD_SCREENSHOT
from tests.unit.monitoring.records import NAMES, record

pytestmark = pytest.mark.integration

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--disable-dev-shm-usage",
]  # fmt: skip


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium not found; apt-get install chromium (tests/run.sh does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def browse(*args: str, timeout: float = 90.0) -> subprocess.CompletedProcess[str]:
    """Run chromium once with a fresh profile (deleted after)."""
    profile = tempfile.mkdtemp(prefix="nuserve-chromium-")
    try:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout, check=True,
        )  # fmt: skip
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def fill(store: Store) -> str:
    """Twelve 1-minute windows of iris traffic ending now; the last three with petal length
    shifted by 2 std, a few errors, latencies that wander. The endpoint id."""
    from sklearn.datasets import load_iris

    from nuserve.monitoring import Reference, feature_stats

    data = load_iris().data
    reference = Reference.from_stats(feature_stats(data, names=NAMES))
    config = MonitorConfig(windows=(60.0,), grace_s=0.0, min_samples=100)
    monitor = Monitor(store, config, {"": reference})
    rng = np.random.default_rng(5)
    first = (time.time() // 60 - 12) * 60
    for w in range(12):
        shift = 2 * data[:, 2].std(ddof=1) if w >= 9 else 0.0
        for i in range(40 + w):  # under 60, a second apart: one window each
            rows = data[rng.integers(0, 150, 10)].copy()
            rows[:, 2] += shift
            outputs = np.clip(np.round((rows[:, 2] - 1) / 2.2), 0, 2).astype(int).tolist()
            latency = int(800 + 300 * np.sin(w / 2) + rng.exponential(250))
            error = "ValueError: bad row" if rng.random() < 0.02 * (w % 4) else None
            monitor.feed(record(first + w * 60 + i + 0.5, rows.tolist(), outputs, microsec=latency,
                                error=error, function="iris-serving"))  # fmt: skip
    monitor.flush()
    return "iris-serving-iris"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_dashboard_in_headless_chromium(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    chromium()
    url = (
        f"sqlite://{tmp_path}/m.db"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    store = open_store(url)
    dashboard = Dashboard(store, port=0)
    try:
        endpoint = fill(store)
        dashboard.start()
        page = f"{dashboard.url}/endpoints/{endpoint}"
        dom = browse("--dump-dom", page).stdout
        assert "<h1>iris" in dom and "drift detected" in dom
        assert "<b>petal_length</b>" in dom and dom.count("<svg") >= 8
        index = browse("--dump-dom", dashboard.url).stdout
        assert "petal_length" in index and "iris-serving" in index
        shot = tmp_path / "dashboard.png"
        browse(f"--screenshot={shot}", "--window-size=1280,1500", page)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
        if backend == "sqlite" and os.environ.get("NUSERVE_UPDATE_DOCS") == "1":
            shutil.copyfile(shot, DASHBOARD_SCREENSHOT)
    finally:
        dashboard.stop()
        store.close()
