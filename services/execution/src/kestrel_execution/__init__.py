"""Kestrel execution service."""
