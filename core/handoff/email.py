"""The e-mail receiver: each document mailed to the accountant over SMTP, with CSVs attached.

An invoice's mail carries its archived PDF (when the archive has one), its summary as CSV and the
CSV of its settlements. The ``Message-ID`` is derived from the
document's idempotency key, so a copy sent again after a crash is recognisably the same message.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

from reconbot.core.errors import ProviderError
from reconbot.core.handoff.model import Document, file_name
from reconbot.core.handoff.receiver import Receiver, ReceiverContext, check_settings

_TITLES = {"invoice": "Invoice", "advance": "Advance invoice", "settlement": "Payment of invoice"}


class EmailReceiver(Receiver):
    kind = "email"
    required = ("host", "port", "sender", "to")
    secret_fields = ("password",)

    def __init__(self, settings: Mapping[str, str], port: int, context: ReceiverContext) -> None:
        self.host, self.port = settings["host"].strip(), port
        self.user, self._password = settings.get("user", ""), settings.get("password", "")
        self.sender, self.to = settings["sender"].strip(), [a.strip() for a in settings["to"].split(",") if a.strip()]
        self.starttls = settings.get("starttls", "yes") == "yes"
        self._timeout = context.timeout_seconds

    @classmethod
    def from_settings(cls, settings: Mapping[str, str], context: ReceiverContext) -> EmailReceiver:
        check_settings(cls.kind, settings, cls.required)
        port = settings["port"].strip()
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ProviderError(f"e-mail receiver: {port!r} is not a port number", permanent=True)
        for address in [settings["sender"], *settings["to"].split(",")]:
            if "@" not in address:
                raise ProviderError(f"e-mail receiver: {address.strip()!r} is not an e-mail address", permanent=True)
        return cls(settings, int(port), context)

    def message(self, document: Document) -> EmailMessage:
        """Return the mail of ``document``: subject and text naming it, the CSVs attached."""
        invoice = document.invoice
        message = EmailMessage()
        message["From"], message["To"] = self.sender, ", ".join(self.to)
        message["Subject"] = f"{_TITLES[document.kind]} {invoice.number} ({document.workspace_name})"
        message["Date"] = formatdate(localtime=False)
        domain = self.sender.rpartition("@")[2] or "reconbot"
        message["Message-ID"] = f"<{document.idempotency_key}@{domain}>"
        lines = [f"{_TITLES[document.kind]} {invoice.number}, {invoice.partner_name}, issued {invoice.issue_date}, "
                 f"{invoice.gross} {invoice.currency}."]  # fmt: skip
        if document.settlement is not None:
            paid = document.settlement
            lines.append(f"Paid {paid.amount} {paid.currency} on {paid.paid_on} by {paid.payer or 'unknown payer'}.")
        else:
            pdf = "the invoice (PDF), " if document.pdf is not None else ""
            lines.append(f"Attached: {pdf}the invoice's details and its settlements so far (CSV).")
        lines.append(f"Reference: {document.idempotency_key}")
        message.set_content("\n".join(lines) + "\n")
        name = file_name(invoice.number)
        if document.settlement is None:
            if document.pdf is not None:
                message.add_attachment(document.pdf, maintype="application", subtype="pdf", filename=f"{name}.pdf")
            message.add_attachment(document.invoice_csv().encode(), maintype="text", subtype="csv",
                                   filename=f"{name}.csv")  # fmt: skip
        message.add_attachment(document.settlements_csv().encode(), maintype="text", subtype="csv",
                               filename=f"{name}-settlements.csv")  # fmt: skip
        return message

    async def send(self, document: Document) -> str:
        message = self.message(document)
        return await asyncio.to_thread(self._deliver, message)

    def _deliver(self, message: EmailMessage) -> str:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self._timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.user:
                    smtp.login(self.user, self._password)
                code, reply = smtp.mail(self.sender)
                if code != 250:
                    raise smtplib.SMTPSenderRefused(code, reply, self.sender)
                for address in self.to:
                    code, reply = smtp.rcpt(address)
                    if code not in (250, 251):
                        raise smtplib.SMTPRecipientsRefused({address: (code, reply)})
                code, reply = smtp.data(message.as_bytes(policy=policy.SMTP))  # CRLF line ends, as SMTP wants
                if code != 250:
                    raise smtplib.SMTPDataError(code, reply)
                return f"SMTP {code} {reply.decode(errors='replace')}".strip()
        except smtplib.SMTPAuthenticationError:
            raise ProviderError("e-mail receiver: the SMTP server refused the user name or password",
                                permanent=True) from None  # fmt: skip
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise ProviderError(f"e-mail receiver: recipient refused ({', '.join(exc.recipients)})",
                                permanent=all(code >= 500 for code in codes)) from None  # fmt: skip
        except smtplib.SMTPResponseException as exc:
            error: bytes | str = exc.smtp_error
            said = error.decode(errors="replace") if isinstance(error, bytes) else error
            raise ProviderError(f"e-mail receiver: SMTP {exc.smtp_code} {said}",
                                permanent=exc.smtp_code >= 500) from None  # fmt: skip
        except (OSError, smtplib.SMTPException) as exc:
            problem = f"cannot reach {self.host}:{self.port} ({type(exc).__name__})"
            raise ProviderError(f"e-mail receiver: {problem}") from None
