"""The panel's workbench under load: a workspace with 100,000 bank transactions, timed through the real web app.

    python -m bench.workbench                                   # SQLite (a temporary file)
    python -m bench.workbench --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Builds the workspace by bulk insert (three accounts, a few thousand invoices, transactions over three years:
mostly matched, some unmatched, suggested and set aside, with the engine's suggestions for the suggested ones),
serves the real app, signs in as the owner through the login form and times GET /workbench pages: the first
page, a deep page reached by its cursor, and pages filtered by account, by date, by status and by text. Prints
the median and 95th percentile per page. On PostgreSQL everything lives in a throwaway schema dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col, select

from reconbot.admin.app import create_app
from reconbot.core.domain import Direction, InvoiceStatus, TransactionStatus
from reconbot.core.matching import reasons
from reconbot.core.persistence.database import create_engine_for
from reconbot.core.persistence.schema import upgrade
from reconbot.core.persistence.tables import (
    BankAccountRecord,
    BankTransactionRecord,
    InvoiceRecord,
    Language,
    MatchSuggestionRecord,
)
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.people.sessions import memberships
from reconbot.core.services.people.sign_in import first_run
from reconbot.core.services.reconciliation.matching import reason_json
from reconbot.core.services.reconciliation.workbench import NEEDS_PERSON, cursor_of
from reconbot.core.settings import normalise_database_url
from tests.fakes.server import serve

URL_ENV = "RECONBOT_BENCH_DATABASE_URL"
PAGE_NAMES = (
    "first page (needs a person)",
    "deep page by cursor (needs a person, 95% down)",
    "deep page by cursor (all, 95% down)",
    "filtered by account",
    "filtered by date (one month)",
    "status matched",
    "status set aside",
    "text search (payer name)",
    "transaction detail (suggested)",
)
EMAIL, PASSWORD = "owner@bench.test", "bench password 123"
STATUS_WEIGHTS = {TransactionStatus.MATCHED: 86, TransactionStatus.UNMATCHED: 6, TransactionStatus.SUGGESTED: 5,
                  TransactionStatus.IGNORED: 3}  # fmt: skip
PAYERS = ["Kovács és Fia Kft.", "Nagy és Társa Kft.", "Zöld Liget Zrt.", "Fekete Bt.", "Horváth Péter",
          "Szabó Anna", "Tóth Építő Kft.", "Lakatos Bt.", "Virág Beszállító Kft.", "Müller Gartenbau GmbH"]  # fmt: skip


@dataclass
class Built:
    workspace_id: int
    account_ids: list[int]
    newest: date


def build(engine: Engine, transactions: int, invoices: int, seed: int = 1) -> Built:
    """Create the owner, the workspace and its bulk-inserted data; return what the timed pages need."""
    rng = random.Random(seed)
    account = first_run(engine, email=EMAIL, password=PASSWORD, owner_name="Bench Owner", workspace_name="Bench Kft.",
                        country="HU", timezone="Europe/Budapest", currency="HUF", language=Language.EN)  # fmt: skip
    workspace_id = memberships(engine, account)[0].workspace_id
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    newest = date(2026, 3, 1)
    with engine.begin() as connection:
        account_ids: list[int] = []
        for n, name in enumerate(("Main HUF", "Savings HUF", "Cards HUF")):
            row = {"workspace_id": workspace_id, "iban": f"HU4211773016000000000000000{n}", "currency": "HUF",
                   "name": name, "created_at": now}  # fmt: skip
            inserted = insert(BankAccountRecord).values(**row).returning(col(BankAccountRecord.id))
            account_ids.append(int(connection.execute(inserted).scalar_one() or 0))
        invoice_rows = []
        for n in range(invoices):
            issued = newest - timedelta(days=rng.randrange(3 * 365))
            gross = Decimal(rng.randrange(5, 2000) * 500)
            paid = rng.random() < 0.8
            invoice_rows.append({
                "workspace_id": workspace_id, "direction": Direction.ISSUED, "number": f"E-BENCH-{issued.year}-{n}",
                "partner_name": PAYERS[n % len(PAYERS)], "partner_tax_id": f"{10000000 + n % 97}-2-42",
                "issue_date": issued, "due_date": issued + timedelta(days=8), "gross": gross,
                "paid_amount": gross if paid else Decimal(0), "currency": "HUF", "source": "csv",
                "status": InvoiceStatus.PAID if paid else InvoiceStatus.ISSUED, "natural_key": f"bench:{n}",
                "created_at": now, "updated_at": now, "order_number": "", "partner_iban": "", "partner_email": "",
            })  # fmt: skip
        for start in range(0, len(invoice_rows), 2000):
            connection.execute(insert(InvoiceRecord), invoice_rows[start : start + 2000])
        invoice_ids = list(connection.execute(select(col(InvoiceRecord.id))).scalars())
        statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
        rows: list[dict[str, object]] = []
        for n in range(transactions):
            status = rng.choices(statuses, weights)[0]
            amount = Decimal(rng.randrange(5, 2000) * 500) * (1 if rng.random() < 0.8 else -1)
            payer = PAYERS[rng.randrange(len(PAYERS))]
            rows.append({
                "workspace_id": workspace_id, "bank_account_id": account_ids[rng.choices((0, 1, 2), (6, 3, 1))[0]],
                "dedupe_key": f"d{n}", "external_id": f"B{n:07d}", "bank_id": "",
                "booking_date": newest - timedelta(days=n * 3 * 365 // transactions), "value_date": None,
                "amount": amount, "currency": "HUF", "counterparty_name": payer.upper(), "counterparty_iban": "",
                "reference": f"Számla E-BENCH-{rng.randrange(invoices)} utalás", "end_to_end_id": "",
                "structured_reference": "", "raw": None, "pending": False, "status": status,
                "allocated": abs(amount) if status is TransactionStatus.MATCHED else Decimal(0), "flags": [],
                "ignored_at": now if status is TransactionStatus.IGNORED else None,
                "ignored_by": "bench" if status is TransactionStatus.IGNORED else None, "created_at": now,
            })  # fmt: skip
        for start in range(0, len(rows), 5000):
            connection.execute(insert(BankTransactionRecord), rows[start : start + 5000])
        suggested = connection.execute(
            select(col(BankTransactionRecord.id), col(BankTransactionRecord.amount)).where(
                col(BankTransactionRecord.status) == TransactionStatus.SUGGESTED)).all()  # fmt: skip
        why = [reason_json(reasons.amount_exact(Decimal(1000), "HUF")), reason_json(reasons.payer("name", "Bench"))]
        suggestion_rows = [{"workspace_id": workspace_id, "transaction_id": tx_id, "rank": rank,
                            "invoice_ids": [rng.choice(invoice_ids)], "amounts": [str(abs(amount))],
                            "confidence": Decimal("0.55"), "reasons": why, "flags": [], "created_at": now}
                           for tx_id, amount in suggested for rank in (1, 2)]  # fmt: skip
        for start in range(0, len(suggestion_rows), 5000):
            connection.execute(insert(MatchSuggestionRecord), suggestion_rows[start : start + 5000])
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load (statistics, and the visibility map index-only scans use).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("bank_transaction", "invoice", "match_suggestion", "bank_account"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
    return Built(workspace_id, account_ids, newest)


def deep_cursor(engine: Engine, workspace_id: int, statuses: tuple[TransactionStatus, ...], fraction: float) -> str:
    """Return the cursor of the page ``fraction`` of the way down the list (OFFSET here only, to find it)."""
    tx = BankTransactionRecord
    where = (col(tx.workspace_id) == workspace_id, col(tx.status).in_(statuses))
    with Session(engine) as session:
        total = len(session.exec(select(tx.id).where(*where)).all())
        day, row_id = session.exec(select(col(tx.booking_date), col(tx.id)).where(*where)
                                   .order_by(col(tx.booking_date).desc(), col(tx.id).desc())
                                   .offset(int(total * fraction)).limit(1)).one()  # fmt: skip
    assert row_id is not None
    return cursor_of(day, row_id)


def pages(engine: Engine, built: Built) -> dict[str, str]:
    """Return the timed pages by name."""
    everything = tuple(TransactionStatus)
    month = built.newest - timedelta(days=400)
    return {
        "first page (needs a person)": "/workbench",
        "deep page by cursor (needs a person, 95% down)": "/workbench?"
        + urlencode({"after": deep_cursor(engine, built.workspace_id, NEEDS_PERSON, 0.95)}),
        "deep page by cursor (all, 95% down)": "/workbench?"
        + urlencode({"status": "all", "after": deep_cursor(engine, built.workspace_id, everything, 0.95)}),
        "filtered by account": f"/workbench?account={built.account_ids[2]}",
        "filtered by date (one month)": "/workbench?"
        + urlencode({"status": "all", "from": month.isoformat(), "to": (month + timedelta(days=30)).isoformat()}),
        "status matched": "/workbench?status=matched",
        "status set aside": "/workbench?status=ignored",
        "text search (payer name)": "/workbench?" + urlencode({"status": "all", "q": "lakatos"}),
        "transaction detail (suggested)": "",  # filled in after the first page is read
    }


async def measure(engine: Engine, built: Built, requests: int) -> list[tuple[str, float, float, int]]:
    """Serve the app, sign in as the owner and time each page ``requests`` times; return (page, median ms,
    p95 ms, rows on the page)."""
    feeds = BankFeeds(engine, clock=lambda: datetime.now(UTC), sleep=asyncio.sleep, public_url="http://127.0.0.1")
    results = []
    async with (
        serve(create_app(feeds)) as url,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        async with http.get(url + "/login") as response:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
        assert token, "no sign-in form"
        async with http.post(url + "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token[1]}) as r:
            assert r.status == 200 and "Sign out" in await r.text(), "signing in failed"
        timed = pages(engine, built)
        async with http.get(url + "/workbench?status=suggested") as response:
            first = re.search(r'href="(/workbench/\d+)"', await response.text())
        assert first
        timed["transaction detail (suggested)"] = first[1]
        for name, path in timed.items():
            times, rows = [], 0
            for n in range(requests + 3):  # three warm-up requests are not counted
                started = time.perf_counter()
                async with http.get(url + path) as response:
                    body = await response.text()
                    assert response.status == 200, (path, response.status, body[:500])
                if n >= 3:
                    times.append((time.perf_counter() - started) * 1000)
            rows = len(set(re.findall(r'<tr>\s*<td[^>]*><a href="/workbench/(\d+)"', body)))
            p95 = statistics.quantiles(times, n=20)[18]
            results.append((name, statistics.median(times), p95, rows))
    return results


@contextmanager
def database(url: str | None, folder: Path) -> Iterator[Engine]:
    """Yield a migrated engine: an SQLite file in ``folder``, or a throwaway schema on the PostgreSQL server."""
    if not url:
        engine = create_engine_for(f"sqlite:///{folder / 'bench.sqlite3'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    server = make_url(normalise_database_url(url))
    schema = f"bench_{secrets.token_hex(6)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        engine = create_engine_for(server.update_query_dict({"options": f"-csearch_path={schema}"}))
        upgrade(engine)
        yield engine
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get(URL_ENV, ""), help=f"PostgreSQL (or ${URL_ENV})")
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=3_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args(argv)
    os.environ.setdefault("RECONBOT_SECRET_KEY", Fernet.generate_key().decode())
    with tempfile.TemporaryDirectory() as folder, database(args.database_url, Path(folder)) as engine:
        started = time.perf_counter()
        built = build(engine, args.transactions, args.invoices)
        loaded = time.perf_counter() - started
        results = asyncio.run(measure(engine, built, args.requests))
        dialect = engine.dialect.name
    print(f"{dialect}: {args.transactions:,} transactions, {args.invoices:,} invoices (loaded in {loaded:.1f} s), "
          f"{args.requests} requests per page")  # fmt: skip
    print("| page | rows | median ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for name, median, p95, rows in results:
        print(f"| {name} | {rows} | {median:.1f} | {p95:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
