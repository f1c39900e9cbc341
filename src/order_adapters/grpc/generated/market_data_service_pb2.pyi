from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetMarketDataRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class GetMarketDataResponse(_message.Message):
    __slots__ = ("api_response", "market_data")
    API_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    MARKET_DATA_FIELD_NUMBER: _ClassVar[int]
    api_response: _common_pb2.APIResponse
    market_data: MarketData
    def __init__(self, api_response: _Optional[_Union[_common_pb2.APIResponse, _Mapping]] = ..., market_data: _Optional[_Union[MarketData, _Mapping]] = ...) -> None: ...

class GetAssetDetailsRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class GetAssetDetailsResponse(_message.Message):
    __slots__ = ("api_response", "asset")
    API_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    api_response: _common_pb2.APIResponse
    asset: AssetDetails
    def __init__(self, api_response: _Optional[_Union[_common_pb2.APIResponse, _Mapping]] = ..., asset: _Optional[_Union[AssetDetails, _Mapping]] = ...) -> None: ...

class GetBatchMarketDataRequest(_message.Message):
    __slots__ = ("symbols",)
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class GetBatchMarketDataResponse(_message.Message):
    __slots__ = ("api_response", "market_data")
    API_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    MARKET_DATA_FIELD_NUMBER: _ClassVar[int]
    api_response: _common_pb2.APIResponse
    market_data: _containers.RepeatedCompositeFieldContainer[MarketData]
    def __init__(self, api_response: _Optional[_Union[_common_pb2.APIResponse, _Mapping]] = ..., market_data: _Optional[_Iterable[_Union[MarketData, _Mapping]]] = ...) -> None: ...

class MarketData(_message.Message):
    __slots__ = ("symbol", "company_name", "current_price", "previous_close", "open_price", "high_price", "low_price", "change", "change_percent", "volume", "last_updated", "category", "market_open")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    COMPANY_NAME_FIELD_NUMBER: _ClassVar[int]
    CURRENT_PRICE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_CLOSE_FIELD_NUMBER: _ClassVar[int]
    OPEN_PRICE_FIELD_NUMBER: _ClassVar[int]
    HIGH_PRICE_FIELD_NUMBER: _ClassVar[int]
    LOW_PRICE_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    CHANGE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATED_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    MARKET_OPEN_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    company_name: str
    current_price: float
    previous_close: float
    open_price: float
    high_price: float
    low_price: float
    change: float
    change_percent: float
    volume: int
    last_updated: str
    category: int
    market_open: bool
    def __init__(self, symbol: _Optional[str] = ..., company_name: _Optional[str] = ..., current_price: _Optional[float] = ..., previous_close: _Optional[float] = ..., open_price: _Optional[float] = ..., high_price: _Optional[float] = ..., low_price: _Optional[float] = ..., change: _Optional[float] = ..., change_percent: _Optional[float] = ..., volume: _Optional[int] = ..., last_updated: _Optional[str] = ..., category: _Optional[int] = ..., market_open: _Optional[bool] = ...) -> None: ...

class AssetDetails(_message.Message):
    __slots__ = ("symbol", "company_name", "sector", "industry", "description", "market_cap", "pe_ratio", "dividend_yield", "fifty_two_week_high", "fifty_two_week_low", "currency", "exchange")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    COMPANY_NAME_FIELD_NUMBER: _ClassVar[int]
    SECTOR_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MARKET_CAP_FIELD_NUMBER: _ClassVar[int]
    PE_RATIO_FIELD_NUMBER: _ClassVar[int]
    DIVIDEND_YIELD_FIELD_NUMBER: _ClassVar[int]
    FIFTY_TWO_WEEK_HIGH_FIELD_NUMBER: _ClassVar[int]
    FIFTY_TWO_WEEK_LOW_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    company_name: str
    sector: str
    industry: str
    description: str
    market_cap: float
    pe_ratio: float
    dividend_yield: float
    fifty_two_week_high: float
    fifty_two_week_low: float
    currency: str
    exchange: str
    def __init__(self, symbol: _Optional[str] = ..., company_name: _Optional[str] = ..., sector: _Optional[str] = ..., industry: _Optional[str] = ..., description: _Optional[str] = ..., market_cap: _Optional[float] = ..., pe_ratio: _Optional[float] = ..., dividend_yield: _Optional[float] = ..., fifty_two_week_high: _Optional[float] = ..., fifty_two_week_low: _Optional[float] = ..., currency: _Optional[str] = ..., exchange: _Optional[str] = ...) -> None: ...
