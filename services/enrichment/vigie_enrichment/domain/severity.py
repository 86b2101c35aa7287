"""Is the incident grave, is it significatif, and why (art. D1111-16-2 of the Code de la santé
publique); is it significant under the cybersecurity regime that binds the structure. The
rules, with their sources, are listed in ``docs/rules.md``.

- grave (II): care safety endangered (potentially or proven), confidentiality or integrity of
  health data hit, normal operation of the structure disrupted;
- significatif (III): *among the grave ones*, those whose repercussions on the departmental,
  regional or national organisation of the health system are potential or proven **and** which
  are likely to reach other structures (a shared provider, a campaign, a vulnerability used by
  ransomware groups, patients sent elsewhere);
- NIS2 significant, for essential and important entities (art. 23(3)): severe operational
  disruption (a), or considerable damage that has affected *or may affect* persons (b);
- OSE (loi n° 2018-133, art. 7): a significant impact, had or likely, on the continuity of the
  essential service.

The reasons are written for the people who read them, in French.
"""

from dataclasses import dataclass

from vigie_contracts.declaration import (
    DeclarationContent,
    PatientSafety,
    Regime,
    StructureType,
    TerritorialExtent,
)
from vigie_contracts.events import Severity, SeverityReason

GRAVE = "CSP D1111-16-2, incident grave"
SIGNIFICATIF = "CSP D1111-16-2, incident significatif"
NIS2_DISRUPTION = "NIS2 art. 23(3)(a)"
NIS2_DAMAGE = "NIS2 art. 23(3)(b)"
OSE_CONTINUITY = "Loi 2018-133 art. 7 (OSE)"

# Where patients are cared for: care interrupted there sends them to other structures.
_CARE_FACILITIES = (StructureType.health_facility, StructureType.military_hospital)
_EXTENT = {
    TerritorialExtent.departmental: "départemental",
    TerritorialExtent.regional: "régional",
    TerritorialExtent.national: "national",
}


@dataclass(frozen=True)
class Context:
    """What enrichment learnt beyond the declaration itself."""

    shared_provider: str | None = None
    campaign_declarations: int = 0
    ransomware_cves: tuple[str, ...] = ()


def _grave(content: DeclarationContent) -> list[str]:
    impacts = content.impacts
    texts = []
    if impacts.patient_safety is PatientSafety.proven:
        texts.append("La sécurité des soins a été mise en danger (conséquence avérée).")
    elif impacts.patient_safety is PatientSafety.potential:
        texts.append("La sécurité des soins peut être mise en danger (conséquence potentielle).")
    if impacts.care_interrupted:
        texts.append("Des soins ont été interrompus.")
    if impacts.data_disclosure:
        texts.append("La confidentialité de données de santé est atteinte.")
    if impacts.data_integrity:
        texts.append("L'intégrité de données de santé est atteinte.")
    if impacts.degraded_mode:
        texts.append("Le fonctionnement normal de la structure est perturbé (mode dégradé).")
    elif impacts.data_unavailable:
        texts.append("Le fonctionnement normal de la structure est perturbé (données indisponibles).")
    return texts


def _beyond_the_structure(content: DeclarationContent, patients_sent_elsewhere: bool) -> list[str]:
    """Repercussions on the organisation of the health system beyond the structure."""
    texts = []
    extent = content.impacts.territorial_extent
    if extent in _EXTENT:
        texts.append(f"Retentissement {_EXTENT[extent]} sur l'organisation du système de santé, selon la structure.")
    if patients_sent_elsewhere:
        texts.append(
            "Des soins interrompus dans un établissement de santé reportent des patients vers d'autres structures."
        )
    return texts


def _others_exposed(context: Context) -> list[str]:
    """What makes the incident likely to reach other structures, besides patients sent to them."""
    texts = []
    if context.shared_provider is not None:
        texts.append(
            f"L'incident touche un prestataire partagé ({context.shared_provider}) : "
            "d'autres structures peuvent être atteintes."
        )
    if context.campaign_declarations >= 2:
        # The size the decision was made on: a campaign grows after, its members' decisions
        # stand (the campaign's latest size is shown with it, under the threat context).
        texts.append(
            f"L'incident fait partie d'une campagne ({context.campaign_declarations} déclarations liées"
            " lors de l'évaluation)."
        )
    if context.ransomware_cves:
        texts.append(
            f"Vulnérabilité exploitée connue pour servir aux campagnes de rançongiciel"
            f" ({', '.join(context.ransomware_cves)}) : d'autres structures équipées sont exposées."
        )
    return texts


def _nis2(content: DeclarationContent) -> list[SeverityReason]:
    impacts = content.impacts
    reasons = []
    if impacts.degraded_mode or impacts.care_interrupted or impacts.data_unavailable:
        reasons.append(
            SeverityReason(
                criterion=NIS2_DISRUPTION, text="Perturbation opérationnelle grave des services de l'entité."
            )
        )
    # (b) counts damage that has affected persons or is capable of it: potential harm too.
    if (
        impacts.patient_safety is not PatientSafety.none
        or impacts.care_interrupted
        or impacts.data_disclosure
        or impacts.data_integrity
    ):
        reasons.append(
            SeverityReason(
                criterion=NIS2_DAMAGE,
                text="Des personnes (patients, personnes dont les données sont atteintes) ont subi"
                " ou peuvent subir des dommages considérables.",
            )
        )
    return reasons


def _ose(content: DeclarationContent) -> list[SeverityReason]:
    impacts = content.impacts
    if impacts.degraded_mode or impacts.care_interrupted or impacts.data_unavailable:
        return [
            SeverityReason(
                criterion=OSE_CONTINUITY,
                text="Impact, avéré ou possible, sur la continuité du service essentiel.",
            )
        ]
    return []


def assess(content: DeclarationContent, context: Context | None = None) -> Severity:
    context = context or Context()
    patients_sent_elsewhere = content.impacts.care_interrupted and content.structure.type in _CARE_FACILITIES
    grave = _grave(content)
    beyond = _beyond_the_structure(content, patients_sent_elsewhere)
    others = _others_exposed(context)
    # Art. D1111-16-2 III: chosen among the grave ones, with both conditions met. Patients sent
    # elsewhere meet both: the département's care is reorganised, and other structures take them.
    significatif = bool(grave and beyond and (others or patients_sent_elsewhere))

    regime = content.structure.binding_regime
    nis2 = _nis2(content) if regime in (Regime.nis2_essential, Regime.nis2_important) else []
    ose = _ose(content) if regime is Regime.ose else []
    return Severity(
        grave=bool(grave),
        significatif=significatif,
        nis2_significant=bool(nis2) if regime in (Regime.nis2_essential, Regime.nis2_important) else None,
        ose_significant=bool(ose) if regime is Regime.ose else None,
        reasons=[
            *(SeverityReason(criterion=GRAVE, text=text) for text in grave),
            *(SeverityReason(criterion=SIGNIFICATIF, text=text) for text in (beyond + others if significatif else [])),
            *nis2,
            *ose,
        ],
    )
