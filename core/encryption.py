"""Secrets at rest: provider keys and tokens are stored only encrypted (Fernet: AES-128-CBC + HMAC-SHA256).

The key comes from ``RECONBOT_SECRET_KEY`` (a Fernet key, or several separated by
commas: the first encrypts, all decrypt, so a key can be rotated). Without it,
reconbot generates one into ``secret.key`` in the data folder on first use, readable
by its owner only, so a single-user install is encrypted with no setup. Losing
that file means re-entering the credentials: say so in README, never print the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from reconbot.core.errors import SecretKeyError
from reconbot.core.settings import data_dir

SECRET_KEY_ENV = "RECONBOT_SECRET_KEY"
KEY_FILENAME = "secret.key"


def _keys() -> list[bytes]:
    configured = os.environ.get(SECRET_KEY_ENV, "").strip()
    if configured:
        return [part.strip().encode() for part in configured.split(",") if part.strip()]
    path = data_dir() / KEY_FILENAME
    if not path.exists():
        _create_key_file(path)
    return [path.read_bytes().strip()]


def _create_key_file(path: Path) -> None:
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(Fernet.generate_key())


def _cipher() -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in _keys()])
    except ValueError:
        raise SecretKeyError(
            f"{SECRET_KEY_ENV} (or {KEY_FILENAME} in the data folder) is not a valid key: "
            "32 url-safe base64-encoded bytes, as `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'` prints"
        ) from None


def seal(values: dict[str, str]) -> str:
    """Return ``values`` encrypted into one opaque token, for a database column."""
    return _cipher().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def unseal(token: str) -> dict[str, str]:
    """Return what ``seal`` encrypted; raises SecretKeyError when the key cannot open it."""
    try:
        data = _cipher().decrypt(token.encode())
    except InvalidToken:
        raise SecretKeyError(
            f"stored credentials cannot be decrypted with the current key ({SECRET_KEY_ENV} or {KEY_FILENAME}); "
            "restore the key they were saved with, or enter the credentials again"
        ) from None
    values: dict[str, str] = json.loads(data)
    return values


def mask(value: str) -> str:
    """Return a secret fit to show: its last four characters at most, the rest hidden."""
    tail = value[-4:] if len(value) >= 12 else ""
    return f"••••{tail}"


def derived_key(purpose: str) -> bytes:
    """Return a key for ``purpose`` (signing CSRF tokens, say) derived from the first secret key, so one secret
    to back up covers everything and no purpose's key reveals another's."""
    return hmac.new(_keys()[0], f"reconbot:{purpose}".encode(), hashlib.sha256).digest()
