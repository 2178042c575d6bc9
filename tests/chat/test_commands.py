"""Commands and linking through the platform-free handlers: who sees what, and where."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session, select

from reconbot.core.persistence.bank_tables import BankBalanceRecord
from reconbot.core.persistence.chat_tables import ChatChannelRecord, Platform
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import BankAccountRecord
from reconbot.core.roles import Role
from reconbot.core.services.chat.setup import add_channel, channels
from reconbot.core.services.people.members import add_member, issue_link_code, remove_member, set_role
from reconbot.handlers.commands import run_command, start
from reconbot.handlers.context import Chat, ChatUser, Place
from tests.fakes.clock import FakeClock
from tests.support.books import Books
from tests.support.chat import INVOICES, PAYMENTS, slack_user, telegram_user

DM = Place(Platform.SLACK, "D1", private=True)
GROUP = Place(Platform.TELEGRAM, "-100200", private=False)


async def test_unmatched_and_balance_only_for_bank_roles_and_always_private(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, books: Books
) -> None:
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    with session_scope(engine) as session:
        account = session.exec(select(BankAccountRecord)).first()
        assert account is not None and account.id is not None
        session.add(BankBalanceRecord(workspace_id=workspace_id, bank_account_id=account.id, kind="closingBooked",
                                      amount=Decimal("1234567"), currency="HUF",
                                      reference_date=date(2026, 3, 2)))  # fmt: skip

    listed = await run_command(chat, slack_user(Role.ACCOUNTANT), GROUP, "unmatched")
    assert listed.private and listed.message is not None
    assert listed.message.title == "Unmatched transactions (1)"
    assert listed.message.lines == ("2026-03-02 · HUF50,000 · Ismeretlen Péter · befizetés",)
    balance = await run_command(chat, telegram_user(Role.OWNER), GROUP, "/balance@reconbot_bot")
    assert balance.private and balance.message is not None
    assert balance.message.fields[0][1] == "HUF1,234,567 (2026-03-02)"
    for role in (Role.INVOICING, Role.OPERATOR):
        for command in ("unmatched", "balance"):
            refused = await run_command(chat, slack_user(role), DM, command)
            assert refused.message is not None and refused.message.title.startswith("Sorry, your role")


async def test_paid_tells_everyone_the_invoice_status_but_only_bank_roles_the_payer(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, books: Books
) -> None:
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    owner = await run_command(chat, slack_user(Role.OWNER), DM, "paid E-2026-1")
    invoicing = await run_command(chat, slack_user(Role.INVOICING), DM, "paid e-2026-1")
    assert owner.message is not None and invoicing.message is not None
    assert owner.message.title == invoicing.message.title == "E-2026-1 (Kert Kft.) is paid: HUF127,000 of HUF127,000"
    assert owner.message.lines == ("Paid by Kert Kft. on 2026-03-02",) and owner.private
    assert invoicing.message.lines == () and not invoicing.private
    unpaid = await run_command(chat, slack_user(Role.OPERATOR), DM, "paid E-2026-2")
    assert unpaid.message is not None
    assert unpaid.message.title == "E-2026-2 (Béta Bt.) is not paid yet: HUF50,000, due 2026-03-10"
    unknown = await run_command(chat, slack_user(Role.OWNER), DM, "paid NOPE-1")
    assert unknown.message is not None and unknown.message.title == "There is no invoice NOPE-1."


async def test_status_shows_the_unmatched_count_only_to_bank_roles_and_channel_problems(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, books: Books
) -> None:
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    channel = add_channel(engine, workspace_id, Platform.SLACK, "C-OLD", actor="test", name="#finance")
    with session_scope(engine) as session:
        record = session.get(ChatChannelRecord, channel.id)
        assert record is not None
        record.problem = "not_in_channel"
    owner = await run_command(chat, slack_user(Role.OWNER), DM, "status")
    operator = await run_command(chat, slack_user(Role.OPERATOR), DM, "status")
    assert owner.message is not None and operator.message is not None
    assert "Unmatched transactions: 1" in owner.message.lines
    assert not any("Unmatched" in line for line in operator.message.lines)
    assert "Cannot post to #finance: not_in_channel" in operator.message.lines


async def test_here_makes_a_channel_only_for_owners_and_admins(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat
) -> None:
    refused = await run_command(chat, slack_user(Role.ACCOUNTANT), GROUP, "here")
    assert refused.message is not None and refused.message.title.startswith("Sorry")
    done = await run_command(chat, telegram_user(Role.OWNER), GROUP, "here")
    assert done.message is not None and done.message.title == "Notifications will come to this chat."
    (channel,) = [c for c in channels(engine, workspace_id) if c.address == "-100200"]
    assert channel.platform is Platform.TELEGRAM
    assert not channel.bank_data and channel.group


async def test_a_link_code_links_a_telegram_account_once_and_subscribes_the_private_chat(
    engine: Engine, workspace_id: int, chat: Chat, clock: FakeClock
) -> None:
    member = add_member(engine, workspace_id, "Éva Nagy", Role.ACCOUNTANT, actor="test")
    code = issue_link_code(engine, workspace_id, member.id, actor="test", now=clock())
    user = ChatUser(Platform.TELEGRAM, "5005", "Éva")
    place = Place(Platform.TELEGRAM, "5005", private=True)

    assert (await run_command(chat, user, place, "status")).message.title.startswith("Your chat account")  # type: ignore[union-attr]
    linked = await start(chat, user, place, code)
    assert (
        linked.message is not None
        and linked.message.title == "Linked: you are Éva Nagy (accountant) in Kert-Építő Kft."
    )
    reused = await start(chat, ChatUser(Platform.TELEGRAM, "6006"), Place(Platform.TELEGRAM, "6006", True), code)
    assert reused.message is not None and "already used" in reused.message.title
    subscribed = [(c.address, c.bank_data, c.group) for c in channels(engine, workspace_id)]
    assert subscribed == [("5005", True, False)]
    status = await run_command(chat, user, place, "status")
    assert status.message is not None and status.message.title == "reconbot status"


async def test_an_expired_link_code_is_refused(engine: Engine, workspace_id: int, chat: Chat, clock: FakeClock) -> None:
    member = add_member(engine, workspace_id, "Éva Nagy", Role.OPERATOR, actor="test")
    code = issue_link_code(engine, workspace_id, member.id, actor="test", now=clock())
    clock.advance(days=3)
    reply = await start(chat, ChatUser(Platform.TELEGRAM, "5005"), Place(Platform.TELEGRAM, "5005", True), code)
    assert reply.message is not None and "expired" in reply.message.title
    with Session(engine) as session:
        assert session.exec(select(ChatChannelRecord)).first() is None


async def test_a_private_chat_loses_bank_data_when_its_member_loses_the_role(
    engine: Engine, workspace_id: int, chat: Chat, clock: FakeClock
) -> None:
    member = add_member(engine, workspace_id, "Éva Nagy", Role.ACCOUNTANT, actor="test")
    code = issue_link_code(engine, workspace_id, member.id, actor="test", now=clock())
    await start(chat, ChatUser(Platform.TELEGRAM, "5005"), Place(Platform.TELEGRAM, "5005", True), code)
    set_role(engine, workspace_id, member.id, Role.OPERATOR, actor="test")
    assert [(c.address, c.bank_data) for c in channels(engine, workspace_id)] == [("5005", False)]
    remove_member(engine, workspace_id, member.id, actor="test")
    assert channels(engine, workspace_id) == []
