"""Every statement the SQL adapters run, built once per dialect from the schema.

Bind parameters are named; values reach them converted by
:mod:`order_adapters.sql.mapping`. List parameters (symbols, ids) are arrays on
PostgreSQL and JSON arrays read with ``json_each`` on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from order_adapters.sql.dialects import Dialect, Sql
from order_adapters.sql.schema import (
    IN_FLIGHT,
    order_idempotency,
    order_inbox,
    order_outbox,
    order_users,
    orders,
)

__all__ = ["Statements", "dialect_insert"]

_o, _i, _x, _n = orders.c, order_idempotency.c, order_outbox.c, order_inbox.c
_ORDER_FIELDS = list(orders.columns)
_NEWEST_FIRST = (_o.created_at.desc(), _o.id.desc())
_OLDEST_FIRST = (_o.created_at.asc(), _o.id.asc())
# Literals, not parameters: the planner can then match the partial index.
_OPEN: tuple[sa.ColumnElement[str], ...] = (
    sa.literal_column("'PENDING'"),
    sa.literal_column("'PROCESSING'"),
)
_PENDING: sa.ColumnElement[str] = sa.literal_column("'PENDING'")
_PROCESSING: sa.ColumnElement[str] = sa.literal_column("'PROCESSING'")
_EXECUTED: sa.ColumnElement[str] = sa.literal_column("'EXECUTED'")
_MARKET: sa.ColumnElement[str] = sa.literal_column("'MARKET'")
_BUY: sa.ColumnElement[str] = sa.literal_column("'BUY'")
_SELL: sa.ColumnElement[str] = sa.literal_column("'SELL'")
# The partial index's predicate, as its text: see schema.IN_FLIGHT.
_IN_FLIGHT = sa.text(f"({IN_FLIGHT})")


def _bind(name: str) -> sa.BindParameter[object]:
    return sa.bindparam(name)


def _any_of(
    dialect: Dialect, column: sa.ColumnElement[object], name: str
) -> sa.ColumnElement[bool]:
    """``column`` is one of the list parameter ``name``."""
    if dialect.name == "postgresql":
        array = sa.bindparam(name, type_=postgresql.ARRAY(column.type))
        return column == sa.any_(array)
    values: sa.Select[Any] = sa.select(sa.column("value")).select_from(
        sa.func.json_each(sa.bindparam(name))
    )
    return column.in_(values.scalar_subquery())


def dialect_insert(dialect: Dialect, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT (both dialects can, each its own way)."""
    if dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


