"""Typed protobuf encode/decode for a channel."""

from __future__ import annotations

from google.protobuf.message import DecodeError as ProtoDecodeError
from google.protobuf.message import Message

from kestrel_contracts.registry import Channel
from kestrel_messaging.envelope import DecodeError


def encode(channel: Channel, message: Message) -> bytes:
    """Serialize a message after checking it is the channel's type (a wrong type is a programming error)."""
    if not isinstance(message, channel.message_type):
        raise TypeError(
            f"channel {channel.name} carries {channel.message_type.DESCRIPTOR.full_name}, "
            f"got {type(message).__name__}"
        )
    return message.SerializeToString(deterministic=True)


def decode(channel: Channel, data: bytes) -> Message:
    """Parse bytes as the channel's message type; anything unparseable raises DecodeError."""
    message = channel.message_type()
    try:
        message.ParseFromString(data)
    except (ProtoDecodeError, RuntimeError, ValueError) as exc:
        raise DecodeError(
            f"not a valid {channel.message_type.DESCRIPTOR.full_name} ({len(data)} bytes): {exc}"
        ) from exc
    # Protobuf parses many byte strings "successfully" into an empty or garbage message; every
    # Kestrel event carries an event_id (the downstream idempotency key), so its absence means the
    # bytes were not one of ours.
    if "event_id" in message.DESCRIPTOR.fields_by_name and not getattr(message, "event_id", ""):
        raise DecodeError(f"{channel.message_type.DESCRIPTOR.full_name} without event_id ({len(data)} bytes)")
    return message
