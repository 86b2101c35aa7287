"""The e-mails Vigie sends, in French: to an agency, what it needs to act (reference, structure,
region, severity, what is expected next) and no more — the description and the indicators stay
in Vigie, behind the agency's credentials; to the declarant, an acknowledgement with the reference.
"""

import html
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from vigie_contracts.events import RecipientKind
from vigie_contracts.labels import CATEGORIES, KINDS, ORIGINS, STRUCTURE_TYPES
from vigie_contracts.webhook import WebhookNotification

FRANCE = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


# What a mail client would turn into a link, in text a partner wrote: a scheme, a host name, an
# address, a dotted IP. Shown defanged, the way CSIRTs exchange indicators.
_HTTP = re.compile(r"(?i)\bh(tt)(ps?)://")
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,15}):(//)?")
_HOST = re.compile(r"(?i)\b(?:[a-z0-9-]+\.)+(?:[a-z]{2,63}|\d{1,3})\b")


def inert(text: str, limit: int = 80) -> str:
    """A partner's text as an e-mail may carry it: one line, at most ``limit`` characters, and
    nothing a mail client would make a link of ("http://ameli.fr" reads "hxxp[:]//ameli[.]fr").
    Vigie mails agencies and declarants; it must not carry anyone's phishing to them."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    flat = _HTTP.sub(lambda m: f"hxx{m[2]}://", flat)
    flat = _SCHEME.sub(lambda m: f"{m[1]}[:]{m[2] or ''}", flat)
    flat = _HOST.sub(lambda m: m[0].replace(".", "[.]"), flat)
    return flat.replace("@", "[at]")


def _when(notification: WebhookNotification) -> str:
    return notification.declaration.detected_at.astimezone(FRANCE).strftime("%d/%m/%Y à %H:%M")


def _severity_lines(notification: WebhookNotification) -> list[str]:
    severity = notification.severity
    if severity is None:
        return ["Gravité : en cours d'évaluation."]
    grades = [label for label, on in (("grave", severity.grave), ("significatif", severity.significatif)) if on]
    lines = [f"Gravité : incident {' et '.join(grades)}." if grades else "Gravité : ni grave ni significatif."]
    lines += [f"  - {reason.text}" for reason in severity.reasons]
    return lines


def _expected(notification: WebhookNotification, kind: RecipientKind) -> str:
    content = notification.declaration
    if kind is RecipientKind.cert_sante:
        support = " La structure demande un accompagnement." if content.support_requested else ""
        return f"Qualifier l'incident et, si besoin, proposer un accompagnement à la structure.{support}"
    if kind is RecipientKind.ministry:
        return "Pour information : incident grave ou significatif d'une structure de santé."
    if notification.urgent:
        return "Incident grave : prendre contact avec la structure sans délai et suivre la déclaration dans Vigie."
    return "Prendre connaissance de la déclaration dans Vigie et, le cas échéant, contacter la structure."


def _as_html(lines: list[str]) -> str:
    body = "".join(
        f"<li>{html.escape(line[4:])}</li>" if line.startswith("  - ") else f"<p>{html.escape(line)}</p>"
        for line in lines
        if line
    )
    return f'<!doctype html><html lang="fr"><body style="font-family: sans-serif">{body}</body></html>'


def agency_message(notification: WebhookNotification, kind: RecipientKind) -> Message:
    content = notification.declaration
    structure = content.structure
    urgent = "[URGENT] " if notification.urgent else ""
    subject = (
        f"{urgent}[Vigie] {notification.reference} — {CATEGORIES[content.category]} — "
        f"{inert(structure.name, 60)} ({notification.departement.code})"
    )
    lines = [
        "Bonjour,",
        "",
        "Une déclaration d'incident de sécurité des systèmes d'information concerne la région"
        f" {notification.region.name}.",
        "",
        f"Référence : {notification.reference} (révision {notification.revision}, {KINDS[notification.kind]})",
        f"Structure : {inert(structure.name)}, {STRUCTURE_TYPES[structure.type]}, FINESS {structure.finess}",
        f"Territoire : {notification.departement.name} ({notification.departement.code}), {notification.region.name}",
        f"Incident : {CATEGORIES[content.category]}, origine {ORIGINS[content.origin]},"
        f" détecté le {_when(notification)}",
        *_severity_lines(notification),
        "",
        f"Ce qui est attendu : {_expected(notification, kind)}",
        "",
        "Le détail de la déclaration n'est pas reproduit ici : consultez-la dans Vigie avec vos accès.",
        "",
        "— Vigie, déclaration des incidents de sécurité des systèmes d'information de santé",
    ]
    return Message(subject=subject, text="\n".join(lines) + "\n", html=_as_html(lines))


def acknowledgement(notification: WebhookNotification) -> Message:
    content = notification.declaration
    subject = f"[Vigie] Accusé de réception — {notification.reference}"
    lines = [
        "Bonjour,",
        "",
        f"Votre {KINDS[notification.kind]} pour {inert(content.structure.name)} a bien été reçue.",
        f"Référence : {notification.reference} (révision {notification.revision}).",
        f"Elle est transmise à l'ARS de la région {notification.region.name} et à la cellule CERT Santé.",
        "",
        "Conservez cette référence pour tout échange et pour les révisions à venir"
        " (notification complète, rapport final).",
    ]
    if content.structure.essential_operator:
        lines.append(
            "Entité essentielle (NIS2) : notification d'incident attendue sous 72 heures"
            " et rapport final sous un mois après la détection."
        )
    if content.impacts.data_disclosure and content.cnil_notified_at is None:
        lines.append(
            "Des données de santé ont été divulguées : la CNIL doit être notifiée sous 72 heures (RGPD, art. 33)."
        )
    lines += ["", "— Vigie, déclaration des incidents de sécurité des systèmes d'information de santé"]
    return Message(subject=subject, text="\n".join(lines) + "\n", html=_as_html(lines))
