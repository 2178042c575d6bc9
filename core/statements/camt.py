"""ISO 20022 camt.052 (intraday report), camt.053 (statement) and camt.054 (notification), every version.

Element names are matched without their namespace, so .001.01 to .001.13 all take the same path;
the differences that matter (``Sts`` text or ``Sts/Cd``, ``Dbtr/Nm`` or ``Dbtr/Pty/Nm``) are
handled where they occur.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from lxml import etree

from reconbot.core.domain import Transaction
from reconbot.core.errors import InputError
from reconbot.core.money import is_currency, parse_dot_amount
from reconbot.core.statements.common import compact_account, iso_date, join_lines
from reconbot.core.statements.identity import with_ids
from reconbot.core.statements.model import Statement

# Message element (without the V01-style suffix of .001.01) → format name and record element.
_MESSAGES = {
    "BkToCstmrAcctRpt": ("camt.052", "Rpt", "report"),
    "BkToCstmrStmt": ("camt.053", "Stmt", "statement"),
    "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn", "notification"),
}
CAMT_FORMATS = ("camt.052", "camt.053", "camt.054")


def _parser() -> etree.XMLParser:
    # Entity expansion and network access are off: a statement file must never make us fetch
    # anything or blow up memory ("billion laughs"). A parser per call: lxml parsers are not
    # safe to share between threads.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True, remove_pis=True
    )


def parse_camt(data: bytes, source: str, expected: str) -> Statement:
    """Return the booked transactions of a camt.052/053/054 document.

    ``expected`` is the list of supported formats, quoted when the XML is not camt at all.
    Raises InputError for malformed XML, a missing mandatory element or a bad value.
    """
    # Some exports put blank lines before the XML declaration, which XML forbids. Moving them
    # behind the declaration keeps every later line number where it was.
    moved = re.match(rb"(\xef\xbb\xbf)?(\s+)(<\?xml[^>]*\?>)", data)
    if moved:
        data = (moved.group(1) or b"") + moved.group(3) + moved.group(2) + data[moved.end() :]
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise InputError(source, f"line {exc.lineno}", f"malformed XML: {exc.msg}") from None
    if root is None:
        raise InputError(source, "line 1", "malformed XML: no root element")
    namespace = etree.QName(root).namespace or ""
    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = etree.QName(el).localname
    message = root if root.tag.startswith("BkToCstmr") else next(iter(root), None)
    kind = _message_kind(message)
    if message is None or kind is None:
        found = f"root element {root.tag}" + (f" in namespace {namespace}" if namespace else "")
        raise InputError(source, f"line {root.sourceline}", f"XML, but not a camt document ({found}); {expected}")
    fmt, record_tag, record_name = kind
    records = message.findall(record_tag)
    if not records:
        raise InputError(
            source,
            f"line {message.sourceline}, {message.tag}",
            f"no {record_tag} element: a {fmt} document must contain at least one {record_name}",
        )
    reader = _Reader(source, message.findtext("GrpHdr/CreDtTm") or "")
    transactions = [t for record in records for t in reader.record(record)]
    return Statement(format=fmt, source=source, transactions=tuple(with_ids(transactions)))


def _message_kind(message: etree._Element | None) -> tuple[str, str, str] | None:
    if message is None:
        return None
    for prefix, kind in _MESSAGES.items():
        if message.tag.startswith(prefix):
            return kind
    return None


def _text(el: etree._Element, path: str) -> str:
    found = el.findtext(path)
    return found.strip() if found else ""


@dataclass
class _Details:
    """What one TxDtls (or an entry without one) says about the other party and the purpose."""

    name: str = ""
    iban: str = ""
    reference: str = ""
    structured: str = ""
    end_to_end: str = ""
    bank_ref: str = ""


class _Reader:
    """Turns the entries of one file into transactions; counts entries across statements for messages."""

    def __init__(self, source: str, header_created: str) -> None:
        self.source = source
        self.header_created = header_created
        self.entry_no = 0

    def fail(self, el: etree._Element, path: str, reason: str) -> InputError:
        return InputError(self.source, f"line {el.sourceline}, Ntry {self.entry_no}/{path}", reason)

    def record(self, record: etree._Element) -> Iterator[Transaction]:
        account = _account(record, "Acct")
        # Some reports omit BookgDt; the record's (or message's) creation date is the best
        # stand-in for "when the bank reported it booked".
        created = _text(record, "CreDtTm") or self.header_created
        for entry in record.findall("Ntry"):
            self.entry_no += 1
            yield from self.entry(entry, record, compact_account(account), created)

    def entry(self, entry: etree._Element, record: etree._Element, account: str, created: str) -> Iterator[Transaction]:
        status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
        if status and status != "BOOK":
            # PDNG (pending), INFO and FUTR entries can still change or vanish; importing them
            # would let an invoice be marked paid by money that never arrives.
            return
        booked = self.amount(entry, "Amt")
        if booked is None:
            raise self.fail(entry, "Amt", "missing mandatory element Amt")
        amount, currency = booked
        credit = self.credit(entry)
        # A reversal (RvslInd=true) undoes an earlier booking: a reversed credit takes money
        # out again, so the sign is the opposite of what CdtDbtInd says.
        reversal = _text(entry, "RvslInd").lower() in ("true", "1")
        value_date = self.date_at(entry, "ValDt")
        # Some camt.052/054 leave BookgDt out; the value date, else the report's creation date, is
        # the closest to "when the bank booked it" we can tell.
        booking_date = self.date_at(entry, "BookgDt") or value_date or self.fallback_date(created, entry)
        entry_ref, ntry_ref = _text(entry, "AcctSvcrRef"), _text(entry, "NtryRef")
        raw = {
            "statement": _text(record, "Id"),
            "entry": str(self.entry_no),
            "line": str(entry.sourceline),
            "NtryRef": ntry_ref,
            "AcctSvcrRef": entry_ref,
            "BkTxCd": _bank_code(entry),
            "status": status,
        }
        # What every transaction of this entry shares; the details fill in the rest.
        base = Transaction(
            id="",
            booking_date=booking_date,
            amount=amount,
            currency=currency,
            value_date=value_date,
            account_iban=account,
        )
        fallback_text = _text(entry, "AddtlNtryInf")
        tx_details = entry.findall("NtryDtls/TxDtls")
        amounts = [a for tx in tx_details if (a := self.tx_amount(tx)) is not None]
        if len(tx_details) > 1 and len(amounts) == len(tx_details):
            # A batch booking: each TxDtls is a payment of its own (one invoice each). The sign
            # is the entry's: that is what was booked, and some banks fill TxDtls/CdtDbtInd
            # inconsistently (the camt054.v4 sample has CRDT details in a DBIT batch).
            for index, (tx, tx_amount) in enumerate(zip(tx_details, amounts, strict=True), start=1):
                details = self.details(tx, credit, fallback_text)
                suffix = f"/{index}"
                bank_id = details.bank_ref or (entry_ref + suffix if entry_ref else "")
                tx_id = bank_id or (ntry_ref + suffix if ntry_ref else "")
                tx_raw = {**raw, "TxDtls": f"{index}/{len(tx_details)}"}
                yield _build(base, details, tx_amount, credit != reversal, bank_id, tx_id, tx_raw)
            return
        # One TxDtls, none, or a batch whose details carry no amounts (so it cannot be split):
        # one transaction for the booked entry amount, with what all details say about it.
        details = _merge([self.details(tx, credit, fallback_text) for tx in tx_details]) or _Details(
            reference=fallback_text
        )
        bank_id = details.bank_ref or entry_ref
        yield _build(base, details, (amount, currency), credit != reversal, bank_id, bank_id or ntry_ref, raw)

    def amount(self, el: etree._Element, path: str) -> tuple[Decimal, str] | None:
        """Return the unsigned amount and currency at ``path``, None when absent; raises InputError if bad."""
        node = el.find(path)
        if node is None:
            return None
        try:
            value = parse_dot_amount(node.text or "")
        except ValueError as exc:
            raise self.fail(node, path, str(exc)) from None
        if value < 0:
            raise self.fail(node, path, f"{node.text!r} is negative; camt amounts are unsigned (see CdtDbtInd)")
        currency = (node.get("Ccy") or "").strip()
        if not is_currency(currency):
            raise self.fail(node, f"{path}@Ccy", f"{currency!r} is not an ISO 4217 currency code")
        return value, currency

    def tx_amount(self, tx: etree._Element) -> tuple[Decimal, str] | None:
        return self.amount(tx, "Amt") or self.amount(tx, "AmtDtls/TxAmt/Amt")

    def credit(self, el: etree._Element) -> bool:
        indicator = _text(el, "CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            node = el.find("CdtDbtInd")
            reason = f"{indicator!r} is not CRDT or DBIT" if node is not None else "missing mandatory element"
            raise self.fail(node if node is not None else el, "CdtDbtInd", reason)
        return indicator == "CRDT"

    def date_at(self, el: etree._Element, path: str) -> date | None:
        node = el.find(path)
        if node is None:
            return None
        for child in ("Dt", "DtTm"):
            text = _text(node, child)
            if text:
                try:
                    return iso_date(text)
                except ValueError as exc:
                    raise self.fail(node, f"{path}/{child}", str(exc)) from None
        return None

    def fallback_date(self, created: str, entry: etree._Element) -> date:
        if not created:
            raise self.fail(entry, "BookgDt", "missing BookgDt and ValDt, and no CreDtTm to fall back on")
        try:
            return iso_date(created)
        except ValueError as exc:
            raise self.fail(entry, "BookgDt", f"no BookgDt, and CreDtTm {exc}") from None

    def details(self, tx: etree._Element, credit: bool, entry_text: str) -> _Details:
        # The other party is whoever sent the money in (debtor) or received it (creditor).
        role = "Dbtr" if credit else "Cdtr"
        parties = tx.find("RltdPties")
        name = iban = ""
        if parties is not None:
            name = _party_name(parties, role) or _party_name(parties, "Ultmt" + role)
            iban = _account(parties, f"{role}Acct")
        lines = [line for ustrd in tx.findall("RmtInf/Ustrd") for line in (ustrd.text or "").splitlines()]
        # The creditor's reference, and the numbers of the documents (invoices) the payment refers to.
        structured = dict.fromkeys(
            _text(ref, ".")
            for path in ("RmtInf/Strd/CdtrRefInf/Ref", "RmtInf/Strd/RfrdDocInf/Nb")
            for ref in tx.findall(path)
        )
        end_to_end = _text(tx, "Refs/EndToEndId")
        return _Details(
            name=" ".join(name.split()),
            iban=compact_account(iban),
            reference=join_lines(lines) or _text(tx, "AddtlTxInf") or entry_text,
            structured=join_lines(structured),
            end_to_end="" if end_to_end.upper() == "NOTPROVIDED" else end_to_end,
            bank_ref=_text(tx, "Refs/AcctSvcrRef"),
        )


def _account(el: etree._Element, path: str) -> str:
    # IBAN, else another scheme: Othr/Id, or BBAN / PrtryAcct/Id in .001.01.
    for scheme in ("IBAN", "Othr/Id", "BBAN", "PrtryAcct/Id"):
        number = _text(el, f"{path}/Id/{scheme}")
        if number:
            return number
    return ""


def _party_name(parties: etree._Element, role: str) -> str:
    # .001.08 wrapped the party in Pty (or Agt for a bank); earlier versions have Nm directly.
    for path in ("Nm", "Pty/Nm", "Agt/FinInstnId/Nm", "Agt/FinInstnId/NmAndAdr/Nm"):
        name = _text(parties, f"{role}/{path}")
        if name:
            return name
    return ""


def _bank_code(entry: etree._Element) -> str:
    domain = [_text(entry, p) for p in ("BkTxCd/Domn/Cd", "BkTxCd/Domn/Fmly/Cd", "BkTxCd/Domn/Fmly/SubFmlyCd")]
    return "/".join(p for p in domain if p) or _text(entry, "BkTxCd/Prtry/Cd")


def _merge(all_details: list[_Details]) -> _Details | None:
    """Return one _Details for several TxDtls: texts are concatenated, single values kept only if all agree."""
    if not all_details:
        return None

    def agreed(values: list[str]) -> str:
        return values[0] if len(set(values)) == 1 else ""

    return _Details(
        name=agreed([d.name for d in all_details]),
        iban=agreed([d.iban for d in all_details]),
        reference=join_lines(dict.fromkeys(d.reference for d in all_details)),
        structured=join_lines(dict.fromkeys(d.structured for d in all_details)),
        end_to_end=agreed([d.end_to_end for d in all_details]),
        bank_ref=agreed([d.bank_ref for d in all_details]),
    )


def _build(
    base: Transaction,
    details: _Details,
    amount: tuple[Decimal, str],
    incoming: bool,
    bank_id: str,
    tx_id: str,
    raw: dict[str, str],
) -> Transaction:
    value, currency = amount
    return replace(
        base,
        id=tx_id,
        amount=value if incoming or not value else -value,
        currency=currency,
        counterparty_name=details.name,
        counterparty_iban=details.iban,
        reference=details.reference,
        end_to_end_id=details.end_to_end,
        structured_reference=details.structured,
        bank_id=bank_id,
        raw={k: v for k, v in raw.items() if v},
    )
