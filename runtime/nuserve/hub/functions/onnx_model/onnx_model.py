"""hub://onnx-model: serve an ONNX model with onnxruntime (CPU).

``model_path``: a ``.onnx`` file (or an artifact directory holding one). ``POST .../infer``
with ``{"inputs": [[...], ...]}`` feeds the rows (as float32, or the ``dtype`` class arg) to
the model's first input and answers its first output. onnxruntime is optional for nuserve:
install it with ``pip install 'nuserve[onnx]'`` (or ``onnxruntime``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nuserve.errors import ConfigError
from nuserve.model.v2_model_server import V2ModelServer

INSTALL_HINT = "pip install 'nuserve[onnx]' (or pip install onnxruntime)"


class OnnxModelServer(V2ModelServer):
    """An ONNX graph run by an onnxruntime ``InferenceSession``."""

    def load(self) -> None:
        try:
            import onnxruntime  # noqa: PLC0415 - optional: only this function needs it
        except ImportError:
            raise ConfigError(
                f"model '{self.name}' (hub://onnx-model) needs onnxruntime, which is not "
                f"installed here: {INSTALL_HINT}"
            ) from None
        model_file, _extra = self.get_model(".onnx")
        self.session = onnxruntime.InferenceSession(model_file, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.dtype = np.dtype(self.get_param("dtype", "float32"))
        self.model = self.session

    def predict(self, request: dict[str, Any]) -> list[Any]:
        rows = np.asarray(request["inputs"], dtype=self.dtype)
        outputs = self.session.run(None, {self.input_name: rows})
        return list(np.asarray(outputs[0]).tolist())
