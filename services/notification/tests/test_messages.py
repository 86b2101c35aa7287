"""The e-mails, in French: what an agency needs to act, and no more; an acknowledgement for
the declarant."""

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from uuid import uuid4

import pytest

from vigie_contracts.declaration import DeclarationContent
from vigie_contracts.events import Place, Recipient, RecipientKind, RevisionKind, Severity, SeverityReason
from vigie_contracts.webhook import WebhookNotification
from vigie_notification.adapters.email import compose
from vigie_notification.domain.messages import Message, acknowledgement, agency_message


def notification(*, urgent: bool, **content: Any) -> WebhookNotification:
    declaration = {
        "structure": {
            "finess": "750712184",
            "name": "CHU Saint-Exemple",
            "type": "health_facility",
            "essential_operator": True,
        },
        "declarant": {
            "name": "Claire Martin",
            "role": "RSSI",
            "email": "rssi@chu.example.fr",
            "phone": "+33 1 23 45 67 89",
        },
        "detected_at": datetime(2026, 11, 20, 7, 30, tzinfo=UTC).isoformat(),
        "origin": "malicious",
        "category": "ransomware",
        "description": "Détails techniques confidentiels : compte admin-42 compromis.",
        "status": "ongoing",
        "indicators": [{"type": "ipv4", "value": "185.234.218.52"}],
        "support_requested": True,
        **content,
    }
    return WebhookNotification(
        notification_id=uuid4(),
        declaration_id=uuid4(),
        reference="VIG-2026-000042",
        revision=2,
        kind=RevisionKind.notification,
        recipient=Recipient(kind=RecipientKind.ars, code="ars-idf", name="ARS Île-de-France"),
        departement=Place(code="75", name="Paris"),
        region=Place(code="11", name="Île-de-France"),
        submitted_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        urgent=urgent,
        severity=Severity(
            grave=urgent,
            significatif=False,
            reasons=[SeverityReason(criterion="CSP D1111-16-2, incident grave", text="Des soins ont été interrompus.")]
            if urgent
            else [],
        ),
        declaration=DeclarationContent.model_validate(declaration),
    )


def test_an_agency_is_told_what_it_needs_to_act_and_no_more() -> None:
    message = agency_message(notification(urgent=True), RecipientKind.ars)
    assert message.subject == "[URGENT] [Vigie] VIG-2026-000042 — rançongiciel — CHU Saint-Exemple (75)"
    for expected in [
        "Référence : VIG-2026-000042 (révision 2, notification d'incident)",
        "établissement de santé, FINESS 750712184",
        "Territoire : Paris (75), Île-de-France",
        "origine malveillante, détecté le 20/11/2026 à 08:30",
        "Gravité : incident grave.",
        "  - Des soins ont été interrompus.",
        "prendre contact avec la structure sans délai",
    ]:
        assert expected in message.text, expected
    for secret in ["admin-42", "185.234.218.52", "+33 1 23", "rssi@chu.example.fr"]:
        assert secret not in message.text
        assert secret not in message.html


def test_cert_sante_hears_that_support_is_requested() -> None:
    message = agency_message(notification(urgent=False), RecipientKind.cert_sante)
    assert not message.subject.startswith("[URGENT]")
    assert "La structure demande un accompagnement." in message.text


def test_the_declarant_gets_the_reference_and_the_clocks_that_apply() -> None:
    message = acknowledgement(notification(urgent=False, impacts={"data_disclosure": True}))
    assert message.subject == "[Vigie] Accusé de réception — VIG-2026-000042"
    assert "Référence : VIG-2026-000042 (révision 2)." in message.text
    assert "ARS de la région Île-de-France et à la cellule CERT Santé" in message.text
    assert "sous 72 heures et rapport final sous un mois" in message.text
    assert "la CNIL doit être notifiée sous 72 heures" in message.text


def test_the_email_is_text_and_html_with_a_stable_message_id() -> None:
    item = notification(urgent=False)
    composed = compose(
        item.notification_id,
        agency_message(item, RecipientKind.ars),
        sender="vigie@sante.example",
        to="alerte@ars.example",
    )
    # Read back as a receiving mail system reads it.
    email = message_from_bytes(composed.data, policy=policy.default)
    assert isinstance(email, EmailMessage)
    assert email["Message-ID"] == f"<{item.notification_id}@vigie.sante>"
    assert email["Subject"] == agency_message(item, RecipientKind.ars).subject
    assert email["Content-Language"] == "fr"
    assert email.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in email.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    assert "Île-de-France" in email.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_the_email_reads_back_as_written_whatever_its_subject_holds() -> None:
    hostile = "Ünïcödé 🚑 " * 12 + "\r\nBcc: tout-le-monde@example.org\r\n\r\ncorps"
    message = Message(subject=hostile, text="Ligne é\nAutre ligne — fin\n", html="<p>é 🚑</p>")
    composed = compose(uuid4(), message, sender="vigie@sante.example", to="rssi@chu.example")
    lines = composed.data.split(b"\r\n")
    assert all(len(line) <= 78 for line in lines), "every line within RFC 5322's 78 characters"
    assert b"\n" not in composed.data.replace(b"\r\n", b""), "only CRLF line endings on the wire"
    email = message_from_bytes(composed.data, policy=policy.default)
    assert isinstance(email, EmailMessage)
    assert email["Subject"] == " ".join(hostile.split()), "the subject whole, on one line"
    assert email["Bcc"] is None, "a subject cannot add a header"
    assert email["To"] == "rssi@chu.example"
    assert email.get_body(("plain",)).get_content() == message.text  # type: ignore[union-attr]
    assert email.get_body(("html",)).get_content() == message.html  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "address",
    [
        "rssi@chu.example\r\nBcc: x@example.org",
        "Vigie <rssi@chu.example>",
        "a@b.fr, c@d.fr",
        "sans-arobase",
        "rssi\x00@chu.example",
    ],
)
def test_an_address_that_could_leave_its_header_is_refused(address: str) -> None:
    message = Message(subject="s", text="t", html="h")
    with pytest.raises(ValueError, match="not an e-mail address"):
        compose(uuid4(), message, sender="vigie@sante.example", to=address)


def test_an_address_outside_ascii_asks_for_smtputf8() -> None:
    message = Message(subject="s", text="t", html="h")
    assert not compose(uuid4(), message, sender="vigie@sante.example", to="rssi@chu.example").needs_smtputf8
    assert compose(uuid4(), message, sender="vigie@sante.example", to="rssi@hôpital.example").needs_smtputf8
