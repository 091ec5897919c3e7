"""Hub item onnx-model: an ONNX model run by onnxruntime (CPU)."""

from __future__ import annotations

from typing import Any

from nuserve.model.v2_model_server import V2ModelServer


class ONNXModelServer(V2ModelServer):
    """Loads ``model_path`` into an onnxruntime session; the inputs feed its first input."""

    def load(self) -> None:
        import onnxruntime  # type: ignore[import-not-found]  # noqa: PLC0415 - optional

        path, _ = self.get_model()
        self.model = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        self.input_name = self.model.get_inputs()[0].name

    def predict(self, request: dict[str, Any]) -> Any:
        import numpy as np  # noqa: PLC0415

        inputs = np.asarray(request["inputs"], dtype=np.float32)
        return self.model.run(None, {self.input_name: inputs})[0].tolist()
