"""The iris serving function. ``nuserve build examples/iris/function.py -o function.yaml``."""

from __future__ import annotations

import nuserve

fn = nuserve.code_to_function(
    "iris",
    filename="examples/iris/iris_model.py",
    kind="serving",
    requirements=["scikit-learn>=1.4,<2"],
)
fn.set_topology("router")
fn.add_model("iris", class_name="IrisClassifier", model_path="examples/iris/model")
