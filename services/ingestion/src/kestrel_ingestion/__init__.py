"""Kestrel ingestion service."""
