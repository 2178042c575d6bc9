"""Fixtures of the whole suite. Shared helpers live in ``tests/support``; the fixture modules among them are
registered here, once (databases, the clock, the Kert workspace's books, chat, invoicing, handoff)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The helpers' assertions report like the tests' own (registered before anything imports them).
pytest.register_assert_rewrite("tests.support")

pytest_plugins = [
    "tests.support.databases",
    "tests.support.clock",
    "tests.support.books",
    "tests.support.chat",
    "tests.support.invoicing",
    "tests.support.handoff",
]


@pytest.fixture(autouse=True)
def secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Encrypt stored credentials with a key of the test's own, never the user's data folder."""
    from cryptography.fernet import Fernet

    monkeypatch.setenv("RECONBOT_SECRET_KEY", Fernet.generate_key().decode())


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash panel passwords with argon2id at its lowest cost: the same code paths, a thousandth of the time.

    The product's hasher (64 MiB, 3 passes) takes about 0.15 s a hash by design, and the panel tests sign in
    hundreds of times. Hashes made here still start ``$argon2id$`` and verify the same way.
    """
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        "reconbot.core.services.people.sign_in._hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Return ``../shared`` (or ``$RECONBOT_SHARED_DIR``): the corpus and references beside the repo.

    Outside CI a missing folder skips the tests that need it; in CI it fails them,
    so a broken checkout can never pass by skipping.
    """
    from tests.support.paths import REPO

    path = Path(os.environ.get("RECONBOT_SHARED_DIR", REPO.parent / "shared"))
    if not (path / "corpus").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{path}/corpus is missing; CI must run with ../shared beside the clone")
        pytest.skip(f"{path}/corpus not found")
    return path
