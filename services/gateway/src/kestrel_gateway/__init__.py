"""Kestrel gateway service."""
