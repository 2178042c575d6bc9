"""Fixtures of the handoff service tests: their ``books`` are the handoff's rows, and an SMTP server receives mail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from tests.fakes.server import free_port
from tests.support.handoff import Books, Mailbox, Smtp


@pytest.fixture
def books(handoff_books: Books) -> Books:
    """Here ``books`` are ``handoff_books`` (issued invoices and the payments matched to them), not the file
    imports of ``tests/support/books.py``."""
    return handoff_books


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp(mailbox, port)
    finally:
        controller.stop()
