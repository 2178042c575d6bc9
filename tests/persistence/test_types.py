"""Money stays an exact Decimal, times stay aware UTC, JSON and enums round-trip, on every dialect."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, inspect, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import StatementError

from reconbot.core.domain import TransactionStatus
from reconbot.core.persistence.database import create_engine_for, session_scope
from reconbot.core.persistence.tables import BankTransactionRecord
from reconbot.core.persistence.types import JSONDocument, Money, StrEnumType, UTCDateTime
from tests.persistence.factories import add_account, add_transaction, add_workspace

scratch = MetaData()
values = Table(
    "type_check",
    scratch,
    Column("id", Integer, primary_key=True),
    Column("amount", Money),
    Column("at", UTCDateTime),
    Column("doc", JSONDocument),
    Column("status", StrEnumType(TransactionStatus)),
)

EXACT_AMOUNTS = [
    "12345678901234.56789",
    "-0.01",
    "127000",
    "1.50",  # the scale given is kept: 1.50, not 1.5
    "0.00001",
    "-98765432109876543210.0123456789",
    "0",
]


@pytest.fixture
def scratch_engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_for(database_url)
    scratch.create_all(engine)
    yield engine
    engine.dispose()


def store(engine: Engine, **row: Any) -> Any:
    """Insert one row into the scratch table and return it as read back."""
    with engine.begin() as connection:
        key = connection.execute(insert(values).values(**row)).inserted_primary_key
        assert key is not None
        return connection.execute(select(values).where(values.c.id == key[0])).one()


@pytest.mark.parametrize("text", EXACT_AMOUNTS)
def test_money_round_trips_exactly(scratch_engine: Engine, text: str) -> None:
    amount = Decimal(text)
    stored = store(scratch_engine, amount=amount).amount
    assert type(stored) is Decimal
    assert stored.as_tuple() == amount.as_tuple()  # same digits and same scale, not merely equal


def test_money_is_stored_as_exact_text_on_sqlite_and_numeric_on_postgresql(scratch_engine: Engine) -> None:
    store(scratch_engine, amount=Decimal("12345678901234.56789"))
    with scratch_engine.connect() as connection:
        if scratch_engine.dialect.name == "sqlite":
            row = connection.exec_driver_sql("SELECT typeof(amount), amount FROM type_check").one()
            assert tuple(row) == ("text", "12345678901234.56789")
        else:
            row = connection.exec_driver_sql("SELECT pg_typeof(amount)::text, amount::text FROM type_check").one()
            assert tuple(row) == ("numeric", "12345678901234.56789")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.decimals(allow_nan=False, allow_infinity=False, places=5, min_value=-(10**15), max_value=10**15))
def test_any_amount_round_trips(scratch_engine: Engine, amount: Decimal) -> None:
    stored = store(scratch_engine, amount=amount).amount
    assert type(stored) is Decimal
    assert stored == amount


@pytest.mark.parametrize("bad", [0.1, 127000.0, "12.5", True])
def test_money_refuses_floats_and_anything_not_decimal(scratch_engine: Engine, bad: object) -> None:
    with pytest.raises(StatementError) as caught:
        store(scratch_engine, amount=bad)
    assert isinstance(caught.value.orig, TypeError)


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_money_refuses_nan_and_infinity(scratch_engine: Engine, bad: str) -> None:
    with pytest.raises(StatementError) as caught:
        store(scratch_engine, amount=Decimal(bad))
    assert isinstance(caught.value.orig, ValueError)


def test_money_accepts_int_and_null(scratch_engine: Engine) -> None:
    assert store(scratch_engine, amount=127000).amount == Decimal(127000)
    assert store(scratch_engine, amount=None).amount is None


def test_money_through_a_model(engine: Engine) -> None:
    amount = Decimal("-12345678901234.56789")
    with session_scope(engine) as session:
        account = add_account(session, add_workspace(session))
        transaction_id = add_transaction(session, account, amount=amount).id
    with session_scope(engine) as session:
        stored = session.get(BankTransactionRecord, transaction_id)
        assert stored is not None
        assert type(stored.amount) is Decimal and stored.amount.as_tuple() == amount.as_tuple()
        assert type(stored.allocated) is Decimal and stored.allocated == 0


def test_datetimes_come_back_aware_utc(scratch_engine: Engine) -> None:
    budapest = datetime(2025, 3, 14, 13, 45, 10, 123456, tzinfo=ZoneInfo("Europe/Budapest"))
    stored = store(scratch_engine, at=budapest).at
    assert stored == budapest
    assert stored.hour == 12  # CET is UTC+1 in March
    assert stored.utcoffset() == timedelta(0)
    assert stored.tzinfo is UTC
    assert stored.microsecond == 123456
    warsaw_summer = datetime(2025, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert store(scratch_engine, at=warsaw_summer).at == datetime(2025, 7, 1, 10, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused(scratch_engine: Engine) -> None:
    with pytest.raises(StatementError) as caught:
        store(scratch_engine, at=datetime(2025, 3, 14, 12, 0))
    assert isinstance(caught.value.orig, ValueError)


def test_json_round_trips_and_none_is_sql_null(scratch_engine: Engine) -> None:
    doc = {"reference": "Árvíztűrő tükörfúrógép / zażółć gęślą jaźń", "lines": ["a", "b"], "n": 3, "x": None}
    assert store(scratch_engine, doc=doc).doc == doc
    store(scratch_engine, doc=None)
    with scratch_engine.connect() as connection:
        nulls = connection.execute(select(values.c.id).where(values.c.doc.is_(None))).all()
    assert len(nulls) == 1


def test_json_is_jsonb_on_postgresql(engine: Engine) -> None:
    column = {c["name"]: c for c in inspect(engine).get_columns("bank_transaction")}["raw"]
    if engine.dialect.name == "postgresql":
        assert isinstance(column["type"], JSONB)
    else:
        assert not isinstance(column["type"], JSONB)


def test_enums_are_plain_strings_and_come_back_as_members(scratch_engine: Engine) -> None:
    assert store(scratch_engine, status="matched").status is TransactionStatus.MATCHED
    assert store(scratch_engine, status=TransactionStatus.IGNORED).status is TransactionStatus.IGNORED
    with scratch_engine.connect() as connection:
        raw = connection.exec_driver_sql("SELECT status FROM type_check ORDER BY id").scalars().all()
    assert raw == ["matched", "ignored"]
    assert type(raw[0]) is str


def test_unknown_enum_values_are_refused(scratch_engine: Engine) -> None:
    with pytest.raises(StatementError) as caught:
        store(scratch_engine, status="maybe")
    assert isinstance(caught.value.orig, ValueError)
