"""KServe 0.21 serving the iris model (run in KServe's venv): V1 ``POST /v1/models/iris:predict``.

``{"instances": [[...], ...]}`` in, ``{"predictions": [...]}`` out: what KServe's own
sklearn server answers, with the model loaded from the same ``model.pkl`` as nuserve's.

Usage: python kserve_iris.py --model MODEL_DIR --grpc-port GRPC_PORT --port HTTP_PORT
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cloudpickle
import numpy as np
from kserve import Model, ModelServer


class Iris(Model):
    def __init__(self, model_dir: str) -> None:
        super().__init__("iris")
        with (Path(model_dir) / "model.pkl").open("rb") as file:
            self.model = cloudpickle.load(file)
        self.ready = True

    async def predict(self, payload, headers=None, response_headers=None):
        rows = np.asarray(payload["instances"])
        return {"predictions": self.model.predict(rows).tolist()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--grpc-port", type=int, required=True)
    args = parser.parse_args()
    ModelServer(
        http_port=args.port, grpc_port=args.grpc_port, workers=1, enable_docs_url=False
    ).start([Iris(args.model)])
