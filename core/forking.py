"""Using the second core: work done in a forked child process, its result handed back as bytes.

Forking copies nothing up front (the child shares the parent's memory until
either writes), so a child can start on data the parent already holds. Where
fork is not available (Windows, or a platform that forbids it), ``in_child``
returns None and the caller does the work itself.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection


class Pending:
    """Bytes a forked child is computing."""

    def __init__(self, process: multiprocessing.process.BaseProcess, receiver: Connection) -> None:
        self._process = process
        self._receiver = receiver

    def result(self) -> bytes | None:
        """Wait for the child; return its bytes, or None when it failed (the caller then does the work)."""
        try:
            data = self._receiver.recv_bytes()
        except EOFError:
            data = b""
        finally:
            self._receiver.close()
            self._process.join()
        return data or None

    def cancel(self) -> None:
        """Stop the child if it is still working (its result is no longer wanted)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receiver.close()


def in_child(work: Callable[[], bytes]) -> Pending | None:
    """Start ``work`` in a forked child; return a handle on its result, or None when fork is unavailable.

    The child never raises into the parent: any failure reaches the parent as
    None, and the parent computes the result itself (and reports the error then).
    """
    if "fork" not in multiprocessing.get_all_start_methods() or os.environ.get("RECONBOT_NO_FORK"):
        return None
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_run, args=(work, sender), daemon=True)
    process.start()
    sender.close()
    return Pending(process, receiver)


def _run(work: Callable[[], bytes], sender: Connection) -> None:
    try:
        data = work()
    except BaseException:
        data = b""
    sender.send_bytes(data)
    sender.close()
