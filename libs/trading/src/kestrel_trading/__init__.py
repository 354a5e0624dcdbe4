"""Trading logic shared by the live services and the backtester (pure: no Kafka, Redis, SQL or HTTP)."""
