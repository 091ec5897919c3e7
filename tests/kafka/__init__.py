"""A real single-node Kafka broker (KRaft) for the integration tests; see broker.py."""
