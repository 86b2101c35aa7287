"""The e-mail channel: SMTP, with STARTTLS and authentication when configured.

Sessions stay open between messages, as a mail relay expects from a steady sender.
Each message carries a ``Message-ID`` made from the notification id, the same on every retry,
so that a message sent twice after an ambiguous failure is recognised as one by its receiver.
"""

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
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


def compose(notification_id: UUID, message: Message, *, sender: str, to: str) -> MIMEMultipart:
    """The message as MIME, built with the ``compat32`` classes: the same bytes on the wire as
    the modern ``EmailMessage`` API, several times cheaper to build, which counts when a mass
    campaign has every agency's alert desk written to at once."""
    email = MIMEMultipart("alternative")
    email["From"] = formataddr(("Vigie", sender))
    email["To"] = to
    email["Subject"] = Header(message.subject, "utf-8")  # type: ignore[assignment]
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = f"<{notification_id}@vigie.sante>"
    email["Content-Language"] = "fr"
    email.attach(MIMEText(message.text, "plain", "utf-8"))
    email.attach(MIMEText(message.html, "html", "utf-8"))
    return email


class EmailSender:
    def __init__(self, server: SmtpServer, *, connections: int = 8) -> None:
        self.server = server
        self._tls = ssl.create_default_context(cafile=server.ca_file) if server.starttls else None
        # Sessions are kept open between messages (STARTTLS and AUTH once, not per message),
        # at most ``connections`` at a time.
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(connections)

    async def send(self, email: MIMEMultipart) -> SendResult:
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

    async def _send(self, email: MIMEMultipart) -> SendResult:
        async with self._slots:
            reused = bool(self._idle)
            client = None
            sent = False
            try:
                client = await self._connection()
                try:
                    await client.send_message(email)
                except aiosmtplib.SMTPServerDisconnected:
                    if not reused:
                        raise
                    # The server closed a connection left idle: nothing was taken, try a fresh one.
                    client.close()
                    client = await self._connection(fresh=True)
                    await client.send_message(email)
                sent = True
            except aiosmtplib.SMTPRecipientsRefused as refused:
                _discard(client)
                client = None
                codes = [r.code for r in refused.recipients]
                return SendResult(
                    delivered=False, error=f"recipient refused: {refused}", permanent=all(c >= 500 for c in codes)
                )
            except aiosmtplib.SMTPResponseException as error:
                _discard(client)
                client = None
                # 5xx says the message will never be taken as it is; 4xx, try again later.
                return SendResult(
                    delivered=False, error=f"SMTP {error.code}: {error.message}"[:500], permanent=error.code >= 500
                )
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                _discard(client)
                client = None
                return SendResult(delivered=False, error=f"{type(error).__name__}: {error}"[:500])
            finally:
                # Only a session that completed its message is used again (not one cancelled midway).
                if sent and client is not None and client.is_connected:
                    self._idle.append(client)
                elif client is not None:
                    client.close()
            return SendResult(delivered=True)

    async def _connection(self, *, fresh: bool = False) -> aiosmtplib.SMTP:
        """An open, authenticated session: one left by an earlier message, or a new one."""
        while self._idle and not fresh:
            client = self._idle.pop()
            if client.is_connected:
                return client
        server = self.server
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            start_tls=server.starttls,
            tls_context=self._tls,
            username=server.username,
            password=server.password,
            timeout=server.timeout_seconds,
        )
        await client.connect()
        return client

    async def close(self) -> None:
        while self._idle:
            client = self._idle.pop()
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()


def _discard(client: aiosmtplib.SMTP | None) -> None:
    """Close a session that saw an error: the next message starts a clean one."""
    if client is not None:
        client.close()
