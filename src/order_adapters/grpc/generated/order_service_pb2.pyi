from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubmitOrderRequest(_message.Message):
    __slots__ = ("user_id", "symbol", "order_type", "order_side", "quantity", "price", "stop_price", "idempotency_key")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    ORDER_SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    symbol: str
    order_type: str
    order_side: str
    quantity: float
    price: float
    stop_price: float
    idempotency_key: str
    def __init__(self, user_id: _Optional[str] = ..., symbol: _Optional[str] = ..., order_type: _Optional[str] = ..., order_side: _Optional[str] = ..., quantity: _Optional[float] = ..., price: _Optional[float] = ..., stop_price: _Optional[float] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class SubmitOrderResponse(_message.Message):
    __slots__ = ("api_response", "order_id", "status", "estimated_price", "estimated_value", "market_price", "submitted_at")
    API_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_PRICE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_VALUE_FIELD_NUMBER: _ClassVar[int]
    MARKET_PRICE_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    api_response: _common_pb2.APIResponse
    order_id: str
    status: str
    estimated_price: float
    estimated_value: float
    market_price: float
    submitted_at: str
    def __init__(self, api_response: _Optional[_Union[_common_pb2.APIResponse, _Mapping]] = ..., order_id: _Optional[str] = ..., status: _Optional[str] = ..., estimated_price: _Optional[float] = ..., estimated_value: _Optional[float] = ..., market_price: _Optional[float] = ..., submitted_at: _Optional[str] = ...) -> None: ...

class GetOrderDetailsRequest(_message.Message):
    __slots__ = ("order_id", "user_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    user_id: str
    def __init__(self, order_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class GetOrderDetailsResponse(_message.Message):
    __slots__ = ("api_response", "order")
    API_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    api_response: _common_pb2.APIResponse
    order: OrderDetails
    def __init__(self, api_response: _Optional[_Union[_common_pb2.APIResponse, _Mapping]] = ..., order: _Optional[_Union[OrderDetails, _Mapping]] = ...) -> None: ...

class OrderDetails(_message.Message):
    __slots__ = ("order_id", "user_id", "symbol", "order_type", "order_side", "quantity", "price", "status", "created_at", "updated_at", "executed_at", "execution_price", "market_price_at_submission", "market_data_timestamp", "estimated_value", "execution_value", "stop_price")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    ORDER_SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXECUTED_AT_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_PRICE_FIELD_NUMBER: _ClassVar[int]
    MARKET_PRICE_AT_SUBMISSION_FIELD_NUMBER: _ClassVar[int]
    MARKET_DATA_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_VALUE_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_VALUE_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    user_id: str
    symbol: str
    order_type: str
    order_side: str
    quantity: float
    price: float
    status: str
    created_at: str
    updated_at: str
    executed_at: str
    execution_price: float
    market_price_at_submission: float
    market_data_timestamp: str
    estimated_value: float
    execution_value: float
    stop_price: float
    def __init__(self, order_id: _Optional[str] = ..., user_id: _Optional[str] = ..., symbol: _Optional[str] = ..., order_type: _Optional[str] = ..., order_side: _Optional[str] = ..., quantity: _Optional[float] = ..., price: _Optional[float] = ..., status: _Optional[str] = ..., created_at: _Optional[str] = ..., updated_at: _Optional[str] = ..., executed_at: _Optional[str] = ..., execution_price: _Optional[float] = ..., market_price_at_submission: _Optional[float] = ..., market_data_timestamp: _Optional[str] = ..., estimated_value: _Optional[float] = ..., execution_value: _Optional[float] = ..., stop_price: _Optional[float] = ...) -> None: ...

class GetOrderStatusRequest(_message.Message):
    __slots__ = ("order_id", "user_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    user_id: str
    def __init__(self, order_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class GetOrderStatusResponse(_message.Message):
    __slots__ = ("api_response", "order_id", "status", "status_message", "updated_at")
    API_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    api_response: _common_pb2.APIResponse
    order_id: str
    status: str
    status_message: str
    updated_at: str
    def __init__(self, api_response: _Optional[_Union[_common_pb2.APIResponse, _Mapping]] = ..., order_id: _Optional[str] = ..., status: _Optional[str] = ..., status_message: _Optional[str] = ..., updated_at: _Optional[str] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("order_id", "user_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    user_id: str
    def __init__(self, order_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("api_response", "order_id", "status", "cancelled_at")
    API_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_AT_FIELD_NUMBER: _ClassVar[int]
    api_response: _common_pb2.APIResponse
    order_id: str
    status: str
    cancelled_at: str
    def __init__(self, api_response: _Optional[_Union[_common_pb2.APIResponse, _Mapping]] = ..., order_id: _Optional[str] = ..., status: _Optional[str] = ..., cancelled_at: _Optional[str] = ...) -> None: ...

class GetOrderHistoryRequest(_message.Message):
    __slots__ = ("user_id", "limit", "offset", "status")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    limit: int
    offset: int
    status: str
    def __init__(self, user_id: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., status: _Optional[str] = ...) -> None: ...

class GetOrderHistoryResponse(_message.Message):
    __slots__ = ("api_response", "orders", "total_count", "limit", "offset")
    API_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    api_response: _common_pb2.APIResponse
    orders: _containers.RepeatedCompositeFieldContainer[OrderDetails]
    total_count: int
    limit: int
    offset: int
    def __init__(self, api_response: _Optional[_Union[_common_pb2.APIResponse, _Mapping]] = ..., orders: _Optional[_Iterable[_Union[OrderDetails, _Mapping]]] = ..., total_count: _Optional[int] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...
