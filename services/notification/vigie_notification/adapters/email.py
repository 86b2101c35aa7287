"""The e-mail channel: SMTP, with STARTTLS and authentication when configured.

Each message carries a ``Message-ID`` made from the notification id, the same on every retry,
so that a message sent twice after an ambiguous failure is recognised as one by its receiver.
"""

import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from uuid import UUID

import aiosmtplib
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ..domain.messages import Message
from .webhook import SendResult

tracer = trace.get_tracer(__name__)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    sender: str
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    timeout_seconds: float = 10.0


def compose(notification_id: UUID, message: Message, *, sender: str, to: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = formataddr(("Vigie", sender))
    email["To"] = to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = f"<{notification_id}@vigie.sante>"
    email["Content-Language"] = "fr"
    email.set_content(message.text)
    email.add_alternative(message.html, subtype="html")
    return email


class EmailSender:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self._tls = ssl.create_default_context(cafile=server.ca_file) if server.starttls else None

    async def send(self, email: EmailMessage) -> SendResult:
        """Send ``email``, in a client span of its own (no address in it: whom is in the ledger)."""
        with tracer.start_as_current_span(
            "smtp send",
            kind=SpanKind.CLIENT,
            attributes={
                "network.protocol.name": "smtp",
                "server.address": self.server.host,
                "server.port": self.server.port,
                "vigie.email.message_id": str(email["Message-ID"]),
            },
        ) as span:
            result = await self._send(email)
            if not result.delivered:
                span.set_status(Status(StatusCode.ERROR, result.error))
            return result

    async def _send(self, email: EmailMessage) -> SendResult:
        server = self.server
        try:
            await aiosmtplib.send(
                email,
                hostname=server.host,
                port=server.port,
                start_tls=server.starttls,
                tls_context=self._tls,
                username=server.username,
                password=server.password,
                timeout=server.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [r.code for r in refused.recipients]
            return SendResult(
                delivered=False, error=f"recipient refused: {refused}", permanent=all(c >= 500 for c in codes)
            )
        except aiosmtplib.SMTPResponseException as error:
            # 5xx says the message will never be taken as it is; 4xx, try again later.
            return SendResult(
                delivered=False, error=f"SMTP {error.code}: {error.message}"[:500], permanent=error.code >= 500
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            return SendResult(delivered=False, error=f"{type(error).__name__}: {error}"[:500])
        return SendResult(delivered=True)
