"""A KServe 0.21 model server answering the mean of its one tensor (run in KServe's venv).

Usage: python kserve_mean.py HTTP_PORT GRPC_PORT
"""

from __future__ import annotations

import sys

import numpy as np
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer


class Mean(Model):
    def __init__(self) -> None:
        super().__init__("mean")
        self.ready = True

    async def predict(
        self, payload: InferRequest, headers=None, response_headers=None
    ) -> InferResponse:
        array = payload.inputs[0].as_numpy()
        out = InferOutput("output-0", [1], "FP64")
        out.set_data_from_numpy(np.array([float(array.mean())]), binary_data=False)
        return InferResponse(
            model_name="mean", infer_outputs=[out], response_id=payload.id or "bench"
        )


if __name__ == "__main__":
    http_port, grpc_port = int(sys.argv[1]), int(sys.argv[2])
    ModelServer(http_port=http_port, grpc_port=grpc_port, workers=1, enable_docs_url=False).start(
        [Mean()]
    )
