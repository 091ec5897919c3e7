"""Regenerate the committed gRPC stubs from ``grpc_predict_v2.proto`` (needs grpcio-tools).

``python -m tests.grpc_stubs`` (a tool, not part of the package: it runs a subprocess); the stubs' import of each other is made
package-relative, and they are left out of mypy and ruff (pyproject.toml).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "runtime" / "nuserve" / "serve" / "oip_grpc"
PROTO = "grpc_predict_v2.proto"


def main(out: Path = HERE) -> None:
    """Write the stubs into ``out`` (this folder; a test compares a fresh copy with it)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{HERE}",
            f"--python_out={out}",
            f"--pyi_out={out}",
            f"--grpc_python_out={out}",
            str(HERE / PROTO),
        ],
        check=True,
    )
    messages = out / "grpc_predict_v2_pb2.py"
    # a pool of its own: tritonclient and kserve register the same `inference.*` names in the
    # default pool, and one process importing both failed ("duplicate symbol")
    messages.write_text(
        messages.read_text().replace(
            "_descriptor_pool.Default().AddSerializedFile",
            "_descriptor_pool.DescriptorPool().AddSerializedFile",
        )
    )
    stub = out / "grpc_predict_v2_pb2_grpc.py"
    text = stub.read_text()
    stub.write_text(
        text.replace("import grpc_predict_v2_pb2 as", "from . import grpc_predict_v2_pb2 as")
    )


if __name__ == "__main__":
    main()
