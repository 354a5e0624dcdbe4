"""Edges of the ingestion service: the store and the bus."""
