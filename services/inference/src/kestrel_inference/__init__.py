"""Kestrel inference service."""
