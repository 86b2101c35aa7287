"""The e-mail channel: SMTP, with STARTTLS and authentication when configured.

Sessions stay open between messages, as a mail relay expects from a steady sender.
Each message carries a ``Message-ID`` made from the notification id, the same on every retry,
so that a message sent twice after an ambiguous failure is recognised as one by its receiver.
"""

import asyncio
import base64
import contextlib
import re
import ssl
from dataclasses import dataclass
from email.utils import formatdate
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


@dataclass(frozen=True)
class Email:
    """A message ready for the wire: its envelope and its bytes."""

    message_id: str
    sender: str
    to: str
    data: bytes

    @property
    def needs_smtputf8(self) -> bool:
        """An address outside ASCII travels only with SMTPUTF8 (RFC 6531)."""
        return not (self.sender.isascii() and self.to.isascii())


def compose(notification_id: UUID, message: Message, *, sender: str, to: str) -> Email:
    """The message as MIME: text and HTML alternatives in UTF-8, in base64, and a subject in RFC
    2047 encoded words, whatever it holds (its line breaks become spaces). Written out directly:
    the ``email`` package's classes and generator cost many times as much (BENCHMARKS.md), which
    counts when a mass campaign has every agency's alert desk written to at once. Addresses were
    validated where they entered (contract or directory); one that could break a header out of
    its line is refused here all the same."""
    for address in (sender, to):
        if not _ADDRESS.fullmatch(address):
            raise ValueError(f"not an e-mail address to write in a header: {address!r}")
    message_id = f"<{notification_id}@vigie.sante>"
    boundary = f"=_vigie_{notification_id.hex}"
    head = (
        f"From: Vigie <{sender}>\r\n"
        f"To: {to}\r\n"
        f"Subject: {_encoded_words(' '.join(message.subject.split()))}\r\n"  # on one line when read
        f"Date: {formatdate(usegmt=True)}\r\n"
        f"Message-ID: {message_id}\r\n"
        "Content-Language: fr\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n'
        "\r\n"
    )
    data = b"".join(
        [
            head.encode(),
            *(_part(boundary, kind, body) for kind, body in (("plain", message.text), ("html", message.html))),
            f"--{boundary}--\r\n".encode(),
        ]
    )
    return Email(message_id=message_id, sender=sender, to=to, data=data)


# No whitespace, control character, angle bracket or comma: an address, alone on its line.
_ADDRESS = re.compile(r"[^\s\x00-\x1f\x7f<>,@]+@[^\s\x00-\x1f\x7f<>,@]+")
# Encoded words are at most 75 characters (RFC 2047) and a header line 78 (RFC 5322): 39 bytes
# make 52 characters of base64, 64 with the markers, 73 with "Subject: " before the first.
_WORD_BYTES = 39


def _encoded_words(text: str) -> str:
    """``text`` as base64 encoded words, folded one word a line, no character cut in two."""
    words = []
    rest = text.encode()
    while rest:
        cut = min(len(rest), _WORD_BYTES)
        while cut < len(rest) and rest[cut] & 0xC0 == 0x80:  # a continuation byte: back off
            cut -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(rest[:cut]).decode()}?=")
        rest = rest[cut:]
    return "\r\n ".join(words)


def _part(boundary: str, kind: str, body: str) -> bytes:
    encoded = base64.encodebytes(body.encode()).replace(b"\n", b"\r\n")
    return (
        f'--{boundary}\r\nContent-Type: text/{kind}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    ).encode() + encoded


class EmailSender:
    def __init__(self, server: SmtpServer, *, connections: int = 8) -> None:
        self.server = server
        self._tls = ssl.create_default_context(cafile=server.ca_file) if server.starttls else None
        # Sessions are kept open between messages (STARTTLS and AUTH once, not per message),
        # at most ``connections`` at a time.
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(connections)

    async def send(self, email: Email) -> SendResult:
        """Send ``email``, in a client span of its own (no address in it: whom is in the ledger)."""
        with tracer.start_as_current_span(
            "smtp send",
            kind=SpanKind.CLIENT,
            attributes={
                "network.protocol.name": "smtp",
                "server.address": self.server.host,
                "server.port": self.server.port,
                "vigie.email.message_id": email.message_id,
            },
        ) as span:
            result = await self._send(email)
            if not result.delivered:
                span.set_status(Status(StatusCode.ERROR, result.error))
            return result

    async def _send(self, email: Email) -> SendResult:
        async with self._slots:
            reused = bool(self._idle)
            client = None
            sent = False
            try:
                client = await self._connection()
                try:
                    await _transmit(client, email)
                except aiosmtplib.SMTPServerDisconnected:
                    if not reused:
                        raise
                    # The server closed a connection left idle: nothing was taken, try a fresh one.
                    client.close()
                    client = await self._connection(fresh=True)
                    await _transmit(client, email)
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


async def _transmit(client: aiosmtplib.SMTP, email: Email) -> None:
    await client.sendmail(
        email.sender, [email.to], email.data, mail_options=["SMTPUTF8"] if email.needs_smtputf8 else None
    )


def _discard(client: aiosmtplib.SMTP | None) -> None:
    """Close a session that saw an error: the next message starts a clean one."""
    if client is not None:
        client.close()
