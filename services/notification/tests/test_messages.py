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

GRAVE = "CSP D1111-16-2, incident grave"
SIGNIFICATIF = "CSP D1111-16-2, incident significatif"


def notification(
    *,
    urgent: bool,
    severity: Severity | str | None = "default",
    kind: RevisionKind = RevisionKind.notification,
    region: Place | None = None,
    departement: Place | None = None,
    **content: Any,
) -> WebhookNotification:
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
    if severity == "default":
        severity = Severity(
            grave=urgent,
            significatif=False,
            reasons=[SeverityReason(criterion=GRAVE, text="Des soins ont été interrompus.")] if urgent else [],
        )
    return WebhookNotification(
        notification_id=uuid4(),
        declaration_id=uuid4(),
        reference="VIG-2026-000042",
        revision=2,
        kind=kind,
        recipient=Recipient(kind=RecipientKind.ars, code="ars-idf", name="ARS Île-de-France"),
        departement=departement or Place(code="75", name="Paris"),
        region=region or Place(code="11", name="Île-de-France"),
        submitted_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        urgent=urgent,
        severity=severity if isinstance(severity, Severity) else None,
        declaration=DeclarationContent.model_validate(declaration),
    )


HEAD = """Bonjour,

Vigie vous transmet une déclaration d'incident de sécurité des systèmes d'information.

Référence : VIG-2026-000042 (révision 2, notification d'incident)
Structure : CHU Saint-Exemple, établissement de santé, FINESS 750712184
Territoire : Paris (75), Île-de-France
Incident : rançongiciel, origine malveillante, détecté le 20/11/2026 à 08:30
"""
FOOT = """
Le détail de la déclaration n'est pas reproduit ici : consultez-la dans Vigie avec vos accès.

— Vigie, déclaration des incidents de sécurité des systèmes d'information de santé
"""


def test_the_ars_reads_a_grave_and_significant_incident_word_for_word() -> None:
    severity = Severity(
        grave=True,
        significatif=True,
        nis2_significant=True,
        reasons=[
            SeverityReason(criterion=GRAVE, text="Des soins ont été interrompus."),
            SeverityReason(
                criterion=SIGNIFICATIF,
                text="Des soins interrompus dans un établissement de santé reportent des patients vers"
                " d'autres structures.",
            ),
            SeverityReason(
                criterion="NIS2 art. 23(3)(a)", text="Perturbation opérationnelle grave des services de l'entité."
            ),
        ],
    )
    message = agency_message(notification(urgent=True, severity=severity), RecipientKind.ars)
    assert message.subject == "[URGENT] [Vigie] VIG-2026-000042 — rançongiciel — CHU Saint-Exemple (75)"
    assert (
        message.text
        == HEAD
        + (
            "Gravité : incident grave et significatif.\n"
            "  - Des soins ont été interrompus.\n"
            "  - Des soins interrompus dans un établissement de santé reportent des patients vers d'autres structures.\n"
            "NIS2 : incident significatif.\n"
            "  - Perturbation opérationnelle grave des services de l'entité.\n"
            "\n"
            "Ce qui est attendu : prendre contact avec la structure sans délai (incident grave) et suivre la"
            " déclaration dans Vigie.\n"
        )
        + FOOT
    )
    for secret in ["admin-42", "185.234.218.52", "+33 1 23", "rssi@chu.example.fr"]:
        assert secret not in message.text
        assert secret not in message.html


def test_cert_sante_reads_what_is_expected_of_it_word_for_word() -> None:
    message = agency_message(notification(urgent=False), RecipientKind.cert_sante)
    assert message.subject == "[Vigie] VIG-2026-000042 — rançongiciel — CHU Saint-Exemple (75)"
    assert (
        message.text
        == HEAD
        + (
            "Gravité : incident ni grave ni significatif.\n"
            "\n"
            "Ce qui est attendu : qualifier l'incident et, si besoin, proposer un accompagnement à la structure."
            " La structure demande un accompagnement.\n"
        )
        + FOOT
    )


def test_the_hfds_reads_every_declaration_word_for_word() -> None:
    quiet = notification(urgent=False, severity=Severity(grave=False, significatif=False, nis2_significant=False))
    assert (
        agency_message(quiet, RecipientKind.ministry).text
        == HEAD
        + (
            "Gravité : incident ni grave ni significatif.\n"
            "NIS2 : incident non significatif.\n"
            "\n"
            "Ce qui est attendu : pour information, comme pour chaque déclaration (art. D1111-16-3 du code de la"
            " santé publique) ; le CERT Santé qualifie l'incident.\n"
        )
        + FOOT
    )


