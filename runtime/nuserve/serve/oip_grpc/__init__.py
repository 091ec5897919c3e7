"""The OIP gRPC service's messages and stubs, generated from ``grpc_predict_v2.proto``
(committed; ``generate.py`` remakes them)."""
