from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Faults(_message.Message):
    __slots__ = ("service", "delay_seconds", "fail_code", "fail_count", "asset_details_unimplemented", "float32_prices")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    DELAY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FAIL_CODE_FIELD_NUMBER: _ClassVar[int]
    FAIL_COUNT_FIELD_NUMBER: _ClassVar[int]
    ASSET_DETAILS_UNIMPLEMENTED_FIELD_NUMBER: _ClassVar[int]
    FLOAT32_PRICES_FIELD_NUMBER: _ClassVar[int]
    service: str
    delay_seconds: float
    fail_code: int
    fail_count: int
    asset_details_unimplemented: bool
    float32_prices: bool
    def __init__(self, service: _Optional[str] = ..., delay_seconds: _Optional[float] = ..., fail_code: _Optional[int] = ..., fail_count: _Optional[int] = ..., asset_details_unimplemented: _Optional[bool] = ..., float32_prices: _Optional[bool] = ...) -> None: ...

class FaultsReply(_message.Message):
    __slots__ = ("calls",)
    class CallsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    CALLS_FIELD_NUMBER: _ClassVar[int]
    calls: _containers.ScalarMap[str, int]
    def __init__(self, calls: _Optional[_Mapping[str, int]] = ...) -> None: ...
