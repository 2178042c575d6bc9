"""Chat delivery under a flood: 1,000 events at once for one Slack channel, against the fake Slack Web API
allowing 1 message/s per channel and answering 429 (Retry-After: 1) beyond it.

    python -m bench.chat_delivery            # prints the table README quotes

Runs the real delivery worker, the real slack_sdk client (with its rate-limit retry handler) and a
temporary SQLite database; checks that every event is accounted for exactly once.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reconbot.bot.delivery import DeliveryWorker
from reconbot.bot.slack.transport import SlackTransport
from reconbot.core.persistence.chat_tables import ChatMessageRecord, MessageStatus, Platform
from reconbot.core.persistence.database import create_engine_for, session_scope
from reconbot.core.persistence.schema import upgrade
from reconbot.core.persistence.tables import OutboxEventRecord
from reconbot.core.services.banks.statements import import_statement
from reconbot.core.services.chat.setup import add_channel_in
from reconbot.core.services.events import emit
from reconbot.core.services.workspaces import ensure_workspace
from tests.fakes.server import serve
from tests.fakes.slack import BOT_TOKEN, FakeSlack

HEADER = "id,booking_date,value_date,amount,currency,counterparty_name,counterparty_iban,reference,end_to_end_id\n"


@dataclass
class Outcome:
    name: str
    events: int
    messages: int
    rate_limited: int
    seconds: float
    accounted: bool


async def flood(name: str, engine: Engine, workspace_id: int, events: int, *, digest_at: int, pace: float) -> Outcome:
    fake = FakeSlack(limit_per_second=1)
    async with serve(fake.app()) as url:
        transport = SlackTransport(BOT_TOKEN, base_url=f"{url}/api/")
        worker = DeliveryWorker(engine, {(workspace_id, Platform.SLACK): transport}, digest_at=digest_at,
                                pace_scale=pace)  # fmt: skip
        stop = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(worker.run(stop, poll_seconds=0.2))
        while _waiting(engine):
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - started
        stop.set()
        await task
    posted = [c for c in fake.called("chat.postMessage") if c.status == 200]
    limited = [c for c in fake.called("chat.postMessage") if c.status == 429]
    return Outcome(name, events, len(posted), len(limited), seconds, _accounted(engine, events, len(posted)))


def _accounted(engine: Engine, events: int, posted: int) -> bool:
    """Every event has one message row, told (sent or in a digest); every sent row was posted exactly once."""
    with Session(engine) as session:
        rows = session.exec(select(ChatMessageRecord.event_id, ChatMessageRecord.status)).all()
    event_rows = [status for event_id, status in rows if not event_id.startswith("digest:")]
    told = all(status in (MessageStatus.SENT, MessageStatus.DIGESTED) for _, status in rows)
    sent = sum(1 for _, status in rows if status is MessageStatus.SENT)
    return len(event_rows) == events and told and sent == posted


def _waiting(engine: Engine) -> bool:
    with Session(engine) as session:
        query = (
            select(func.count())
            .select_from(ChatMessageRecord)
            .where(col(ChatMessageRecord.status).in_([MessageStatus.PENDING, MessageStatus.SENDING]))
        )
        undelivered = session.exec(query).one()
        unrouted = session.exec(
            select(func.count()).select_from(OutboxEventRecord).where(col(OutboxEventRecord.delivered_at).is_(None))
        ).one()
    return bool(undelivered or unrouted)


def fresh(folder: Path, name: str) -> tuple[Engine, int]:
    engine = create_engine_for(f"sqlite:///{folder / name}.sqlite3")
    upgrade(engine)
    with session_scope(engine) as session:
        workspace = ensure_workspace(session, "bench", name="Bench Kft.", country="HU", currency="HUF")
        assert workspace.id is not None
        add_channel_in(session, workspace.id, Platform.SLACK, "C1", actor="bench", bank_data=True)
        return engine, workspace.id


async def main() -> None:
    os.environ.setdefault("RECONBOT_SECRET_KEY", Fernet.generate_key().decode())
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        engine, workspace_id = fresh(root, "flood")
        statement = root / "statement.csv"
        rows = [f"B{n},2026-03-02,2026-03-02,{1000 + n},HUF,Payer {n},,ref {n}," for n in range(1000)]
        statement.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
        import_statement(engine, workspace_id, statement, actor="bench")  # 1,000 unmatched-transaction events
        results = [await flood("1,000 bank events, digest on", engine, workspace_id, 1000, digest_at=5, pace=1.0)]

        for pace, label in ((0.0, "no pacing (429s)"), (1.0, "paced 1/s")):
            engine, workspace_id = fresh(root, f"notices-{pace}")
            with session_scope(engine) as session:
                for n in range(20):
                    emit(session, workspace_id, "sync_recovered", f"bench:{n}", {"bank": f"Bank {n}", "account_id": n})
            results.append(await flood(f"20 notices, {label}", engine, workspace_id, 20, digest_at=5, pace=pace))

    print("| scenario | events | messages posted | 429 answers | seconds | every event once |")
    print("|---|---:|---:|---:|---:|---|")
    for r in results:
        once = "yes" if r.accounted else "NO"
        print(f"| {r.name} | {r.events} | {r.messages} | {r.rate_limited} | {r.seconds:.1f} | {once} |")


if __name__ == "__main__":
    asyncio.run(main())
