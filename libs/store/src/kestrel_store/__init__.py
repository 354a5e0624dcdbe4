"""asyncpg pool, plain-SQL migrations and time-series helpers for TimescaleDB or plain PostgreSQL."""
