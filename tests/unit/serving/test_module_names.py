"""MLRun's module names: ``import nuserve as mlrun`` and ``alias_mlrun()`` carry MLRun code."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import nuserve
import nuserve as mlrun
from nuserve.serving.routers import OperationTypes, VotingTypes


def test_mlrun_names_resolve_to_nuserve_objects():
    assert mlrun.serving.V2ModelServer is nuserve.V2ModelServer
    assert mlrun.serving.routers.VotingEnsemble is nuserve.VotingEnsemble
    assert mlrun.serving.remote.RemoteStep.__name__ == "RemoteStep"
    assert mlrun.serving.merger.Merge.__name__ == "Merge"
    assert mlrun.serving.states.TaskStep.__name__ == "TaskStep"
    assert mlrun.serving.GraphContext is nuserve.ServingContext
    assert mlrun.serving.utils.event_id_key == "MLRUN-EVENT-ID"
    assert issubclass(mlrun.errors.MLRunInvalidArgumentError, nuserve.ConfigError)
    assert VotingTypes.all() == ["classification", "regression"]
    assert "infer" in OperationTypes.all()


def test_task_steps_set_a_routers_models():
    class M(nuserve.V2ModelServer):
        def predict(self, request):
            return request["inputs"][0] * self.get_param("k")

    fn = nuserve.new_function("t")
    graph = fn.set_topology("router", nuserve.VotingEnsemble(vote_type="regression"))
    graph.routes = {
        "a": mlrun.serving.states.TaskStep(M, class_args={"model_path": "", "k": 1}),
        "b:v1": mlrun.serving.states.TaskStep(M, class_args={"model_path": "", "k": 3}),
    }
    server = fn.to_mock_server()
    listing = server.test("/v2/models/")
    assert listing["models"] == ["a", "b:v1", "VotingEnsemble"] and listing["weights"] is None
    assert server.test("/v2/models/infer", {"inputs": [2]})["outputs"] == 4


ALIAS = """
import importlib.util, sys
import nuserve.compat
real = importlib.util.find_spec("mlrun") is not None
done = nuserve.compat.alias_mlrun()
if real:
    assert not done, "shadowed a real mlrun"
else:
    import mlrun
    from mlrun.serving.remote import RemoteStep
    import nuserve
    assert done and mlrun is nuserve and RemoteStep.__module__ == "nuserve.graph.remote_step"
print("ok", real)
"""


def test_alias_mlrun_makes_import_mlrun_give_nuserve_in_a_fresh_interpreter():
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(ALIAS)], capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")


NEVER_SHADOW = """
import os, sys, tempfile, pathlib
root = pathlib.Path(tempfile.mkdtemp())
(root / "mlrun").mkdir()
(root / "mlrun" / "__init__.py").write_text("REAL = True\\n")
sys.path.insert(0, str(root))
import nuserve.compat
assert nuserve.compat.alias_mlrun() is False
import mlrun
assert mlrun.REAL
print("ok")
"""


def test_alias_mlrun_never_shadows_an_installed_mlrun():
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(NEVER_SHADOW)],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
