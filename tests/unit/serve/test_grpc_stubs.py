"""The committed gRPC stubs are what grpcio-tools makes of the committed proto today."""

from __future__ import annotations

from pathlib import Path

from tests import grpc_stubs as generate

STUBS = ("grpc_predict_v2_pb2.py", "grpc_predict_v2_pb2.pyi", "grpc_predict_v2_pb2_grpc.py")


def test_the_stubs_match_the_proto(tmp_path: Path) -> None:
    generate.main(tmp_path)
    for name in STUBS:
        assert (tmp_path / name).read_text() == (generate.HERE / name).read_text(), (
            f"{name} is stale: run python -m tests.grpc_stubs"
        )
