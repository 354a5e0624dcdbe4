# mypy: disable-error-code="type-arg"
# Imports rewritten to kestrel_contracts.v1 by kestrel_contracts.codegen. DO NOT EDIT.
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeadLetterStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEAD_LETTER_STAGE_UNSPECIFIED: _ClassVar[DeadLetterStage]
    DEAD_LETTER_STAGE_DECODE: _ClassVar[DeadLetterStage]
    DEAD_LETTER_STAGE_VALIDATE: _ClassVar[DeadLetterStage]
    DEAD_LETTER_STAGE_HANDLE: _ClassVar[DeadLetterStage]
DEAD_LETTER_STAGE_UNSPECIFIED: DeadLetterStage
DEAD_LETTER_STAGE_DECODE: DeadLetterStage
DEAD_LETTER_STAGE_VALIDATE: DeadLetterStage
DEAD_LETTER_STAGE_HANDLE: DeadLetterStage

class DeadLetter(_message.Message):
    __slots__ = ("event_id", "ts_event", "ts_init", "source_channel", "key", "payload", "headers", "source_position", "consumer_group", "service", "stage", "error_type", "error_message", "attempts", "source_message_type")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_POSITION_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_GROUP_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    ERROR_TYPE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_MESSAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts_event: int
    ts_init: int
    source_channel: str
    key: str
    payload: bytes
    headers: _containers.ScalarMap[str, str]
    source_position: str
    consumer_group: str
    service: str
    stage: DeadLetterStage
    error_type: str
    error_message: str
    attempts: int
    source_message_type: str
    def __init__(self, event_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ..., source_channel: _Optional[str] = ..., key: _Optional[str] = ..., payload: _Optional[bytes] = ..., headers: _Optional[_Mapping[str, str]] = ..., source_position: _Optional[str] = ..., consumer_group: _Optional[str] = ..., service: _Optional[str] = ..., stage: _Optional[_Union[DeadLetterStage, str]] = ..., error_type: _Optional[str] = ..., error_message: _Optional[str] = ..., attempts: _Optional[int] = ..., source_message_type: _Optional[str] = ...) -> None: ...
