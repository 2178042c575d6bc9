"""Every MT940/MT942 file of the shared corpus against what the mt-940 package itself reads.

The ``.yml`` siblings are pickled ``mt940.models.Transactions`` written by the package's own
test suite (load with ``yaml.unsafe_load``: the corpus is trusted). Some are fragments of a
statement (no ``:20:``, no balance and so no currency); those must be refused with InputError.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconbot.core.domain import Transaction
from reconbot.core.errors import InputError
from reconbot.core.statements import parse_statement
from reconbot.core.statements.common import compact_account, looks_like_iban
from tests.support.paths import REPO

# Collected before fixtures run, so this mirrors the shared_dir fixture's lookup.
MT940_DIR = Path(os.environ.get("RECONBOT_SHARED_DIR", REPO.parent / "shared")) / "corpus" / "mt940"
FILES = sorted(p for p in MT940_DIR.rglob("*") if p.suffix in (".sta", ".txt"))
WITH_YML = [p for p in FILES if p.with_suffix(".yml").exists()]
WITHOUT_YML = [p for p in FILES if not p.with_suffix(".yml").exists()]


def _id(path: Path) -> str:
    return str(path.relative_to(MT940_DIR))


def _squash(text: str) -> str:
    return "".join(text.split())


def _is_whole_statement(expected: Any) -> bool:
    # A statement has a :20: reference, and a currency for each of its transactions.
    return "transaction_reference" in expected.data and all(t.data.get("currency") for t in expected.transactions)


def _statement_level_ns(path: Path) -> set[str]:
    """Return the (squashed) :NS: texts that belong to a statement header, before its first :61:.

    The package, parsing all statements as one, files such a text under the last transaction
    of the previous statement; we parse statements one by one and keep it out.
    """
    text = path.read_bytes().decode("utf-8", "replace").replace("\r", "")
    found = set()
    for block in re.split(r"(?m)^(?=:20:)", text):
        header = re.split(r"(?m)^:61:", block, maxsplit=1)[0]
        for ns in re.findall(r"(?ms)^:NS:(.*?)(?=^:\w+:|\Z)", header):
            found.add(_squash("".join(line[2:] for line in ns.splitlines() if len(line) > 2)))
    return found


def _check(ours: Transaction, data: dict[str, Any], header_ns: set[str]) -> None:
    status = data["status"].upper()
    # C and RD bring money in, D and RC take it out (the package signs RC positive by default).
    sign = 1 if status in ("C", "RD") else -1
    assert ours.amount == sign * abs(data["amount"].amount)
    assert ours.currency == data["currency"]
    assert ours.value_date == data["date"]
    assert ours.booking_date == (data.get("entry_date") or data["date"])
    bank_ref = (data.get("bank_reference") or "").strip()
    if bank_ref and bank_ref.upper() != "NONREF":
        assert (ours.id, ours.bank_id) == (bank_ref, bank_ref)
    else:
        assert ours.id.startswith("d-")
        assert ours.bank_id == ""

    raw = ours.raw or {}
    full_text = raw.get("details", "")
    # The whole :86: (or :NS:) text is kept, and the reference is taken from it.
    if data.get("transaction_details"):
        assert _squash(data["transaction_details"]) in _squash(full_text)
    if data.get("non_swift_text") and _squash(data["non_swift_text"]) not in header_ns:
        assert _squash(data["non_swift_text"]) in _squash(full_text)
    for line in ours.reference.splitlines():
        assert _squash(line) in _squash(full_text) or line == raw.get("customer_reference")
    if full_text.strip():
        assert ours.reference
    if data.get("purpose"):
        assert _squash(data["purpose"]) in _squash(ours.reference)

    if data.get("applicant_name"):
        # The package joins ?32 and ?33 without a space; we add one when ?32 ended before its width.
        assert _squash(ours.counterparty_name) == _squash(data["applicant_name"])
    their_iban = compact_account(data.get("applicant_iban") or "")
    tilde_38 = re.search(r"[?~<>+]38([A-Z]{2}\d{2}[A-Z0-9]{11,30})", "".join(full_text.splitlines()))
    mbank = re.search(r"(?:Z|NA) RACH\.:\s*([\d\s]+);", full_text)
    # Only an IBAN-shaped account is a counterparty IBAN; ~38/?38 (IBAN) wins over ?31 (account);
    # mBank names it after "Z RACH.:" (from) or "NA RACH.:" (to).
    expected_iban = tilde_38.group(1) if tilde_38 else (their_iban if looks_like_iban(their_iban) else "")
    if mbank:
        expected_iban = compact_account(mbank.group(1))
    assert ours.counterparty_iban == expected_iban
    end_to_end = (data.get("end_to_end_reference") or "").strip()
    assert ours.end_to_end_id == ("" if end_to_end.upper() == "NOTPROVIDED" else end_to_end)


@pytest.mark.parametrize("path", WITH_YML, ids=_id)
def test_corpus_file_matches_the_mt940_package(path: Path, shared_dir: Path) -> None:
    expected = yaml.unsafe_load(path.with_suffix(".yml").read_text(encoding="utf-8"))
    if not _is_whole_statement(expected):
        with pytest.raises(InputError) as caught:
            parse_statement(path)
        assert caught.value.source == path.name
        assert caught.value.location and caught.value.reason
        return
    statement = parse_statement(path)
    assert statement.format in ("mt940", "mt942")
    assert len(statement.transactions) == len(expected.transactions)
    header_ns = _statement_level_ns(path)
    for ours, theirs in zip(statement.transactions, expected.transactions, strict=True):
        _check(ours, theirs.data, header_ns)
    single_statement = path.read_bytes().count(b":20:") == 1
    account = str(expected.data.get("account_identification") or "")
    if single_statement and looks_like_iban(account):
        assert {t.account_iban for t in statement.transactions} <= {account}


@pytest.mark.parametrize("path", WITHOUT_YML, ids=_id)
def test_corpus_file_without_expectations_parses_or_is_refused(path: Path, shared_dir: Path) -> None:
    try:
        statement = parse_statement(path)
    except InputError as exc:
        assert exc.source == path.name
        return
    assert all(t.id and t.currency for t in statement.transactions)


def test_the_corpus_is_there(shared_dir: Path) -> None:
    # Guards the parametrisation above from silently shrinking.
    assert len(WITH_YML) >= 50
    assert len(WITHOUT_YML) >= 3


def test_asn_bank_long_customer_reference_is_read(shared_dir: Path) -> None:
    statement = parse_statement(shared_dir / "corpus/mt940/ASNB/mt940.txt")
    first = statement.transactions[0]
    assert first.amount == -65
    assert first.account_iban == "NL81ASNB9999999999"
    assert first.reference == "NL47INGB9999999999 hr gjlm paulissen\nBetaling sieraden"


def test_mbank_tokens_give_name_account_and_title(shared_dir: Path) -> None:
    statement = parse_statement(shared_dir / "corpus/mt940/mBank/with_newline_in_tnr.sta")
    first = statement.transactions[0]
    assert first.counterparty_name == "AAAAAA AAAAAA"
    assert first.counterparty_iban == "00000000000000000000000000"
    assert first.reference == "_FAKTURA VAT NR FVD-0000/02/2017  A\nAAAAA AAAAAA UL. AAAAAAAAAAA 220/22"
    assert (first.raw or {})["tnr"] == "179301073837502.000001"
    assert first.account_iban == "PL29114010810000267002001002"


def test_mt942_is_named_as_such(shared_dir: Path) -> None:
    assert parse_statement(shared_dir / "corpus/mt940/mBank/mt942.sta").format == "mt942"
    assert parse_statement(shared_dir / "corpus/mt940/mBank/mt940.sta").format == "mt940"


def test_cp852_hungarian_file_is_decoded(shared_dir: Path) -> None:
    statement = parse_statement(shared_dir / "corpus/mt940/self-provided/raiffeisen-cmi.sta")
    assert "UV, napi összevont utánvét" in statement.transactions[0].reference
