"""Kestrel feature catalogue."""
