"""The archive service on SQLite and PostgreSQL: versions, search inside PDFs, approval, tampering, downloads."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.archive.storage import LocalDiskStorage
from reconbot.core.domain import InvoiceKind
from reconbot.core.errors import InputError, ReconciliationError
from reconbot.core.persistence.archive_tables import ArchivedDocumentRecord, ArchiveState
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import AuditEventRecord
from reconbot.core.services.archive.access import ArchiveTamperedError, download, downloads, verify_all
from reconbot.core.services.archive.filing import approve, archive_pdf, awaiting_approval, history, reject
from reconbot.core.services.archive.rules import archive_rules, set_archive_rules
from reconbot.core.services.archive.search import search
from reconbot.core.services.workspaces import ensure_workspace
from tests.fakes.pdf import pdf_with_text as make_pdf
from tests.support.archive import NOW, Books


def actions(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEventRecord.action).order_by(col(AuditEventRecord.id))).all())


def found(engine: Engine, books: Books, query: str) -> list[str]:
    return [hit.number for hit in search(engine, books.workspace_id, query)]


def test_search_finds_an_invoice_by_a_word_only_in_its_pdf(engine: Engine, books: Books,
                                                           storage: LocalDiskStorage) -> None:  # fmt: skip
    paid = books.invoice("E-KERT-2026-7", partner="Zöld Kert Bt.")
    other = books.invoice("E-KERT-2026-8", partner="Fekete Bt.", gross="38100")
    transaction = books.payment(paid, "127000")
    pdf = make_pdf("SZAMLA E-KERT-2026-7", "Sovenynyiras es gyepszellozes, marcius")
    result = archive_pdf(engine, storage, books.workspace_id, paid, pdf, source="fetched", actor="billingo", now=NOW)
    archive_pdf(engine, storage, books.workspace_id, other, make_pdf("Fakivagas"), source="upload", actor="cli:anna",
                now=NOW)  # fmt: skip
    assert result.created and result.document.state == ArchiveState.ARCHIVED and result.document.version == 1

    [hit] = search(engine, books.workspace_id, "gyepszellozes")
    assert (hit.number, hit.partner_name, hit.version) == ("E-KERT-2026-7", "Zöld Kert Bt.", 1)
    assert hit.transaction_ids == (transaction,)
    assert found(engine, books, "GYEPSZELLOZES marcius") == ["E-KERT-2026-7"]  # every word, any case
    assert found(engine, books, "gyepszellozes fakivagas") == []
    assert found(engine, books, "E-KERT-2026-8") == ["E-KERT-2026-8"]  # the number, from the invoice
    assert found(engine, books, "Fekete") == ["E-KERT-2026-8"]  # the partner
    assert found(engine, books, "38100") == ["E-KERT-2026-8"]  # the amount
    assert found(engine, books, "2026-03-01") == ["E-KERT-2026-8", "E-KERT-2026-7"]  # the date; newest first
    assert found(engine, books, 'NEAR( "OR -') == []  # search syntax is read as words
    with session_scope(engine) as session:
        stranger = ensure_workspace(session, "masik", name="Másik Kft.")
    assert stranger.id is not None and search(engine, stranger.id, "gyepszellozes") == []


def test_a_new_version_keeps_the_old_and_identical_bytes_make_none(engine: Engine, books: Books,
                                                                  storage: LocalDiskStorage) -> None:  # fmt: skip
    invoice = books.invoice("E-KERT-2026-9")
    first, second = make_pdf("Eredeti szoveg tavasz"), make_pdf("Javitott szoveg nyar")
    archive_pdf(engine, storage, books.workspace_id, invoice, first, source="fetched", actor="billingo", now=NOW)
    again = archive_pdf(engine, storage, books.workspace_id, invoice, first, source="upload", actor="cli:anna", now=NOW)
    assert not again.created and again.document.version == 1
    newer = archive_pdf(engine, storage, books.workspace_id, invoice, second, source="webhook", actor="own", now=NOW)
    assert newer.created and newer.document.version == 2

    versions = history(engine, books.workspace_id, invoice)
    assert [(v.version, v.source.value, v.state) for v in versions] == [
        (1, "fetched", ArchiveState.ARCHIVED), (2, "webhook", ArchiveState.ARCHIVED)]  # fmt: skip
    assert download(engine, storage, books.workspace_id, versions[0].id, actor="cli:anna", now=NOW) == first
    # Only the latest archived version is searched.
    assert found(engine, books, "tavasz") == [] and found(engine, books, "nyar") == ["E-KERT-2026-9"]
    assert actions(engine) == ["archive.stored", "archive.stored"]


def test_a_proforma_waits_for_approval_and_is_searched_once_approved(
    engine: Engine, books: Books, storage: LocalDiskStorage
) -> None:
    proforma = books.invoice("D-KERT-2026-3", kind=InvoiceKind.PROFORMA)
    result = archive_pdf(engine, storage, books.workspace_id, proforma, make_pdf("Dijbekero kerttervezes"),
                         source="fetched", actor="billingo", now=NOW)  # fmt: skip
    assert result.document.state == ArchiveState.AWAITING_APPROVAL
    assert [d.id for d in awaiting_approval(engine, books.workspace_id)] == [result.document.id]
    assert found(engine, books, "kerttervezes") == []

    approved = approve(engine, books.workspace_id, result.document.id, actor="panel:1", now=NOW)
    assert (approved.state, approved.decided_by) == (ArchiveState.ARCHIVED, "panel:1")
    assert found(engine, books, "kerttervezes") == ["D-KERT-2026-3"]
    with pytest.raises(ReconciliationError, match="is archived, not waiting for approval"):
        approve(engine, books.workspace_id, result.document.id, actor="panel:1", now=NOW)

    second = archive_pdf(engine, storage, books.workspace_id, proforma, make_pdf("Dijbekero masodik"),
                         source="fetched", actor="billingo", now=NOW)  # fmt: skip
    rejected = reject(engine, books.workspace_id, second.document.id, actor="panel:1", now=NOW)
    assert rejected.state == ArchiveState.REJECTED
    assert found(engine, books, "masodik") == [] and found(engine, books, "kerttervezes") == ["D-KERT-2026-3"]
    assert actions(engine) == ["archive.stored", "archive.approved", "archive.stored", "archive.rejected"]


def test_rules_choose_what_is_archived_at_once(engine: Engine, books: Books, storage: LocalDiskStorage) -> None:
    assert archive_rules(engine, books.workspace_id) == {InvoiceKind.INVOICE, InvoiceKind.ADVANCE,
                                                         InvoiceKind.CREDIT_NOTE}  # fmt: skip
    set_archive_rules(engine, books.workspace_id, ["invoice", "proforma"], actor="panel:1", now=NOW)
    advance = books.invoice("E-ELO-2026-1", kind=InvoiceKind.ADVANCE)
    proforma = books.invoice("D-KERT-2026-4", kind=InvoiceKind.PROFORMA)
    waits = archive_pdf(engine, storage, books.workspace_id, advance, make_pdf("Eloleg"), source="fetched",
                        actor="billingo", now=NOW)  # fmt: skip
    at_once = archive_pdf(engine, storage, books.workspace_id, proforma, make_pdf("Dijbekero"), source="fetched",
                          actor="billingo", now=NOW)  # fmt: skip
    assert (waits.document.state, at_once.document.state) == (ArchiveState.AWAITING_APPROVAL, ArchiveState.ARCHIVED)
    with pytest.raises(ReconciliationError, match="the kinds are"):
        set_archive_rules(engine, books.workspace_id, ["receipt"], actor="panel:1", now=NOW)


def test_tampering_is_detected_on_download_and_by_verify(engine: Engine, books: Books,
                                                         storage: LocalDiskStorage) -> None:  # fmt: skip
    invoice = books.invoice("E-KERT-2026-10")
    pdf = make_pdf("Osszesen 127 000 Ft")
    document = archive_pdf(engine, storage, books.workspace_id, invoice, pdf, source="fetched", actor="billingo",
                           now=NOW).document  # fmt: skip
    assert download(engine, storage, books.workspace_id, document.id, actor="panel:1", now=NOW) == pdf
    assert download(engine, storage, books.workspace_id, document.id, actor="cli:anna", now=NOW) == pdf
    assert [(d.actor, d.at) for d in downloads(engine, books.workspace_id, document.id)] == [
        ("panel:1", NOW), ("cli:anna", NOW)]  # fmt: skip
    assert verify_all(engine, storage, books.workspace_id, actor="cli:anna").problems == []

    path = storage.path(f"{books.workspace_id}/{document.sha256}")
    os.chmod(path, 0o644)
    path.write_bytes(pdf.replace(b"127 000", b"27 000 "))  # same size, other bytes
    with pytest.raises(ArchiveTamperedError, match="the stored file was changed"):
        download(engine, storage, books.workspace_id, document.id, actor="panel:1", now=NOW)
    assert len(downloads(engine, books.workspace_id, document.id)) == 2  # the refused one handed nothing out
    report = verify_all(engine, storage, books.workspace_id, actor="cli:anna")
    assert report.checked == 1 and [(d.id, p.split(" (")[0]) for d, p in report.problems] == [
        (document.id, "the stored file was changed")]  # fmt: skip
    path.unlink()
    [(_, missing)] = verify_all(engine, storage, books.workspace_id, actor="cli:anna").problems
    assert "is missing" in missing
    assert actions(engine) == ["archive.stored", "archive.tampered", "archive.tampered", "archive.tampered"]


def test_bad_input_stores_nothing(engine: Engine, books: Books, storage: LocalDiskStorage) -> None:
    invoice = books.invoice("E-KERT-2026-11")
    with pytest.raises(InputError, match="is not a PDF"):
        archive_pdf(engine, storage, books.workspace_id, invoice, b"hello", source="upload", actor="cli:anna",
                    now=NOW)  # fmt: skip
    with pytest.raises(InputError, match="is not a readable PDF"):
        archive_pdf(engine, storage, books.workspace_id, invoice, b"%PDF-1.4\n broken", source="upload",
                    actor="cli:anna", now=NOW)  # fmt: skip
    with pytest.raises(ReconciliationError, match="there is no invoice"):
        archive_pdf(engine, storage, books.workspace_id + 1, invoice, make_pdf("x"), source="upload",
                    actor="cli:anna", now=NOW)  # fmt: skip
    with Session(engine) as session:
        assert session.exec(select(ArchivedDocumentRecord)).all() == []
    assert not storage.root.exists() or not any(p.is_file() for p in storage.root.rglob("*"))