def test_an_ars_told_before_the_severity_is_decided_and_not_urgently() -> None:
    message = agency_message(notification(urgent=False, severity=None), RecipientKind.ars)
    assert (
        message.text
        == HEAD
        + (
            "Gravité : en cours d'évaluation.\n"
            "\n"
            "Ce qui est attendu : prendre connaissance de la déclaration dans Vigie et, le cas échéant, contacter la"
            " structure.\n"
        )
        + FOOT
    )


ACK_HEAD = """Bonjour,

Nous avons bien reçu votre {kind} pour CHU Saint-Exemple.
Référence : VIG-2026-000042 (révision 2).

Vigie en informe :
  - l'{agency} ;
  - le CERT Santé ;
  - le haut fonctionnaire de défense et de sécurité des ministères sociaux (HFDS).

Conservez cette référence pour tout échange et pour les révisions à venir (notification complète, rapport final).
"""
ACK_FOOT = """
— Vigie, déclaration des incidents de sécurité des systèmes d'information de santé
"""
RGPD = (
    "la violation doit être notifiée à la CNIL sous 72 heures, sauf si elle ne présente pas de risque pour"
    " les droits et libertés des personnes (RGPD, art. 33).\n"
)
YOURS = "Vigie ne transmet rien à l'ANSSI ni à la CNIL : ces notifications restent à votre charge.\n"


def test_the_declarant_reads_its_acknowledgement_and_its_open_clocks_word_for_word() -> None:
    significant = Severity(grave=True, significatif=False, nis2_significant=True)
    message = acknowledgement(
        notification(urgent=True, severity=significant, impacts={"data_disclosure": True, "data_unavailable": True})
    )
    assert message.subject == "[Vigie] Accusé de réception — VIG-2026-000042"
    assert (
        message.text
        == ACK_HEAD.format(kind="notification d'incident", agency="ARS Île-de-France")
        + (
            "\n"
            "Incident significatif au sens de NIS2 : l'alerte précoce à l'ANSSI est due sous 24 heures, la"
            " notification d'incident sous 72 heures et le rapport final un mois après la notification"
            " (directive (UE) 2022/2555, art. 23).\n"
            "L'incident atteint la confidentialité et la disponibilité de données de santé : " + RGPD + YOURS
        )
        + ACK_FOOT
    )


def test_a_final_report_is_acknowledged_in_its_gender() -> None:
    message = acknowledgement(notification(urgent=False, kind=RevisionKind.final_report))
    assert message.text == ACK_HEAD.format(kind="rapport final", agency="ARS Île-de-France") + ACK_FOOT


def test_an_essential_service_operator_is_reminded_of_anssi_until_it_says_it_told_it() -> None:
    ose = Severity(grave=True, significatif=False, ose_significant=True)
    structure = {"finess": "750712184", "name": "CHU Saint-Exemple", "type": "health_facility", "regime": "ose"}
    message = acknowledgement(notification(urgent=True, severity=ose, structure=structure))
    assert (
        message.text
        == ACK_HEAD.format(kind="notification d'incident", agency="ARS Île-de-France")
        + (
            "\n"
            "Opérateur de services essentiels : l'incident est à déclarer sans délai à l'ANSSI"
            " (loi n° 2018-133, art. 7).\n" + YOURS
        )
        + ACK_FOOT
    )
    told = notification(
        urgent=True,
        severity=ose,
        structure=structure,
        anssi_notified_at=datetime(2026, 11, 20, 9, tzinfo=UTC).isoformat(),
    )
    assert "ANSSI" not in acknowledgement(told).text


def test_the_cnil_reminder_names_each_kind_of_breach_and_stops_once_told() -> None:
    for impacts, what in [
        ({"data_integrity": True}, "l'intégrité"),
        ({"data_unavailable": True}, "la disponibilité"),
        (
            {"data_disclosure": True, "data_integrity": True, "data_unavailable": True},
            "la confidentialité, l'intégrité et la disponibilité",
        ),
    ]:
        text = acknowledgement(notification(urgent=False, impacts=impacts)).text
        assert f"\nL'incident atteint {what} de données de santé : {RGPD}{YOURS}" in text
    told = notification(
        urgent=False,
        impacts={"data_unavailable": True},
        cnil_notified_at=datetime(2026, 11, 20, 9, tzinfo=UTC).isoformat(),
    )
    assert "CNIL" not in acknowledgement(told).text


def test_saint_pierre_et_miquelon_is_told_through_its_administration_territoriale_de_sante() -> None:
    message = acknowledgement(
        notification(
            urgent=False,
            region=Place(code="975", name="Saint-Pierre-et-Miquelon"),
            departement=Place(code="975", name="Saint-Pierre-et-Miquelon"),
        )
    )
    assert "  - l'ATS de Saint-Pierre-et-Miquelon (administration territoriale de santé) ;\n" in message.text


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
