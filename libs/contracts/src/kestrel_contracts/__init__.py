"""Kestrel's message contracts: protobuf messages and the registry of every Kafka topic and Redis stream.

- `kestrel_contracts.v1`: generated code for proto/kestrel/v1/*.proto (`bar_pb2.Bar`, ...); regenerate
  with `python -m kestrel_contracts.codegen`, never edit by hand.
- `kestrel_contracts.registry`: `CHANNELS`, `channel(name)`, `all_channels_with_dlq()`.
- `kestrel_contracts.events`: event ids (random and derived), nanosecond time, `stamp`.
- `kestrel_contracts.decimals`: the decimal wire format of prices, quantities and money.
- `kestrel_contracts.catalog`: every message class by full protobuf name.
"""
