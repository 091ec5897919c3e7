"""A 64 MB binary tensor costs a ``nuserve serve`` worker well under twice its size at peak:
the body is read into one buffer sized once and the tensor is a view of it."""

from __future__ import annotations

import http.client
from pathlib import Path

import numpy as np
import orjson
import pytest

from tests.serve_models import HOST, children, serve, write_function_yaml

pytestmark = pytest.mark.integration
MB = 1024 * 1024


def status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def test_a_64_mb_binary_tensor_peaks_under_twice_the_body(tmp_path: Path) -> None:
    spec = write_function_yaml(
        tmp_path / "function.yaml", {"mean": "tests.serve_models.Mean"}, max_body_size=100 * MB
    )
    array = np.ones(64 * MB // 4, np.float32)
    tensor = {
        "name": "x",
        "shape": [array.size],
        "datatype": "FP32",
        "parameters": {"binary_data_size": array.nbytes},
    }
    head = orjson.dumps({"inputs": [tensor]})
    body = head + array.tobytes()
    with serve(spec, workers=1) as served:
        pids = children(served.process.pid) | {served.process.pid}
        before = {pid: status(pid, "VmRSS") for pid in pids}
        conn = http.client.HTTPConnection(HOST, served.port, timeout=60)
        conn.request(
            "POST",
            "/v2/models/mean/infer",
            body=body,
            headers={"Inference-Header-Content-Length": str(len(head))},
        )
        response = conn.getresponse()
        answer = orjson.loads(response.read())
        conn.close()
        assert response.status == 200, answer
        assert answer["outputs"][0]["data"] == [1.0]
        growth = max(status(pid, "VmHWM") - before[pid] for pid in pids)
    # the goal is 2x; 1.5x catches a return of the chunks-then-join read (it peaked at 2.0x)
    assert growth <= 1.5 * len(body), (
        f"peak grew {growth / MB:.0f} MB for a {len(body) / MB:.0f} MB body"
    )
