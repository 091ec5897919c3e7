"""An MLServer 1.7 runtime answering the mean of its one tensor (``mlserver start`` loads it)."""

from __future__ import annotations

import numpy as np
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class Mean(MLModel):
    async def load(self) -> bool:
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        array = NumpyCodec.decode_input(payload.inputs[0])
        out = NumpyCodec.encode_output("output-0", np.array([float(array.mean())]))
        return InferenceResponse(model_name="mean", outputs=[out], id=payload.id)
