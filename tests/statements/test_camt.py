"""camt.05x cases the corpus does not cover: reversals, batch ids, party variants, bad input."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from reconbot.core.errors import InputError
from reconbot.core.statements import Statement, parse_statement

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
ACCOUNT = "HU42117730161111101800000000"


def document(entries: str, ns: str = NS, message: str = "BkToCstmrStmt", record: str = "Stmt") -> bytes:
    xmlns = f' xmlns="{ns}"' if ns else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document{xmlns}>
  <{message}>
    <GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-03-01T10:00:00</CreDtTm></GrpHdr>
    <{record}>
      <Id>S1</Id>
      <CreDtTm>2024-03-02T10:00:00+01:00</CreDtTm>
      <Acct><Id><IBAN>{ACCOUNT}</IBAN></Id></Acct>
{entries}
    </{record}>
  </{message}>
</Document>
""".encode()


def entry(
    amount: str = "100.00",
    currency: str = "HUF",
    indicator: str = "CRDT",
    status: str = "<Sts><Cd>BOOK</Cd></Sts>",
    dates: str = "<BookgDt><Dt>2024-03-01</Dt></BookgDt><ValDt><Dt>2024-03-02</Dt></ValDt>",
    refs: str = "",
    details: str = "",
    extra: str = "",
) -> str:
    return f"""      <Ntry>
        <Amt Ccy="{currency}">{amount}</Amt>
        <CdtDbtInd>{indicator}</CdtDbtInd>
        {extra}
        {status}
        {dates}
        {refs}
        <NtryDtls>{details}</NtryDtls>
      </Ntry>"""


def parse(data: bytes) -> Statement:
    return parse_statement(Path("stmt.xml"), data)


def failure(data: bytes) -> InputError:
    with pytest.raises(InputError) as caught:
        parse(data)
    assert caught.value.source == "stmt.xml"
    return caught.value


def test_credit_and_debit_are_signed_and_dates_read() -> None:
    data = document(entry("1250.5", indicator="CRDT") + entry("99", indicator="DBIT"))
    first, second = parse(data).transactions
    assert (first.amount, second.amount) == (Decimal("1250.5"), Decimal("-99"))
    assert (first.booking_date, first.value_date) == (date(2024, 3, 1), date(2024, 3, 2))
    assert first.account_iban == ACCOUNT


def test_reversal_flips_the_sign() -> None:
    reversed_credit = entry("10.00", indicator="CRDT", extra="<RvslInd>true</RvslInd>")
    reversed_debit = entry("10.00", indicator="DBIT", extra="<RvslInd>true</RvslInd>")
    amounts = [t.amount for t in parse(document(reversed_credit + reversed_debit)).transactions]
    assert amounts == [Decimal("-10.00"), Decimal("10.00")]


def test_only_booked_entries_and_entries_without_status_are_imported() -> None:
    entries = (
        entry("1", status="<Sts><Cd>PDNG</Cd></Sts>")
        + entry("2", status="<Sts><Cd>INFO</Cd></Sts>")
        + entry("3", status="<Sts>BOOK</Sts>")
        + entry("4", status="")
    )
    assert [t.amount for t in parse(document(entries)).transactions] == [3, 4]


def test_date_time_and_missing_booking_date() -> None:
    with_time = entry(dates="<BookgDt><DtTm>2024-03-01T23:30:00+01:00</DtTm></BookgDt>")
    value_only = entry(dates="<ValDt><DtTm>2024-03-05T08:00:00</DtTm></ValDt>")
    neither = entry(dates="")
    got = [(t.booking_date, t.value_date) for t in parse(document(with_time + value_only + neither)).transactions]
    # Without BookgDt the value date stands in, then the statement's creation date.
    assert got == [(date(2024, 3, 1), None), (date(2024, 3, 5), date(2024, 3, 5)), (date(2024, 3, 2), None)]


