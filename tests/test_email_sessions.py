"""The e-mail channel keeps its SMTP session open between messages (STARTTLS and AUTH once), and
a session the server has closed meanwhile is replaced without failing the message: against a real
SMTP server requiring STARTTLS and authentication."""

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import uuid4

import pytest
import trustme

from vigie_notification.adapters.email import Email, EmailSender, SmtpServer, compose
from vigie_notification.domain.messages import Message
from vigie_stack.mailbox import SMTP_USER, Mailbox, Tls


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    ca = trustme.CA()
    tls = Tls(ca_file=tmp_path / "ca.pem", chain_file=tmp_path / "smtp.pem")
    ca.cert_pem.write_to_path(str(tls.ca_file))
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(str(tls.chain_file))
    return tls


@asynccontextmanager
async def smtp(tls: Tls, *, server_password: str, client_password: str) -> AsyncIterator[tuple[Mailbox, EmailSender]]:
    """A real SMTP server (STARTTLS and AUTH required) and an e-mail sender pointed at it."""
    port = free_port()
    mailbox = Mailbox(port, tls, server_password)
    mailbox.start()
    server = SmtpServer(
        host="127.0.0.1",
        port=port,
        sender="vigie@vigie.test",
        username=SMTP_USER,
        password=client_password,
        ca_file=str(tls.ca_file),
    )
    sender = EmailSender(server)
    try:
        yield mailbox, sender
    finally:
        await sender.close()
        mailbox.stop()


def email(to: str) -> Email:
    message = Message(subject="[Vigie] Essai — é", text="Texte é", html="<p>Texte é</p>")
    return compose(uuid4(), message, sender="vigie@vigie.test", to=to)


async def test_one_session_serves_many_messages_and_a_closed_one_is_replaced(tls: Tls) -> None:
    async with smtp(tls, server_password="mot-de-passe", client_password="mot-de-passe") as (mailbox, sender):
        for _ in range(3):
            assert (await sender.send(email("alerte@ars.test"))).delivered
        assert len(mailbox.messages("alerte@ars.test")) == 3
        assert mailbox.logins == 1, "one session, authenticated once, for the three messages"

        # The server goes away and comes back: the session kept open is dead.
        mailbox.stop()
        mailbox.start()
        result = await sender.send(email("alerte@ars.test"))
        assert result.delivered, result.error
        assert len(mailbox.messages("alerte@ars.test")) == 4
        assert mailbox.logins == 2


async def test_a_refused_login_is_a_failure_and_nothing_is_delivered(tls: Tls) -> None:
    async with smtp(tls, server_password="le-bon", client_password="le-mauvais") as (mailbox, sender):
        result = await sender.send(email("alerte@ars.test"))
        assert not result.delivered
        assert "535" in (result.error or "")
        assert mailbox.refused_logins >= 1
        assert not mailbox.raw
