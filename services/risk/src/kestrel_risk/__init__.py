"""Kestrel risk service."""
