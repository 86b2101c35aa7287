"""Realistic declarations for the demo and the tests: every region and structure type, with the
kinds of incidents the national observatory sees most."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from vigie_contracts.finess import with_check_digit
from vigie_contracts.territory import REGIONS

# A département of each region, as a FINESS prefix (overseas: 970x, and 9805 for Mayotte).
REGION_DEPARTEMENTS = {
    "01": "9701", "02": "9702", "03": "9703", "04": "9704", "06": "9805", "975": "9705",
    "11": "75", "24": "45", "27": "21", "28": "76", "32": "59", "44": "67",
    "52": "44", "53": "35", "75": "33", "76": "31", "84": "69", "93": "13", "94": "2A",
}  # fmt: skip

STRUCTURE_NAMES = {
    "health_facility": "Centre hospitalier",
    "medico_social": "EHPAD Les Tilleuls",
    "biology_lab": "Laboratoire de biologie médicale",
    "radiotherapy_centre": "Centre de radiothérapie",
    "military_hospital": "Hôpital d'instruction des armées",
    "other": "Groupement de coopération sanitaire",
}


def finess_in(region_code: str, serial: int) -> str:
    prefix = REGION_DEPARTEMENTS[region_code]
    return with_check_digit(prefix + str(serial % 10 ** (8 - len(prefix))).zfill(8 - len(prefix)))


def declaration(
    *,
    finess: str,
    structure_type: str = "health_facility",
    category: str = "ransomware",
    origin: str = "malicious",
    name: str | None = None,
    detected_at: datetime | None = None,
    description: str | None = None,
    essential_operator: bool = False,
    regime: str | None = None,
    legal_status: str | None = None,
    territorial_extent: str | None = None,
    degraded_mode: bool = False,
    patient_safety: str = "none",
    support_requested: bool = False,
    indicators: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    detected = detected_at or datetime.now(UTC) - timedelta(hours=2)
    return {
        "structure": {
            "finess": finess,
            "name": name or f"{STRUCTURE_NAMES[structure_type]} ({finess[:3]})",
            "type": structure_type,
            "essential_operator": essential_operator,
            **({"regime": regime} if regime else {}),
            **({"legal_status": legal_status} if legal_status else {}),
        },
        "declarant": {
            "name": "Claire Martin",
            "role": "RSSI",
            "email": "rssi@structure.example.fr",
        },
        "detected_at": detected.isoformat(),
        "started_at": (detected - timedelta(hours=1)).isoformat(),
        "origin": origin,
        "category": category,
        "description": description or f"Incident {category} détecté par l'équipe informatique.",
        "status": "ongoing",
        "scope": ["servers", "workstations"],
        "impacts": {
            "degraded_mode": degraded_mode,
            "care_interrupted": False,
            "patient_safety": patient_safety,
            "data_unavailable": degraded_mode,
            "data_integrity": False,
            "data_disclosure": False,
            **({"territorial_extent": territorial_extent} if territorial_extent else {}),
        },
        "indicators": indicators or [],
        "support_requested": support_requested,
    }


def demo_declarations() -> list[dict[str, Any]]:
    return [
        declaration(
            finess=finess_in("11", 712180),
            name="CHU Saint-Exemple (Paris)",
            regime="nis2_essential",
            legal_status="public",
            territorial_extent="regional",
            degraded_mode=True,
            patient_safety="potential",
            support_requested=True,
            description=(
                "Serveurs de fichiers et PACS chiffrés après une intrusion par le VPN SSL ;"
                " connexions vers 185.234.218[.]52 ; urgences en mode dégradé."
            ),
            indicators=[{"type": "cve", "value": "CVE-2018-13379"}],
        ),
        declaration(
            finess=finess_in("94", 100021),
            structure_type="medico_social",
            category="phishing",
            name="EHPAD A Casa (Ajaccio)",
            description=(
                "Courriel « remboursement » menant à hxxps://ameli-remboursement[.]top/espace ;"
                " deux comptes de messagerie compromis."
            ),
        ),
        declaration(
            finess=finess_in("04", 210330),
            structure_type="biology_lab",
            category="provider_incident",
            origin="unknown",
            name="Laboratoire de l'Océan (Saint-Denis, La Réunion)",
            description="Panne de l'hébergeur du système de gestion de laboratoire.",
        ),
        declaration(
            finess=finess_in("84", 400512),
            structure_type="radiotherapy_centre",
            category="technical_failure",
            origin="accidental",
            name="Centre de radiothérapie du Rhône (Lyon)",
            degraded_mode=True,
            description="Défaillance du stockage des plans de traitement ; séances reportées.",
        ),
        declaration(
            finess=finess_in("01", 500117),
            category="account_compromise",
            name="Clinique des Alizés (Guadeloupe)",
            description="Connexion VPN suspecte avec un compte d'administrateur.",
        ),
    ]


def year_of_declarations(count: int, *, seed: int = 2021) -> list[dict[str, Any]]:
    """``count`` declarations spread across every region and structure type."""
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not secrets
    regions = list(REGIONS)
    types = list(STRUCTURE_NAMES)
    categories = [
        "ransomware",
        "phishing",
        "account_compromise",
        "malware",
        "denial_of_service",
        "intrusion",
        "data_theft",
        "technical_failure",
        "provider_incident",
        "human_error",
    ]
    result = []
    for index in range(count):
        region = regions[index % len(regions)]
        category = rng.choice(categories)
        origin = "accidental" if category in ("technical_failure", "human_error") else "malicious"
        result.append(
            declaration(
                finess=finess_in(region, 100000 + index),
                structure_type=types[index % len(types)],
                category=category,
                origin=origin,
                degraded_mode=rng.random() < 0.3,
                patient_safety=rng.choice(["none", "none", "potential", "proven"]),
                support_requested=rng.random() < 0.4,
            )
        )
    return result
