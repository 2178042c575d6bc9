"""Writing many rows in one statement: what an import of 100,000 transactions needs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from reconbot.core.persistence.tables import Record

T = TypeVar("T")


def chunks(values: Sequence[T], size: int = 900) -> Iterator[list[T]]:
    """Yield ``values`` in lists of at most ``size``, for ``IN (...)`` queries over many values.

    SQLite caps bound parameters per statement; 900 stays well inside every version's limit.
    """
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def insert_unless_present(session: Session, record: type[Record], values: dict[str, Any], unique: list[str]) -> bool:
    """Insert one row unless a row with the same ``unique`` columns exists; return True if it was inserted."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(record)
    statement = insert.values(**values).on_conflict_do_nothing(index_elements=unique)
    # RETURNING tells it reliably: with a serial id SQLAlchemy adds its own RETURNING on PostgreSQL,
    # and the driver's rowcount is then -1, which a bool() would read as "inserted".
    table: Table = record.__table__  # type: ignore[attr-defined]
    returned = session.execute(statement.returning(table.c[unique[0]]))
    return returned.first() is not None


def update_by_id(session: Session, record: type[Record], rows: Sequence[dict[str, Any]]) -> None:
    """Set the given columns of each row, identified by its ``id``; every row names the same columns.

    One executemany instead of one UPDATE per row (and no ORM objects to load first).
    """
    if not rows:
        return
    table: Table = record.__table__  # type: ignore[attr-defined]
    columns = [name for name in rows[0] if name != "id"]
    # Bind names must differ from column names, or SQLAlchemy reads them as the values being set.
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(**{name: bindparam(f"new_{name}") for name in columns})
    )
    params = [{"row_id": row["id"], **{f"new_{name}": row[name] for name in columns}} for row in rows]
    session.connection().execute(statement, params)
