from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetPositionsRequest(_message.Message):
    __slots__ = ("user_id", "symbol", "status")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    symbol: str
    status: str
    def __init__(self, user_id: _Optional[str] = ..., symbol: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class GetPositionsResponse(_message.Message):
    __slots__ = ("api_response", "positions")
    API_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    api_response: _common_pb2.APIResponse
    positions: _containers.RepeatedCompositeFieldContainer[Position]
    def __init__(self, api_response: _Optional[_Union[_common_pb2.APIResponse, _Mapping]] = ..., positions: _Optional[_Iterable[_Union[Position, _Mapping]]] = ...) -> None: ...

class Position(_message.Message):
    __slots__ = ("position_id", "user_id", "symbol", "quantity", "average_price", "total_investment", "current_price", "market_value", "unrealized_pnl", "unrealized_pnl_pct", "position_type", "status", "created_at", "updated_at", "last_trade_at")
    POSITION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PRICE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_INVESTMENT_FIELD_NUMBER: _ClassVar[int]
    CURRENT_PRICE_FIELD_NUMBER: _ClassVar[int]
    MARKET_VALUE_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_PCT_FIELD_NUMBER: _ClassVar[int]
    POSITION_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_TRADE_AT_FIELD_NUMBER: _ClassVar[int]
    position_id: str
    user_id: str
    symbol: str
    quantity: float
    average_price: float
    total_investment: float
    current_price: float
    market_value: float
    unrealized_pnl: float
    unrealized_pnl_pct: float
    position_type: str
    status: str
    created_at: str
    updated_at: str
    last_trade_at: str
    def __init__(self, position_id: _Optional[str] = ..., user_id: _Optional[str] = ..., symbol: _Optional[str] = ..., quantity: _Optional[float] = ..., average_price: _Optional[float] = ..., total_investment: _Optional[float] = ..., current_price: _Optional[float] = ..., market_value: _Optional[float] = ..., unrealized_pnl: _Optional[float] = ..., unrealized_pnl_pct: _Optional[float] = ..., position_type: _Optional[str] = ..., status: _Optional[str] = ..., created_at: _Optional[str] = ..., updated_at: _Optional[str] = ..., last_trade_at: _Optional[str] = ...) -> None: ...
