"""Column types that keep money exact, timestamps in UTC and enums as plain strings on every dialect."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, DateTime, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from reconbot.core.money import format_amount

E = TypeVar("E", bound=StrEnum)


class Money(TypeDecorator[Decimal]):
    """An exact decimal amount: ``NUMERIC`` on PostgreSQL, decimal text on SQLite; always a ``Decimal``.

    Why not plain ``Numeric``: SQLite has no decimal type. A NUMERIC column there
    stores REAL (a binary float), so ``0.1 + 0.2`` and 15+ digit amounts drift,
    and SQLAlchemy only papers over it by rounding on the way out. TEXT keeps
    the digits exactly as given. PostgreSQL's unconstrained NUMERIC is exact and
    keeps the scale it was given (``1.50`` stays ``1.50``, 5 decimals stay 5), so
    an exchange-rate-derived amount is never silently rounded by the schema.

    Floats are refused (TypeError) rather than converted: a float reaching this
    point is already a bug. NaN and infinities are refused too (ValueError).

    Caveat on SQLite: the database sees text, so comparisons, ``ORDER BY`` and
    ``SUM`` on these columns in SQL are textual (or float) there. Compare and add
    money in Python; on PostgreSQL SQL arithmetic is exact.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Return TEXT for SQLite, NUMERIC without precision or scale elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Return the value to send: decimal text on SQLite, the ``Decimal`` itself elsewhere.

        Raises TypeError for anything but ``Decimal``/``int`` (floats especially), ValueError for NaN/∞.
        """
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"money must be a Decimal, not {type(value).__name__} ({value!r})")
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError(f"money must be a finite number, not {amount}")
        if dialect.name == "sqlite":
            return format_amount(amount)
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Return the stored amount as a ``Decimal`` (None for SQL NULL).

        Raises TypeError if the driver hands back a float, which would mean the column is not what
        the migrations create.
        """
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money column returned a float; the column type is wrong")
        return Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, timezone-aware UTC on the way in and out.

    PostgreSQL stores ``timestamptz``. SQLite has no timezone support, so it
    stores naive UTC text and we reattach UTC when reading. Naive datetimes are
    refused (ValueError): guessing their zone is how off-by-an-hour bugs start
    (the workspaces run on Budapest and Warsaw time, not UTC).
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return ``value`` in UTC (naive UTC for SQLite). Raises ValueError for a naive datetime."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"datetime must be timezone-aware, got naive {value.isoformat()}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored instant as an aware datetime in UTC (None for SQL NULL)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONDocument(TypeDecorator[Any]):
    """JSON data: ``JSONB`` on PostgreSQL (indexable, compact), ``JSON`` elsewhere.

    Python ``None`` is stored as SQL NULL, not the JSON text ``null``, so ``IS NULL``
    finds rows without a document. Put decimals in as strings: the JSON encoder
    refuses ``Decimal`` and JSON numbers come back as floats.
    Changes made in place to a loaded dict or list are not detected; assign a new value.
    """

    impl = JSON
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(none_as_null=True)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Return JSONB for PostgreSQL, JSON elsewhere."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(JSON(none_as_null=True))


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A ``StrEnum`` stored as its plain string value (VARCHAR), read back as the enum member.

    No database ENUM type and no length limit, so adding a member never needs a
    migration. Writing a string that is not a member raises ValueError before it
    reaches the database; reading one (written by a newer release) raises ValueError too.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[E]) -> None:
        super().__init__()
        self.enum_class = enum_class

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Return the member's value. Raises ValueError for a string that is not a member."""
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        """Return the enum member for the stored string (None for SQL NULL)."""
        if value is None:
            return None
        return self.enum_class(value)

    def __repr__(self) -> str:
        return f"StrEnumType({self.enum_class.__name__})"
