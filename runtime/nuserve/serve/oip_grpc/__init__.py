"""The OIP gRPC service's messages and stubs, generated from ``grpc_predict_v2.proto``
(committed; ``python -m tests.grpc_stubs`` remakes them)."""
