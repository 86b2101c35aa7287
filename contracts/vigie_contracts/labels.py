"""How the contracts' values read in French, for the e-mails and the dashboard: one vocabulary."""

from .declaration import Category, IncidentStatus, Origin, PatientSafety, StructureType
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
    StructureType.other: "autre structure",
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
