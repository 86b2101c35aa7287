"""How the contracts' values read in French, for the e-mails and the dashboard: one vocabulary."""

from .declaration import (
    Category,
    DataKind,
    IncidentStatus,
    LegalStatus,
    Origin,
    PatientSafety,
    Regime,
    StructureType,
    TerritorialExtent,
)
from .events import RevisionKind

CATEGORIES: dict[str, str] = {
    Category.ransomware: "rançongiciel",
    Category.phishing: "hameçonnage",
    Category.account_compromise: "compromission de compte",
    Category.malware: "logiciel malveillant",
    Category.denial_of_service: "déni de service",
    Category.intrusion: "intrusion",
    Category.data_theft: "vol de données",
    Category.vulnerability_exploitation: "exploitation de vulnérabilité",
    Category.technical_failure: "défaillance technique",
    Category.human_error: "erreur humaine",
    Category.provider_incident: "incident chez un prestataire",
    Category.equipment_theft: "vol de matériel",
    Category.other: "autre",
}
ORIGINS: dict[str, str] = {
    Origin.malicious: "malveillante",
    Origin.accidental: "accidentelle",
    Origin.unknown: "inconnue",
}
STRUCTURE_TYPES: dict[str, str] = {
    StructureType.health_facility: "établissement de santé",
    StructureType.medico_social: "établissement médico-social",
    StructureType.biology_lab: "laboratoire de biologie médicale",
    StructureType.radiotherapy_centre: "centre de radiothérapie",
    StructureType.military_hospital: "hôpital des armées",
    StructureType.other: "autre structure",
}
LEGAL_STATUSES: dict[str, str] = {
    LegalStatus.public: "public",
    LegalStatus.private_non_profit: "privé non lucratif",
    LegalStatus.private_for_profit: "privé lucratif",
}
REGIMES: dict[str, str] = {
    Regime.ose: "opérateur de services essentiels (OSE)",
    Regime.nis2_essential: "entité essentielle (NIS2)",
    Regime.nis2_important: "entité importante (NIS2)",
    Regime.none: "ni OSE ni NIS2",
}
TERRITORIAL_EXTENTS: dict[str, str] = {
    TerritorialExtent.local: "local",
    TerritorialExtent.departmental: "départemental",
    TerritorialExtent.regional: "régional",
    TerritorialExtent.national: "national",
}
DATA_KINDS: dict[str, str] = {
    DataKind.health: "données de santé",
    DataKind.identity: "identité",
    DataKind.social_security_number: "NIR",
    DataKind.contact: "coordonnées",
    DataKind.financial: "données bancaires ou financières",
    DataKind.credentials: "identifiants de connexion",
    DataKind.other: "autres",
}
PATIENT_SAFETY: dict[str, str] = {
    PatientSafety.none: "aucune mise en danger",
    PatientSafety.potential: "mise en danger potentielle",
    PatientSafety.proven: "mise en danger avérée",
}
STATUSES: dict[str, str] = {
    IncidentStatus.ongoing: "en cours",
    IncidentStatus.contained: "maîtrisé",
    IncidentStatus.resolved: "résolu",
}
KINDS: dict[str, str] = {
    RevisionKind.initial: "déclaration initiale",
    RevisionKind.early_warning: "alerte précoce",
    RevisionKind.notification: "notification d'incident",
    RevisionKind.final_report: "rapport final",
    RevisionKind.update: "mise à jour",
}
MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
