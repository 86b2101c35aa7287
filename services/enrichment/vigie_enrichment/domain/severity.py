"""Is the incident grave, is it significatif, and why (art. D1111-16-2 of the Code de la santé
publique); is it significant under NIS2 for an essential operator (art. 23(3)).

- grave: care safety endangered (potentially or proven), confidentiality or integrity of health
  data hit, normal operation of the structure disrupted;
- significatif: effects on the organisation of the health system beyond the structure, or likely
  to affect other structures (a shared provider, a campaign, a vulnerability used by ransomware
  groups, patients sent elsewhere);
- NIS2 significant: severe operational disruption (3)(a), or considerable damage to persons (3)(b).

The reasons are written for the people who read them, in French.
"""

from dataclasses import dataclass

from vigie_contracts.declaration import DeclarationContent, PatientSafety, StructureType
from vigie_contracts.events import Severity, SeverityReason

GRAVE = "CSP D1111-16-2, incident grave"
SIGNIFICATIF = "CSP D1111-16-2, incident significatif"
NIS2_DISRUPTION = "NIS2 art. 23(3)(a)"
NIS2_DAMAGE = "NIS2 art. 23(3)(b)"


@dataclass(frozen=True)
class Context:
    """What enrichment learnt beyond the declaration itself."""

    shared_provider: str | None = None
    campaign_declarations: int = 0
    ransomware_cves: tuple[str, ...] = ()


def assess(content: DeclarationContent, context: Context | None = None) -> Severity:  # noqa: PLR0912 - one rule a branch
    context = context or Context()
    impacts = content.impacts
    grave: list[SeverityReason] = []
    significatif: list[SeverityReason] = []
    nis2: list[SeverityReason] = []

    def reason(target: list[SeverityReason], criterion: str, text: str) -> None:
        target.append(SeverityReason(criterion=criterion, text=text))

    if impacts.patient_safety is PatientSafety.proven:
        reason(grave, GRAVE, "La sécurité des soins a été mise en danger (conséquence avérée).")
    elif impacts.patient_safety is PatientSafety.potential:
        reason(
            grave,
            GRAVE,
            "La sécurité des soins peut être mise en danger (conséquence potentielle).",
        )
    if impacts.care_interrupted:
        reason(grave, GRAVE, "Des soins ont été interrompus.")
    if impacts.data_disclosure:
        reason(grave, GRAVE, "La confidentialité de données de santé est atteinte.")
    if impacts.data_integrity:
        reason(grave, GRAVE, "L'intégrité de données de santé est atteinte.")
    if impacts.degraded_mode:
        reason(grave, GRAVE, "Le fonctionnement normal de la structure est perturbé (mode dégradé).")
    elif impacts.data_unavailable:
        reason(
            grave,
            GRAVE,
            "Le fonctionnement normal de la structure est perturbé (données indisponibles).",
        )

    if context.shared_provider is not None:
        reason(
            significatif,
            SIGNIFICATIF,
            f"L'incident touche un prestataire partagé ({context.shared_provider}) : "
            "d'autres structures peuvent être atteintes.",
        )
    if context.campaign_declarations >= 2:
        reason(
            significatif,
            SIGNIFICATIF,
            # The size the decision was made on: a campaign grows after, its members' decisions
            # stand (the campaign's latest size is shown with it, under the threat context).
            f"L'incident fait partie d'une campagne ({context.campaign_declarations} déclarations liées"
            " lors de l'évaluation).",
        )
    if context.ransomware_cves:
        cves = ", ".join(context.ransomware_cves)
        reason(
            significatif,
            SIGNIFICATIF,
            f"Vulnérabilité exploitée connue pour servir aux campagnes de rançongiciel ({cves}) : "
            "d'autres structures équipées sont exposées.",
        )
    if impacts.care_interrupted and content.structure.type is StructureType.health_facility:
        reason(
            significatif,
            SIGNIFICATIF,
            "Des soins interrompus dans un établissement de santé reportent des patients vers d'autres structures.",
        )

    nis2_significant: bool | None = None
    if content.structure.essential_operator:
        if impacts.degraded_mode or impacts.care_interrupted or impacts.data_unavailable:
            reason(
                nis2,
                NIS2_DISRUPTION,
                "Perturbation opérationnelle grave des services de l'entité essentielle.",
            )
        if impacts.patient_safety is PatientSafety.proven or impacts.data_disclosure:
            reason(
                nis2,
                NIS2_DAMAGE,
                "Dommages considérables causés à des personnes (patients, données).",
            )
        nis2_significant = bool(nis2)

    return Severity(
        grave=bool(grave),
        significatif=bool(significatif),
        nis2_significant=nis2_significant,
        reasons=[*grave, *significatif, *nis2],
    )
