"""Kestrel features service."""
