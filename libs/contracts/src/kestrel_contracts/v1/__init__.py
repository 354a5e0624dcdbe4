# Imports rewritten to kestrel_contracts.v1 by kestrel_contracts.codegen. DO NOT EDIT.
"""Generated protobuf messages of package kestrel.v1; sources in proto/kestrel/v1/*.proto.

Import the modules directly: `from kestrel_contracts.v1.bar_pb2 import Bar`.
Regenerate with `uv run python -m kestrel_contracts.codegen`.
"""
