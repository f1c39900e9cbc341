from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetBalanceRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class GetBalanceResponse(_message.Message):
    __slots__ = ("api_response", "balance")
    API_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    api_response: _common_pb2.APIResponse
    balance: Balance
    def __init__(self, api_response: _Optional[_Union[_common_pb2.APIResponse, _Mapping]] = ..., balance: _Optional[_Union[Balance, _Mapping]] = ...) -> None: ...

class Balance(_message.Message):
    __slots__ = ("user_id", "available_balance", "total_balance", "reserved_balance", "currency", "last_updated")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_BALANCE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BALANCE_FIELD_NUMBER: _ClassVar[int]
    RESERVED_BALANCE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATED_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    available_balance: float
    total_balance: float
    reserved_balance: float
    currency: str
    last_updated: str
    def __init__(self, user_id: _Optional[str] = ..., available_balance: _Optional[float] = ..., total_balance: _Optional[float] = ..., reserved_balance: _Optional[float] = ..., currency: _Optional[str] = ..., last_updated: _Optional[str] = ...) -> None: ...

class MoneyMovementRequest(_message.Message):
    __slots__ = ("user_id", "order_id", "amount")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    order_id: str
    amount: str
    def __init__(self, user_id: _Optional[str] = ..., order_id: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class MoneyMovementResponse(_message.Message):
    __slots__ = ("api_response", "applied", "cash", "reserved")
    API_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    CASH_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    api_response: _common_pb2.APIResponse
    applied: bool
    cash: str
    reserved: str
    def __init__(self, api_response: _Optional[_Union[_common_pb2.APIResponse, _Mapping]] = ..., applied: _Optional[bool] = ..., cash: _Optional[str] = ..., reserved: _Optional[str] = ...) -> None: ...

class ReverseBalanceRequest(_message.Message):
    __slots__ = ("user_id", "order_id", "movement")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    MOVEMENT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    order_id: str
    movement: str
    def __init__(self, user_id: _Optional[str] = ..., order_id: _Optional[str] = ..., movement: _Optional[str] = ...) -> None: ...

class GetOrderMovementsRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class GetOrderMovementsResponse(_message.Message):
    __slots__ = ("api_response", "user_id", "movements", "held")
    API_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    MOVEMENTS_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    api_response: _common_pb2.APIResponse
    user_id: str
    movements: _containers.RepeatedScalarFieldContainer[str]
    held: str
    def __init__(self, api_response: _Optional[_Union[_common_pb2.APIResponse, _Mapping]] = ..., user_id: _Optional[str] = ..., movements: _Optional[_Iterable[str]] = ..., held: _Optional[str] = ...) -> None: ...
