from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class APIResponse(_message.Message):
    __slots__ = ("success", "message", "code", "timestamp")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    success: bool
    message: str
    code: int
    timestamp: int
    def __init__(self, success: _Optional[bool] = ..., message: _Optional[str] = ..., code: _Optional[int] = ..., timestamp: _Optional[int] = ...) -> None: ...

class UserInfo(_message.Message):
    __slots__ = ("user_id", "email", "first_name", "last_name")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    email: str
    first_name: str
    last_name: str
    def __init__(self, user_id: _Optional[str] = ..., email: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ...) -> None: ...

class ErrorDetails(_message.Message):
    __slots__ = ("error", "message", "code", "details")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    error: str
    message: str
    code: int
    details: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, error: _Optional[str] = ..., message: _Optional[str] = ..., code: _Optional[int] = ..., details: _Optional[_Iterable[str]] = ...) -> None: ...
