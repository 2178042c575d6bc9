"""Stateless reconciliation: the index built on the second core gives the same decisions."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from reconbot.core.errors import InputError
from reconbot.core.services.reconciliation.files import reconcile_files
from tests.support.paths import SAMPLES


def test_index_built_in_a_child_gives_the_same_decisions(monkeypatch: pytest.MonkeyPatch) -> None:
    forked = reconcile_files(SAMPLES / "demo_invoices.csv", [SAMPLES / "demo_statement.xml"])
    monkeypatch.setenv("RECONBOT_NO_FORK", "1")
    inline = reconcile_files(SAMPLES / "demo_invoices.csv", [SAMPLES / "demo_statement.xml"])
    assert forked.results == inline.results
    assert forked.open_after == inline.open_after
    assert sum(len(r.allocations) for r in forked.results) == 8


def test_a_bad_invoice_file_leaves_no_child_behind(tmp_path: Path) -> None:
    bad = tmp_path / "invoices.csv"
    bad.write_text("number,direction\nA-1,issued\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"invoices\.csv: line 1: missing column"):
        reconcile_files(bad, [SAMPLES / "demo_statement.xml"])
    assert multiprocessing.active_children() == []
