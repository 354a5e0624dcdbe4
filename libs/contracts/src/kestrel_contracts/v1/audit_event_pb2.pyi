# mypy: disable-error-code="type-arg"
# Imports rewritten to kestrel_contracts.v1 by kestrel_contracts.codegen. DO NOT EDIT.
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuditSeverity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_SEVERITY_UNSPECIFIED: _ClassVar[AuditSeverity]
    AUDIT_SEVERITY_INFO: _ClassVar[AuditSeverity]
    AUDIT_SEVERITY_WARNING: _ClassVar[AuditSeverity]
    AUDIT_SEVERITY_ERROR: _ClassVar[AuditSeverity]
    AUDIT_SEVERITY_CRITICAL: _ClassVar[AuditSeverity]
AUDIT_SEVERITY_UNSPECIFIED: AuditSeverity
AUDIT_SEVERITY_INFO: AuditSeverity
AUDIT_SEVERITY_WARNING: AuditSeverity
AUDIT_SEVERITY_ERROR: AuditSeverity
AUDIT_SEVERITY_CRITICAL: AuditSeverity

class AuditEvent(_message.Message):
    __slots__ = ("event_id", "ts_event", "ts_init", "service", "action", "severity", "actor", "subject_type", "subject_id", "symbol", "account", "message", "attributes", "causation_event_id")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    CAUSATION_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts_event: int
    ts_init: int
    service: str
    action: str
    severity: AuditSeverity
    actor: str
    subject_type: str
    subject_id: str
    symbol: str
    account: str
    message: str
    attributes: _containers.ScalarMap[str, str]
    causation_event_id: str
    def __init__(self, event_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ..., service: _Optional[str] = ..., action: _Optional[str] = ..., severity: _Optional[_Union[AuditSeverity, str]] = ..., actor: _Optional[str] = ..., subject_type: _Optional[str] = ..., subject_id: _Optional[str] = ..., symbol: _Optional[str] = ..., account: _Optional[str] = ..., message: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., causation_event_id: _Optional[str] = ...) -> None: ...
