"""A function's deploy directory builds with no package index, then serves as under Nuclio.

The bundle is written as ``nuserve build --bundle`` writes it; its build commands (the ones
Nuclio's builder runs after copying the directory into the image) run in a fresh virtualenv
with ``--no-index``, so nuserve and every dependency must come from the bundle's wheels.
A driver then does what Nuclio's Python wrapper does in the image: import ``handler.py``
from the code directory, call ``init_context`` once, and hand it events read by nuclio-sdk's
own msgpack deserializer (``tests/nuclio_wrapper.py``, copied beside the driver).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nuserve.cli.main import load_function
from nuserve.nuclio.bundle import POST_COPY, write_bundle

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]

PROJECT = '''
import json
from pathlib import Path

import nuserve


class Scaled(nuserve.V2ModelServer):
    def load(self):
        self.factor = json.loads(Path(self.model_path).read_text())["factor"]

    def predict(self, request):
        return [[x * self.factor for x in row] for row in request["inputs"]]


fn = nuserve.new_function("scaled", requirements=["msgpack>=1,<2"])
fn.add_model("s", class_name="Scaled", model_path="weights/scale.json")
'''

DRIVER = '''
import json, logging, os, sys
import nuclio_sdk
import nuclio_wrapper as wrapper

sys.path.insert(0, os.getcwd())  # Nuclio runs the wrapper in the code directory
import handler  # the bundle's handler.py
import nuserve

context = nuclio_sdk.Context(logging.getLogger("driver"), nuclio_sdk.Platform("local"), 0,
                             nuclio_sdk.TriggerInfo("http", "http"))
handler.init_context(context)
out = {"nuserve_file": nuserve.__file__, "answers": []}
for raw in (b'{"inputs": [[1, 2]]}', b'{"inputs": [[1, NaN]]}', b'{"inputs": [[4]]}'):
    event = wrapper.http_event(raw, "/v2/models/s/infer")
    response = handler.handler(context, event)
    out["answers"].append([response.status_code, json.loads(response.body)])
kafka = wrapper.kafka_event(b'{"model": "s", "inputs": [[5]]}', topic="in")
response = handler.handler(context, kafka)
out["answers"].append([response.status_code, json.loads(response.body)])
print(json.dumps(out))
'''


def test_the_bundle_builds_offline_and_serves_wrapper_events(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "weights").mkdir(parents=True)
    (project / "project.py").write_text(PROJECT)
    (project / "weights" / "scale.json").write_text('{"factor": 3}')
    bundle_dir = tmp_path / "bundle"
    cwd = os.getcwd()
    os.chdir(project)
    try:
        fn = load_function("project.py")
    finally:
        os.chdir(cwd)
    bundle = write_bundle(fn, bundle_dir, project_dir=project, code_dir=str(bundle_dir))
    assert bundle.commands[0] == POST_COPY and "--no-index" in bundle.commands[1]
    assert (bundle_dir / "models" / "s" / "scale.json").is_file()
    assert any(w.startswith("nuserve-") for w in bundle.wheels)
    config = yaml.safe_load(bundle.function_yaml.read_text())
    assert config["spec"]["build"]["commands"] == bundle.commands

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "PIP_NO_INDEX": "1",
        "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }  # fmt: skip
    for command in bundle.commands[1:]:
        assert command.startswith("pip install ")
        done = subprocess.run(
            f"{python} -m {command}", shell=True, env=env, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr

    driver_dir = tmp_path / "driver"
    driver_dir.mkdir()
    shutil.copy(ROOT / "tests" / "nuclio_wrapper.py", driver_dir / "nuclio_wrapper.py")
    (driver_dir / "driver.py").write_text(DRIVER)
    run_env = dict(env, PYTHONPATH=str(driver_dir))
    run_env.update({e["name"]: e["value"] for e in config["spec"]["env"] if "value" in e})
    done = subprocess.run(
        [str(python), str(driver_dir / "driver.py")], cwd=bundle_dir, env=run_env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["nuserve_file"].startswith(str(venv))  # installed from the bundle's wheel
    statuses = [status for status, _ in result["answers"]]
    assert statuses == [200, 400, 200, 200]
    assert result["answers"][0][1]["outputs"] == [[3, 6]]
    assert "non-finite number (NaN) at inputs[0][1]" in result["answers"][1][1]["error"]
    assert result["answers"][2][1]["outputs"] == [[12]]
    assert result["answers"][3][1]["outputs"] == [[15]]
    ids = [body["id"] for _, body in result["answers"]]
    assert len(set(ids)) == 4  # one Nuclio event id, four request ids