BATCH = """
<TxDtls><Refs><AcctSvcrRef>{r1}</AcctSvcrRef><EndToEndId>E1</EndToEndId></Refs>
  <Amt Ccy="EUR">30.00</Amt>
  <RltdPties><Dbtr><Pty><Nm>Alpha Kft.</Nm></Pty></Dbtr>
    <DbtrAcct><Id><IBAN>HU93116000060000000012345676</IBAN></Id></DbtrAcct></RltdPties>
  <RmtInf><Ustrd>SZLA-2024-</Ustrd><Ustrd>0042</Ustrd></RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
  <AmtDtls><TxAmt><Amt Ccy="EUR">70.00</Amt></TxAmt></AmtDtls>
  <RltdPties><UltmtDbtr><Nm>Beta Zrt.</Nm></UltmtDbtr></RltdPties>
  <RmtInf><Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf>
  <AddtlTxInf>Batch part two</AddtlTxInf></TxDtls>
"""


def test_batch_booking_becomes_one_transaction_per_detail() -> None:
    refs = "<AcctSvcrRef>BANK-1</AcctSvcrRef>"
    data = document(entry("100.00", "EUR", refs=refs, details=BATCH.format(r1="TX-A")))
    first, second = parse(data).transactions
    assert (first.amount, second.amount) == (Decimal("30.00"), Decimal("70.00"))
    # TxDtls-level AcctSvcrRef first; the entry's with /n when a detail has none.
    assert (first.id, first.bank_id) == ("TX-A", "TX-A")
    assert (second.id, second.bank_id) == ("BANK-1/2", "BANK-1/2")
    assert first.counterparty_name == "Alpha Kft."
    assert first.counterparty_iban == "HU93116000060000000012345676"
    assert first.reference == "SZLA-2024-\n0042"
    assert first.end_to_end_id == "E1"
    # The ultimate debtor stands in for a missing debtor; no Ustrd → AddtlTxInf.
    assert (second.counterparty_name, second.counterparty_iban) == ("Beta Zrt.", "")
    assert second.reference == "Batch part two"
    assert second.structured_reference == "RF18539007547034"
    assert second.end_to_end_id == ""
    assert first.raw == {
        "statement": "S1",
        "entry": "1",
        "line": "9",
        "AcctSvcrRef": "BANK-1",
        "status": "BOOK",
        "TxDtls": "1/2",
    }
    json.dumps(first.raw)  # small and serialisable


def test_batch_ids_fall_back_to_entry_reference_but_bank_id_stays_empty() -> None:
    data = document(entry("100.00", "EUR", refs="<NtryRef>7</NtryRef>", details=BATCH.format(r1="")))
    first, second = parse(data).transactions
    assert (first.id, second.id) == ("7/1", "7/2")
    assert (first.bank_id, second.bank_id) == ("", "")


def test_debit_counterparty_is_the_creditor_and_agent_names_count() -> None:
    details = """<TxDtls><RltdPties>
      <Dbtr><Nm>Us</Nm></Dbtr>
      <Cdtr><Agt><FinInstnId><Nm>Tax Office</Nm></FinInstnId></Agt></Cdtr>
      <CdtrAcct><Id><Othr><Id>10032000-01012345</Id></Othr></Id></CdtrAcct>
    </RltdPties><AddtlTxInf>no Ustrd here</AddtlTxInf></TxDtls>"""
    (only,) = parse(document(entry(indicator="DBIT", details=details))).transactions
    assert (only.counterparty_name, only.counterparty_iban) == ("Tax Office", "1003200001012345")
    assert only.reference == "no Ustrd here"
    assert only.id.startswith("d-") and only.bank_id == ""


def test_entry_text_is_the_reference_when_nothing_else() -> None:
    (only,) = parse(document(entry(extra="<AddtlNtryInf>Card payment</AddtlNtryInf>"))).transactions
    assert only.reference == "Card payment"


