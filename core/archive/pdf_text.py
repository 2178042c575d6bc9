"""The text inside a PDF, for the archive's full-text search."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from reconbot.core.errors import InputError

PDF_MAGIC = b"%PDF-"
MAX_PDF_BYTES = 50 * 1024 * 1024  # far above any invoice; keeps one upload from filling the archive
MAX_TEXT_CHARS = 200_000  # what is indexed of one PDF (an invoice is a page or two)


def extract_text(data: bytes, *, name: str = "the PDF") -> str:
    """Return the text of every page of the PDF ``data``, pages separated by newlines, whitespace collapsed
    per line. A PDF without text (a scan) gives "". Raises InputError naming ``name`` when ``data`` is not a
    PDF, too large, or unreadable."""
    if len(data) > MAX_PDF_BYTES:
        raise InputError(name, "", f"is {len(data) // (1024 * 1024)} MB; the archive takes PDFs up to 50 MB")
    if not data.startswith(PDF_MAGIC):
        raise InputError(name, "", "is not a PDF (it does not start with %PDF-)")
    # pypdf logs every quirk of a slightly broken PDF as a warning; the text is what matters here.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputError(name, "", "is a password-protected PDF; archive it without the password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(name, "", f"is not a readable PDF ({type(exc).__name__})") from None
    # Control characters (NUL above all, which PostgreSQL text refuses) carry no words.
    cleaned = ("".join(c if c.isprintable() or c == "\n" else " " for c in page) for page in pages)
    lines = (" ".join(line.split()) for page in cleaned for line in page.splitlines())
    return "\n".join(line for line in lines if line)[:MAX_TEXT_CHARS]
