"""MLServer 1.7 serving the iris model (run in MLServer's venv): OIP ``POST /v2/models/iris/infer``.

A custom runtime (as ``mlserver-sklearn`` does: the request's tensor to numpy, ``predict``,
the answer as one INT64 output) over the same ``model.pkl`` as nuserve's. One process:
``parallel_workers`` 0 (inference in the server's process, as the others do), no metrics
server.

Usage: python mlserver_iris.py --model MODEL_DIR --work DIR --grpc-port G --port HTTP_PORT
(``DIR``: where its settings files go; the caller removes it)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import cloudpickle
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class IrisRuntime(MLModel):
    async def load(self) -> bool:
        uri = self.settings.parameters.uri
        with (Path(uri) / "model.pkl").open("rb") as file:
            self.model = cloudpickle.load(file)
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        rows = NumpyCodec.decode_input(payload.inputs[0])
        predicted = self.model.predict(rows)
        return InferenceResponse(
            model_name=self.name, outputs=[NumpyCodec.encode_output("predict", predicted)]
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--grpc-port", type=int, required=True)
    args = parser.parse_args()
    model_dir, http_port, grpc_port = args.model, args.port, args.grpc_port
    folder = Path(args.work)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.json").write_text(
        json.dumps(
            {
                "host": "127.0.0.1",
                "http_port": http_port,
                "grpc_port": grpc_port,
                "parallel_workers": 0,
                "metrics_endpoint": None,
                "debug": False,
            }
        )
    )
    (folder / "model-settings.json").write_text(
        json.dumps(
            {
                "name": "iris",
                "implementation": "mlserver_iris.IrisRuntime",
                "parameters": {"uri": str(Path(model_dir).resolve())},
            }
        )
    )
    here = str(Path(__file__).resolve().parent)
    env = {**os.environ, "PYTHONPATH": here + os.pathsep + os.environ.get("PYTHONPATH", "")}
    mlserver = Path(sys.executable).with_name("mlserver")
    os.execve(str(mlserver), [str(mlserver), "start", str(folder)], env)


if __name__ == "__main__":
    main()
