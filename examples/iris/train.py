"""Train a small iris classifier and save it as a nuserve model artifact directory.

Usage: python examples/iris/train.py [output dir]   (default: examples/iris/model)
"""

from __future__ import annotations

import sys
from pathlib import Path

import cloudpickle
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from nuserve.model.artifacts import Feature, ModelSpec
from nuserve.monitoring import feature_stats


def train(out_dir: Path) -> Path:
    iris = load_iris()
    model = LogisticRegression(max_iter=500).fit(iris.data, iris.target)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "model.pkl").write_bytes(cloudpickle.dumps(model))
    names = [n.replace(" (cm)", "").replace(" ", "_") for n in iris.feature_names]
    spec = ModelSpec(
        model_file="model.pkl",
        inputs=[Feature(name, "float", [1]) for name in names],
        outputs=[Feature("label", "int", [1])],
        metrics={"accuracy": float(model.score(iris.data, iris.target))},
        labels={"classes": [str(c) for c in iris.target_names]},
        feature_stats=feature_stats(iris.data, names=names),
        framework="sklearn",
        algorithm="LogisticRegression",
    )
    return spec.save(out_dir)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "model"
    print(f"saved {train(target)}")