@dataclass(frozen=True, slots=True)
class Statements:
    """The compiled SQL of one dialect."""

    insert_order: Sql
    update_order: Sql
    order_by_id: Sql
    orders_by_user: Sql
    orders_by_user_and_status: Sql
    orders_by_status: Sql
    orders_by_status_and_symbols: Sql
    history: Sql
    history_with_status: Sql
    orders_by_symbol: Sql
    orders_by_symbol_and_status: Sql
    orders_by_date_range: Sql
    count_by_user: Sql
    count_by_user_since: Sql
    count_by_user_and_status: Sql
    open_quantity: Sql
    activity: Sql
    lock_user: Sql
    mark_position_applied: Sql
    needing_recovery: Sql
    insert_outbox: Sql
    unsent_outbox: Sql
    mark_outbox_sent: Sql
    mark_messages_sent: Sql
    record_by_key: Sql
    put_record: Sql
    claim_record: Sql
    reclaim_record: Sql
    insert_record_if_absent: Sql
    finish_record: Sql
    release_record: Sql
    inbox_seen: Sql
    record_inbox: Sql
    forget_inbox: Sql

    @classmethod
    def build(cls, dialect: Dialect) -> Statements:
        c = dialect.compile
        select_orders = sa.select(*_ORDER_FIELDS)
        by_user = select_orders.where(_o.user_id == _bind("user_id"))
        by_status = select_orders.where(_o.status == _bind("status")).order_by(*_OLDEST_FIRST)
        by_symbol = select_orders.where(_o.symbol == _bind("symbol"))
        count = sa.select(sa.func.count()).select_from(orders).where(_o.user_id == _bind("user_id"))
        record_values = {column.name: _bind(column.name) for column in order_idempotency.columns}
        claim = (
            dialect_insert(dialect, order_idempotency)
            .values(record_values)
            .on_conflict_do_update(
                index_elements=[_i.idempotency_key],
                set_=_excluded_except(dialect, "idempotency_key"),
                where=_i.expires_at <= _bind("now"),
            )
            .returning(_i.owner_token)
        )
        unsent = (
            sa.select(_x.id, _x.message_id, _x.event_type, _x.payload)
            .where(_x.sent_at.is_(None))
            .order_by(_x.id)
            .limit(_bind("limit"))
        )
        if dialect.name == "postgresql":
            # Several relays may run: each skips the rows another has locked.
            unsent = unsent.with_for_update(skip_locked=True)
        replaceable = sa.or_(
            _i.expires_at <= _bind("now"),
            sa.and_(_i.status == _PENDING, _i.owner_token == _bind("owner_token")),
        )
        open_quantity = sa.select(
            sa.func.coalesce(sa.func.sum(_o.quantity), sa.literal_column("0"))
        ).where(
            _o.user_id == _bind("user_id"),
            _o.symbol == _bind("symbol"),
            _o.order_side == _bind("order_side"),
            _o.status.in_(_OPEN),
        )
        count_since = count.where(_o.created_at >= _bind("since"))
        in_flight = (
            sa.select(
                count_since.scalar_subquery(),
                _side_sum(_BUY),
                _side_sum(_SELL),
            )
            .select_from(orders)
            .where(_o.user_id == _bind("user_id"), _o.symbol == _bind("symbol"), _IN_FLIGHT)
        )
        lock = dialect_insert(dialect, order_users).values(user_id=_bind("user_id"))
        due = sa.and_(_o.next_attempt_at.is_not(None), _o.next_attempt_at <= _bind("now"))
        stale = _o.updated_at <= _bind("stale_before")
        abandoned = sa.or_(
            sa.and_(_o.status.in_(_OPEN), due),
            sa.and_(
                _o.next_attempt_at.is_(None),
                sa.or_(
                    _o.status == _PROCESSING,
                    sa.and_(_o.status == _PENDING, _o.order_type == _MARKET),
                ),
                stale,
            ),
            sa.and_(
                _o.status == _EXECUTED,
                sa.func.coalesce(_o.executed_at, _o.updated_at) <= _bind("stale_before"),
            ),
        )
        return cls(
            insert_order=c(
                orders.insert().values({col.name: _bind(col.name) for col in _ORDER_FIELDS})
            ),
            update_order=c(
                orders.update()
                .where(_o.id == _bind("b_id"), _o.version == _bind("b_expected_version"))
                .values(
                    {
                        col.name: _bind(col.name)
                        for col in _ORDER_FIELDS
                        if col.name not in ("id", "user_id", "created_at")
                    }
                )
            ),
            order_by_id=c(select_orders.where(_o.id == _bind("id"))),
            orders_by_user=c(by_user.order_by(*_NEWEST_FIRST)),
            orders_by_user_and_status=c(
                by_user.where(_o.status == _bind("status")).order_by(*_NEWEST_FIRST)
            ),
            orders_by_status=c(by_status.limit(_bind("limit"))),
            orders_by_status_and_symbols=c(
                by_status.where(_any_of(dialect, _o.symbol, "symbols")).limit(_bind("limit"))
            ),
            history=c(
                by_user.order_by(*_NEWEST_FIRST).limit(_bind("limit")).offset(_bind("offset"))
            ),
            history_with_status=c(
                by_user.where(_o.status == _bind("status"))
                .order_by(*_NEWEST_FIRST)
                .limit(_bind("limit"))
                .offset(_bind("offset"))
            ),
            orders_by_symbol=c(by_symbol.order_by(*_NEWEST_FIRST)),
            orders_by_symbol_and_status=c(
                by_symbol.where(_o.status == _bind("status")).order_by(*_NEWEST_FIRST)
            ),
            orders_by_date_range=c(
                by_user.where(
                    _o.created_at >= _bind("start"), _o.created_at < _bind("end")
                ).order_by(*_NEWEST_FIRST)
            ),
            count_by_user=c(count),
            count_by_user_since=c(count_since),
            count_by_user_and_status=c(count.where(_o.status == _bind("status"))),
            open_quantity=c(open_quantity),
            # Every risk figure in one round trip: the count, and the quantities in
            # flight per side (from the partial index).
            activity=c(in_flight),
            # Upserting the user's row locks it until the transaction ends.
            lock_user=c(
                lock.on_conflict_do_update(
                    index_elements=[order_users.c.user_id],
                    set_={"user_id": lock.excluded.user_id},
                )
            ),
            mark_position_applied=c(
                orders.update()
                .where(
                    _o.id == _bind("id"),
                    _o.status == _EXECUTED,
                    _o.position_applied_at.is_(None),
                )
                .values(position_applied_at=_bind("at"))
            ),
            # Every candidate is in the partial index (a due retry or a stale
            # PROCESSING order is open): the predicate lets the planner scan it.
            needing_recovery=_indexed_by(
                dialect,
                c(select_orders.where(_IN_FLIGHT, abandoned).order_by(*_OLDEST_FIRST)),
                "idx_orders_in_flight",  # SQLite without statistics reads every EXECUTED row
            ),
            insert_outbox=c(
                order_outbox.insert().values(
                    {col.name: _bind(col.name) for col in order_outbox.columns if col.name != "id"}
                )
            ),
            unsent_outbox=c(unsent),
            mark_outbox_sent=c(
                order_outbox.update()
                .where(_any_of(dialect, _x.id, "ids"))
                .values(sent_at=_bind("sent_at"))
            ),
            mark_messages_sent=c(
                order_outbox.update()
                .where(_any_of(dialect, _x.message_id, "message_ids"), _x.sent_at.is_(None))
                .values(sent_at=_bind("sent_at"))
            ),
            record_by_key=c(
                sa.select(*order_idempotency.columns).where(
                    _i.idempotency_key == _bind("idempotency_key"), _i.expires_at > _bind("now")
                )
            ),
            put_record=c(
                dialect_insert(dialect, order_idempotency)
                .values(record_values)
                .on_conflict_do_update(
                    index_elements=[_i.idempotency_key],
                    set_=_excluded_except(dialect, "idempotency_key"),
                    where=replaceable,
                )
            ),
            claim_record=c(claim),
            reclaim_record=c(
                order_idempotency.update()
                .where(
                    _i.idempotency_key == _bind("b_key"),
                    sa.or_(
                        _i.expires_at <= _bind("now"),
                        sa.and_(_i.status == _PENDING, _i.owner_token == _bind("b_stale_token")),
                    ),
                )
                .values({k: v for k, v in record_values.items() if k != "idempotency_key"})
            ),
            insert_record_if_absent=c(
                dialect_insert(dialect, order_idempotency)
                .values(record_values)
                .on_conflict_do_nothing()
            ),
            finish_record=c(
                order_idempotency.update()
                .where(
                    _i.idempotency_key == _bind("b_key"),
                    _i.owner_token == _bind("b_token"),
                    _i.status == _PENDING,
                )
                .values(
                    status=_bind("status"),
                    order_id=_bind("order_id"),
                    response_data=_bind("response_data"),
                )
            ),
            release_record=c(
                order_idempotency.delete().where(
                    _i.idempotency_key == _bind("idempotency_key"),
                    _i.owner_token == _bind("owner_token"),
                    _i.status == _PENDING,
                )
            ),
            inbox_seen=c(
                sa.select(sa.literal_column("1")).where(
                    _n.message_id == _bind("message_id"), _n.consumer == _bind("consumer")
                )
            ),
            record_inbox=c(
                dialect_insert(dialect, order_inbox)
                .values(
                    message_id=_bind("message_id"),
                    consumer=_bind("consumer"),
                    processed_at=_bind("processed_at"),
                )
                .on_conflict_do_nothing()
            ),
            forget_inbox=c(order_inbox.delete().where(_n.processed_at < _bind("before"))),
        )


def _indexed_by(dialect: Dialect, sql: Sql, index: str) -> Sql:
    """``sql`` reading ``orders`` through ``index`` on SQLite (PostgreSQL's
    planner has the statistics to choose it itself)."""
    if dialect.name != "sqlite":
        return sql
    text = sql.text.replace("FROM orders", f"FROM orders INDEXED BY {index}", 1)
    assert text != sql.text
    return Sql(text, sql.constants)


def _side_sum(side: sa.ColumnElement[str]) -> sa.ColumnElement[Any]:
    """The quantity of the selected orders on one side (0 when none)."""
    quantity = sa.case((_o.order_side == side, _o.quantity))
    return sa.func.coalesce(sa.func.sum(quantity), sa.literal_column("0"))


def _excluded_except(dialect: Dialect, *skipped: str) -> dict[str, sa.ColumnElement[object]]:
    """``SET column = excluded.column`` for every column but ``skipped``."""
    insert = dialect_insert(dialect, order_idempotency)
    return {
        column.name: insert.excluded[column.name]
        for column in order_idempotency.columns
        if column.name not in skipped
    }
