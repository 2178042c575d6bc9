"""``reconbot invoicing …`` as a user types it, against fake Billingo and Számlázz.hu servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_bank import books  # noqa: F401 - the fixture pointing the commands at the test database
from tests.fakes.billingo import API_KEY, FakeBillingo
from tests.fakes.server import serve_in_thread
from tests.fakes.szamlazz import FakeSzamlazz
from tests.support.cli import run

STATEMENT = (
    "id,booking_date,value_date,amount,currency,counterparty_name,counterparty_iban,reference,end_to_end_id\n"
    "T1,2026-03-02,2026-03-02,50000,HUF,Kovács Kft.,,Díjbekérő DIJ-2026-000001,\n"
)


@pytest.fixture
def billingo(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeBillingo, str]]:
    fake = FakeBillingo()
    with serve_in_thread(fake.app) as url:
        monkeypatch.setenv("RECONBOT_INVOICING_SECRET", API_KEY)
        yield fake, f"{url}/v3"


def test_connect_sync_pair_write_back_and_issue_the_final_invoice(
    books: int,  # noqa: F811
    billingo: tuple[FakeBillingo, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    fake, url = billingo
    proforma = fake.seed_proforma("50000", number="DIJ-2026-000001")
    code, out, _ = run(capsys, "invoicing", "setup", "billingo", "--base-url", url)
    assert code == 0 and "billingo: connected" in out and API_KEY not in out
    code, out, _ = run(capsys, "invoicing", "check", "billingo")
    assert code == 0 and out.startswith("billingo: ")
    code, out, _ = run(capsys, "invoicing", "sync")
    assert code == 0 and "billingo: 1 new, 0 updated" in out, out

    statement = tmp_path / "statement.csv"
    statement.write_text(STATEMENT, encoding="utf-8")
    assert run(capsys, "import", str(statement))[0] == 0
    code, out, _ = run(capsys, "invoicing", "operations")
    assert "pending\tbillingo\tregister_payment\tDIJ-2026-000001\tattempts 0" in out, out
    code, out, _ = run(capsys, "invoicing", "write-back")
    assert code == 0 and "1 write(s) attempted" in out
    assert len(fake.payments[proforma["id"]]) == 1
    assert run(capsys, "invoicing", "operations")[1] == "no writes waiting or failed\n"
    code, out, _ = run(capsys, "invoicing", "operations", "--all")
    assert code == 0 and out == "1\tdone\tbillingo\tregister_payment\tDIJ-2026-000001\tattempts 1\n"

    code, out, _ = run(capsys, "invoicing", "final", "DIJ-2026-000001")
    assert code == 0 and "final invoice of DIJ-2026-000001: " in out and "issued in billingo" in out
    code, again, _ = run(capsys, "invoicing", "final", "DIJ-2026-000001")
    assert code == 0 and again == out
    assert len(fake.calls("POST", f"/documents/{proforma['id']}/create-from-proforma")) == 1

    code, out, err = run(capsys, "invoicing", "list")
    assert "billingo\tlast sync:" in out, err and "writes waiting: 0, failed: 0" in out


def test_a_sale_file_is_invoiced_once_and_a_bad_one_is_refused_with_its_field(
    books: int,  # noqa: F811
    billingo: tuple[FakeBillingo, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    fake, url = billingo
    assert run(capsys, "invoicing", "setup", "billingo", "--base-url", url)[0] == 0
    sale = {"id": "POS-77", "total": "8900", "paid": "8900", "payment_method": "Cash"}
    path = tmp_path / "sale.json"
    path.write_text(json.dumps(sale), encoding="utf-8")

    code, out, _ = run(capsys, "invoicing", "sale", str(path))
    assert code == 0 and "invoice of sale POS-77: " in out, out
    code, out, _ = run(capsys, "invoicing", "sale", str(path))
    assert code == 0 and "has its invoice already" in out
    assert len([d for d in fake.documents.values() if d["type"] == "invoice"]) == 1

    path.write_text(json.dumps({**sale, "id": "POS-78", "payment_method": "Bitcoin"}), encoding="utf-8")
    code, _, err = run(capsys, "invoicing", "sale", str(path))
    assert code == 2 and "sale: payment_method: 'Bitcoin' is not one of" in err


def test_own_system_setup_prints_the_webhook_address_and_secret_once(
    books: int,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "invoicing", "setup", "own")
    assert code == 0 and f"http://127.0.0.1:{books}/hooks/own/default" in out
    secret = out.split("Webhook secret:")[1].split()[0]
    assert len(secret) >= 40
    code, out, _ = run(capsys, "invoicing", "list")
    assert secret not in out and "own\tlast sync: never" in out


def test_szamlazz_setup_prints_its_push_address_and_settings_change(
    books: int,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = FakeSzamlazz(agent_key="agent-key-1")
    with serve_in_thread(fake.app) as url:
        monkeypatch.setenv("RECONBOT_INVOICING_SECRET", "agent-key-1")
        code, out, _ = run(capsys, "invoicing", "setup", "szamlazz", "--base-url", url)
        assert code == 0 and f"http://127.0.0.1:{books}/hooks/szamlazz/default/" in out
        assert run(capsys, "invoicing", "check", "szamlazz")[0] == 0
    code, out, _ = run(capsys, "invoicing", "settings", "--proforma-mode", "auto", "--vat-rate", "5")
    assert code == 0 and "final invoice of a paid proforma: auto" in out
    assert "VAT of sales without items:       5" in out
    code, _, err = run(capsys, "invoicing", "settings", "--vat-rate", "120")
    assert code == 1 and "120 % is not between 0 and 99" in err
