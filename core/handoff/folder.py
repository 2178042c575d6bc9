"""The export folder receiver: files an accountant's software imports, written so a repeat changes nothing.

An invoice becomes ``invoices/<number>_<id>.json`` and ``.csv`` (and ``.pdf`` once archived); settlements are rows of
``settlements/settlements-<day marked>.csv``, keyed by settlement id. Every file is written to a
temporary file and renamed over the old one, so a reader never sees half a file, and a document
written again (after a crash) leaves the same files.
"""

from __future__ import annotations

import asyncio
import csv
import fcntl
import io
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from reconbot.core.errors import ProviderError
from reconbot.core.handoff.model import SETTLEMENT_COLUMNS, Document, file_name, to_csv
from reconbot.core.handoff.receiver import Receiver, ReceiverContext, check_settings


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one rename, so the file is either the old or the new one."""
    write_bytes_atomically(path, text.encode())


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one rename, so the file is either the old or the new one."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class FolderReceiver(Receiver):
    kind = "folder"
    required = ("path",)

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_settings(cls, settings: Mapping[str, str], context: ReceiverContext) -> FolderReceiver:
        check_settings(cls.kind, settings, cls.required)
        root = Path(settings["path"]).expanduser()
        if not root.is_absolute():
            raise ProviderError(f"folder receiver: {settings['path']!r} is not an absolute path", permanent=True)
        return cls(root)

    async def send(self, document: Document) -> str:
        return await asyncio.to_thread(self._write, document)

    def _write(self, document: Document) -> str:
        try:
            if document.settlement is None:
                folder = self.root / "invoices"
                folder.mkdir(parents=True, exist_ok=True)
                # The id keeps two invoices apart whose numbers make the same file name ("A/1" and "A-1").
                name = f"{file_name(document.invoice.number)}_{document.invoice.id}"
                text = json.dumps(document.as_json(), ensure_ascii=False, indent=2, sort_keys=True)
                write_atomically(folder / f"{name}.json", text + "\n")
                write_atomically(folder / f"{name}.csv", document.invoice_csv())
                if document.pdf is not None:
                    write_bytes_atomically(folder / f"{name}.pdf", document.pdf)
                    return f"wrote invoices/{name}.json, .csv and .pdf"
                return f"wrote invoices/{name}.json and invoices/{name}.csv"
            folder = self.root / "settlements"
            folder.mkdir(parents=True, exist_ok=True)
            name = f"settlements-{document.marked_at.date().isoformat()}.csv"
            with open(folder / ".lock", "a") as lock:
                # Read-modify-write of the day's file: two workers must take turns.
                fcntl.flock(lock, fcntl.LOCK_EX)
                self._add_settlement(folder / name, document)
            return f"wrote settlements/{name}"
        except OSError as exc:
            raise ProviderError(f"folder receiver: cannot write in {self.root} ({exc.strerror or exc})") from None

    @staticmethod
    def _add_settlement(path: Path, document: Document) -> None:
        assert document.settlement is not None
        rows: dict[str, dict[str, str]] = {}
        if path.exists():
            for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
                rows[row["settlement_id"]] = row
        new = {key: str(value) for key, value in document.settlement.as_json().items()}
        rows[new["settlement_id"]] = new  # the same settlement again replaces its row
        write_atomically(path, to_csv(SETTLEMENT_COLUMNS, list(rows.values())))