@pytest.mark.parametrize(
    ("ns", "message", "record", "fmt"),
    [
        ("", "BkToCstmrStmt", "Stmt", "camt.053"),
        ("urn:iso:std:iso:20022:tech:xsd:camt.053.001.13", "BkToCstmrStmt", "Stmt", "camt.053"),
        ("urn:iso:std:iso:20022:tech:xsd:camt.052.001.02", "BkToCstmrAcctRpt", "Rpt", "camt.052"),
        ("urn:iso:std:iso:20022:tech:xsd:camt.054.001.04", "BkToCstmrDbtCdtNtfctn", "Ntfctn", "camt.054"),
    ],
)
def test_namespace_and_version_do_not_matter(ns: str, message: str, record: str, fmt: str) -> None:
    statement = parse(document(entry(), ns=ns, message=message, record=record))
    assert statement.format == fmt
    assert len(statement.transactions) == 1


def test_malformed_xml_names_the_line() -> None:
    error = failure(document(entry()).replace(b"</Ntry>", b"</Ntri>"))
    assert error.location == "line 17"
    assert error.reason.startswith("malformed XML")


def test_missing_amount_names_the_element() -> None:
    error = failure(document(entry()).replace(b'<Amt Ccy="HUF">100.00</Amt>', b""))
    assert error.location == "line 9, Ntry 1/Amt"
    assert error.reason == "missing mandatory element Amt"


def test_bad_amount_names_line_and_value() -> None:
    error = failure(document(entry() + entry("12,50")))
    assert error.location == "line 18, Ntry 2/Amt"
    assert "'12,50'" in error.reason


def test_negative_amount_is_refused() -> None:
    error = failure(document(entry("-5.00")))
    assert error.location == "line 10, Ntry 1/Amt"
    assert "negative" in error.reason


def test_unknown_currency() -> None:
    error = failure(document(entry(currency="HUX")))
    assert error.location == "line 10, Ntry 1/Amt@Ccy"
    assert error.reason == "'HUX' is not an ISO 4217 currency code"


def test_bad_date() -> None:
    error = failure(document(entry(dates="<BookgDt><Dt>2024-02-30</Dt></BookgDt>")))
    assert error.location == "line 14, Ntry 1/BookgDt/Dt"
    assert "'2024-02-30' is not a date" in error.reason


def test_bad_or_missing_credit_debit_indicator() -> None:
    assert failure(document(entry(indicator="CRED"))).reason == "'CRED' is not CRDT or DBIT"
    error = failure(document(entry()).replace(b"<CdtDbtInd>CRDT</CdtDbtInd>", b""))
    assert (error.location, error.reason) == ("line 9, Ntry 1/CdtDbtInd", "missing mandatory element")


def test_xml_that_is_not_camt_lists_the_expected_formats() -> None:
    error = failure(b"<?xml version='1.0'?>\n<Invoice xmlns='urn:x'><Id>1</Id></Invoice>")
    assert error.location == "line 2"
    assert "not a camt document (root element Invoice in namespace urn:x)" in error.reason
    assert "MT940" in error.reason and "OTP XLSX" in error.reason


def test_entities_are_not_expanded() -> None:
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr/>
<Stmt><Id>&b;</Id></Stmt></BkToCstmrStmt></Document>"""
    assert parse(bomb).transactions == ()


def test_empty_statement_is_fine() -> None:
    assert parse(document("")).transactions == ()


def test_referred_document_numbers_join_the_structured_reference() -> None:
    details = """<TxDtls><RmtInf>
        <Strd><RfrdDocInf><Nb>E-KERT-2025-1</Nb></RfrdDocInf></Strd>
        <Strd><RfrdDocInf><Nb>E-KERT-2025-2</Nb></RfrdDocInf><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd>
      </RmtInf></TxDtls>"""
    [tx] = parse(document(entry(details=details))).transactions
    assert tx.structured_reference.split("\n") == ["RF18539007547034", "E-KERT-2025-1", "E-KERT-2025-2"]
