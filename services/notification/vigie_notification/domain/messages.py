"""The e-mails Vigie sends, in French: to an agency, CERT Santé or the HFDS, what it needs to act
(reference, structure, territory, severity, what is expected next) and no more — the description
and the indicators stay in Vigie, behind the recipient's credentials; to the declarant, an
acknowledgement with the reference, whom Vigie informs, and the structure's own open clocks.
"""

import html
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from vigie_contracts.events import RecipientKind, SeverityReason
from vigie_contracts.labels import CATEGORIES, KINDS, ORIGINS, STRUCTURE_TYPES
from vigie_contracts.territory import REGIONS
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


def _regime_lines(name: str, significant: bool | None, reasons: list[SeverityReason]) -> list[str]:
    if significant is None:
        return []
    lines = [f"{name} : incident {'significatif' if significant else 'non significatif'}."]
    return lines + [f"  - {reason.text}" for reason in reasons]


def _severity_lines(notification: WebhookNotification) -> list[str]:
    severity = notification.severity
    if severity is None:
        return ["Gravité : en cours d'évaluation."]
    grades = [label for label, on in (("grave", severity.grave), ("significatif", severity.significatif)) if on]
    by_law: dict[str, list[SeverityReason]] = {"CSP": [], "NIS2": [], "OSE": []}
    for reason in severity.reasons:
        law = "NIS2" if reason.criterion.startswith("NIS2") else "OSE" if "OSE" in reason.criterion else "CSP"
        by_law[law].append(reason)
    lines = [f"Gravité : incident {' et '.join(grades) if grades else 'ni grave ni significatif'}."]
    lines += [f"  - {reason.text}" for reason in by_law["CSP"]]
    lines += _regime_lines("NIS2", severity.nis2_significant, by_law["NIS2"])
    lines += _regime_lines("Opérateur de services essentiels", severity.ose_significant, by_law["OSE"])
    return lines


def _expected(notification: WebhookNotification, kind: RecipientKind) -> str:
    """What the recipient is expected to do, as it follows "Ce qui est attendu :"."""
    content = notification.declaration
    if kind is RecipientKind.cert_sante:
        support = " La structure demande un accompagnement." if content.support_requested else ""
        return f"qualifier l'incident et, si besoin, proposer un accompagnement à la structure.{support}"
    if kind is RecipientKind.ministry:
        return (
            "pour information, comme pour chaque déclaration (art. D1111-16-3 du code de la santé publique) ;"
            " le CERT Santé qualifie l'incident."
        )
    if notification.urgent:
        return "prendre contact avec la structure sans délai (incident grave) et suivre la déclaration dans Vigie."
    return "prendre connaissance de la déclaration dans Vigie et, le cas échéant, contacter la structure."


def _as_html(lines: list[str]) -> str:
    body = "".join(
        f"<li>{html.escape(line[4:])}</li>" if line.startswith("  - ") else f"<p>{html.escape(line)}</p>"
        for line in lines
        if line
    )
    return f'<!doctype html><html lang="fr"><body style="font-family: sans-serif">{body}</body></html>'


SIGNATURE = "— Vigie, déclaration des incidents de sécurité des systèmes d'information de santé"


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
        "Vigie vous transmet une déclaration d'incident de sécurité des systèmes d'information.",
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
        SIGNATURE,
    ]
    return Message(subject=subject, text="\n".join(lines) + "\n", html=_as_html(lines))


def _obligations(notification: WebhookNotification) -> list[str]:
    """The structure's own clocks towards ANSSI and the CNIL that are still open: Vigie reminds
    it of them and never answers them in its place."""
    content = notification.declaration
    severity = notification.severity
    lines = []
    if severity is not None and severity.nis2_significant and content.anssi_final_report_at is None:
        lines.append(
            "Incident significatif au sens de NIS2 : l'alerte précoce à l'ANSSI est due sous 24 heures,"
            " la notification d'incident sous 72 heures et le rapport final un mois après la notification"
            " (directive (UE) 2022/2555, art. 23)."
        )
    if (
        severity is not None
        and severity.ose_significant
        and content.anssi_notified_at is None
        and content.anssi_early_warning_at is None
    ):
        lines.append(
            "Opérateur de services essentiels : l'incident est à déclarer sans délai à l'ANSSI"
            " (loi n° 2018-133, art. 7)."
        )
    impacts = content.impacts
    hit = [
        name
        for name, on in (
            ("la confidentialité", impacts.data_disclosure),
            ("l'intégrité", impacts.data_integrity),
            ("la disponibilité", impacts.data_unavailable),
        )
        if on
    ]
    if hit and content.cnil_notified_at is None:
        what = ", ".join(hit[:-1]) + " et " + hit[-1] if len(hit) > 1 else hit[0]
        lines.append(
            f"L'incident atteint {what} de données de santé : la violation doit être notifiée à la CNIL"
            " sous 72 heures, sauf si elle ne présente pas de risque pour les droits et libertés des"
            " personnes (RGPD, art. 33)."
        )
    if lines:
        lines.append("Vigie ne transmet rien à l'ANSSI ni à la CNIL : ces notifications restent à votre charge.")
    return lines


def acknowledgement(notification: WebhookNotification) -> Message:
    content = notification.declaration
    agency = REGIONS[notification.region.code].ars_name
    subject = f"[Vigie] Accusé de réception — {notification.reference}"
    obligations = _obligations(notification)
    lines = [
        "Bonjour,",
        "",
        f"Nous avons bien reçu votre {KINDS[notification.kind]} pour {inert(content.structure.name)}.",
        f"Référence : {notification.reference} (révision {notification.revision}).",
        "",
        "Vigie en informe :",
        f"  - l'{agency} ;",
        "  - le CERT Santé ;",
        "  - le haut fonctionnaire de défense et de sécurité des ministères sociaux (HFDS).",
        "",
        "Conservez cette référence pour tout échange et pour les révisions à venir"
        " (notification complète, rapport final).",
        *(["", *obligations] if obligations else []),
        "",
        SIGNATURE,
    ]
    return Message(subject=subject, text="\n".join(lines) + "\n", html=_as_html(lines))
