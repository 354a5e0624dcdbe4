"""The features service's edges: Redis (online store), PostgreSQL (offline store, bar history), fakes."""
