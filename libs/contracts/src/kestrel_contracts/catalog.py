"""Every generated message class, by full protobuf name.

Lets a tool decode bytes whose type it learns at run time, e.g. a DeadLetter's payload from its
`source_message_type` ("kestrel.v1.Bar"), and lets tests check rules over all messages at once.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from google.protobuf.message import Message

from kestrel_contracts import v1


@functools.cache
def message_types() -> Mapping[str, type[Message]]:
    """Full name -> class of every top-level message in package kestrel.v1 (nested ones excluded)."""
    found: dict[str, type[Message]] = {}
    for module_info in sorted(pkgutil.iter_modules(v1.__path__), key=lambda m: m.name):
        if not module_info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"{v1.__name__}.{module_info.name}")
        for name, descriptor in module.DESCRIPTOR.message_types_by_name.items():
            found[descriptor.full_name] = getattr(module, name)
    return MappingProxyType(found)


def message_type(full_name: str) -> type[Message]:
    """The class of the message called `full_name`; KeyError naming the known ones otherwise."""
    try:
        return message_types()[full_name]
    except KeyError:
        known = ", ".join(sorted(message_types()))
        raise KeyError(f"no message {full_name!r} in kestrel_contracts; known: {known}") from None
