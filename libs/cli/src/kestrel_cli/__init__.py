"""The `kestrel` command line."""
