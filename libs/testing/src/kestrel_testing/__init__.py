"""pytest fixtures that find Kafka, PostgreSQL, Redis and MLflow endpoints for tests."""
