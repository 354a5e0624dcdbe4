-- Runs once, on the first start of the TimescaleDB container (docker-entrypoint-initdb.d), as the
-- POSTGRES_USER superuser. MLflow keeps its backend store in its own database on the same server,
-- as the local infrastructure does; the Kestrel schemas are created by the `migrate` service.
CREATE DATABASE mlflow OWNER kestrel;
