"""The partner payload, version 1: what a structure declares, as partners code against it.

These models are the HTTP contract of the declaration service and the content carried by
every declaration event downstream, so they are defined here, once.
"""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .finess import parse_finess

# A partner's clock may run slightly ahead of ours; beyond this, "detected in the future"
# is an error in the payload, not clock skew.
CLOCK_SKEW = timedelta(minutes=5)
# No health information system incident is declared from before this: a date earlier is a
# mistake in the payload (and one every service downstream could not store, 0001-01-01+14:00).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)

MAX_DESCRIPTION = 10_000
MAX_INDICATORS = 500
MAX_ACTIONS = 5_000
MAX_AFFECTED = 30  # functions, or systems, named one by one
# Beyond the population of France: an estimate larger than this is a typing error.
MAX_PERSONS = 100_000_000


class StructureType(StrEnum):
    health_facility = "health_facility"
    medico_social = "medico_social"
    biology_lab = "biology_lab"
    radiotherapy_centre = "radiotherapy_centre"
    military_hospital = "military_hospital"  # hôpital des armées (service de santé des armées)
    other = "other"


class LegalStatus(StrEnum):
    public = "public"
    private_non_profit = "private_non_profit"
    private_for_profit = "private_for_profit"


class Regime(StrEnum):
    """Which cybersecurity law binds the structure beyond the Code de la santé publique."""

    # Opérateur de services essentiels: loi n° 2018-133 and décret n° 2018-384 (directive NIS 1),
    # in force until the transposition of NIS2 replaces it.
    ose = "ose"
    nis2_essential = "nis2_essential"  # entité essentielle, directive (UE) 2022/2555
    nis2_important = "nis2_important"  # entité importante, directive (UE) 2022/2555
    none = "none"


class Origin(StrEnum):
    malicious = "malicious"
    accidental = "accidental"
    unknown = "unknown"


class Category(StrEnum):
    ransomware = "ransomware"
    phishing = "phishing"
    account_compromise = "account_compromise"
    malware = "malware"
    denial_of_service = "denial_of_service"
    intrusion = "intrusion"
    data_theft = "data_theft"
    vulnerability_exploitation = "vulnerability_exploitation"
    technical_failure = "technical_failure"
    human_error = "human_error"
    provider_incident = "provider_incident"
    equipment_theft = "equipment_theft"
    other = "other"


class IncidentStatus(StrEnum):
    ongoing = "ongoing"
    contained = "contained"
    resolved = "resolved"


class Scope(StrEnum):
    workstations = "workstations"
    servers = "servers"
    directory = "directory"
    messaging = "messaging"
    vpn = "vpn"
    patient_records = "patient_records"
    lab = "lab"
    imaging = "imaging"
    telecom = "telecom"
    provider_hosted = "provider_hosted"


class PatientSafety(StrEnum):
    none = "none"
    potential = "potential"
    proven = "proven"


class TerritorialExtent(StrEnum):
    """How far the incident's consequences reach, or may reach, in the organisation of care: what
    art. D1111-16-2 III of the Code de la santé publique weighs for a significant incident."""

    local = "local"  # the structure alone
    departmental = "departmental"
    regional = "regional"
    national = "national"


class DataKind(StrEnum):
    health = "health"
    identity = "identity"
    social_security_number = "social_security_number"
    contact = "contact"
    financial = "financial"
    credentials = "credentials"
    other = "other"


class IndicatorType(StrEnum):
    ipv4 = "ipv4"
    ipv6 = "ipv6"
    domain = "domain"
    url = "url"
    sha256 = "sha256"
    sha1 = "sha1"
    md5 = "md5"
    email = "email"
    cve = "cve"


# The validation context of a payload offered to Vigie (``model_validate(..., context=ADMITTING)``):
# every rule applies. Without it, the payload is one Vigie accepted before (an event, a stored
# declaration) and is read as it was accepted: a FINESS number's check digit is not computed
# again, so that a rule corrected since loses nothing already taken in.
ADMISSION = "admission"
ADMITTING = {ADMISSION: True}
# Beside ADMISSION: numbers the declaration already holds, which a revision keeps as they were.
HELD = "held_finess"


def _valid_finess(value: str, info: ValidationInfo) -> str:
    context = info.context or {}
    admitting = bool(context.get(ADMISSION)) and value.strip().upper() not in context.get(HELD, ())
    return parse_finess(value, admitting=admitting).number


def _not_before_1990(value: datetime) -> datetime:
    if value < EARLIEST:
        raise ValueError("must not be before 1990-01-01")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_not_before_1990)]


def _no_nul(value: str) -> str:
    # PostgreSQL stores no NUL character in text or JSON: refuse it here, by field, rather than
    # fail when storing.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (\\u0000)")
    return value


NoNul = AfterValidator(_no_nul)
# What the validators above enforce, said in the published schema so that a partner's own
# validator refuses the same: no NUL anywhere, and something besides blanks (the service strips
# blanks at either end, then counts what is left). The validators give the precise message.
TEXT_PATTERN = r"^[^\x00]*[^\s\x00-\x1f][^\x00]*$"
_TEXT = {"pattern": TEXT_PATTERN}


FinessNumber = Annotated[
    str,
    # The shape (a département, 2A/2B, or 970x, then digits); the check digit is checked after.
    Field(
        min_length=9,
        max_length=9,
        json_schema_extra={"pattern": r"^(?:[0-9]{2}|2[ABab])[0-9]{7}$"},
        examples=["750712184"],
    ),
    AfterValidator(_valid_finess),
]
ShortText = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra=_TEXT), NoNul]
Email = Annotated[
    str,
    Field(
        max_length=254,
        pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$",
        examples=["rssi@chu.example.fr"],
    ),
    NoNul,
]


class _Strict(BaseModel):
    # Unknown fields are refused rather than dropped: a partner who misspells a field
    # must hear about it, not lose what it meant to say.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


Phone = Annotated[str, Field(max_length=30, pattern=r"^\+?[0-9 ().-]{6,30}$")]
# Named one by one, in the structure's words ("urgences", "bloc opératoire", "DPI", "PACS").
Affected = Annotated[list[ShortText], Field(max_length=MAX_AFFECTED)]


def _past(value: datetime | None) -> datetime | None:
    if value is not None and value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("must not be in the future")
    return value


# An instant that has happened: when something was done, not when it is planned.
PastInstant = Annotated[Instant, AfterValidator(_past)]


class Structure(_Strict):
    finess: FinessNumber
    finess_ej: FinessNumber | None = None
    name: ShortText
    type: StructureType
    # Kept from the first version of the payload, where it meant a NIS2 essential entity: when
    # ``regime`` is not given, ``true`` reads as ``nis2_essential``.
    essential_operator: bool = False
    legal_status: LegalStatus | None = None
    regime: Regime | None = None

    @model_validator(mode="after")
    def _one_regime(self) -> "Structure":
        if self.essential_operator and self.regime in (Regime.none, Regime.nis2_important):
            raise ValueError(f"essential_operator is true but regime is {self.regime.value!r}")
        return self

    @property
    def binding_regime(self) -> Regime:
        """The regime the structure is bound by, from ``regime`` or, failing it, the older flag."""
        if self.regime is not None:
            return self.regime
        return Regime.nis2_essential if self.essential_operator else Regime.none


class Declarant(_Strict):
    name: ShortText
    role: ShortText
    email: Email
    phone: Phone | None = None


class Contact(_Strict):
    """Whom CERT Santé calls about the incident, when it is not the declarant."""

    name: ShortText
    email: Email
    phone: Phone | None = None


class Complaint(_Strict):
    filed: bool
    filed_at: PastInstant | None = None

    @model_validator(mode="after")
    def _when_filed(self) -> "Complaint":
        if self.filed_at is not None and not self.filed:
            raise ValueError("filed_at is given but filed is false")
        return self


class PersonalData(_Strict):
    """The personal data the incident reached: an estimate of the persons, and which kinds."""

    persons_affected: Annotated[int, Field(ge=0, le=MAX_PERSONS)] | None = None
    kinds: Annotated[list[DataKind], Field(max_length=len(DataKind))] = []


class Impacts(_Strict):
    degraded_mode: bool = False
    care_interrupted: bool = False
    patient_safety: PatientSafety = PatientSafety.none
    data_unavailable: bool = False
    data_integrity: bool = False
    data_disclosure: bool = False
    territorial_extent: TerritorialExtent | None = None


class Indicator(_Strict):
    type: IndicatorType
    value: Annotated[str, Field(min_length=1, max_length=2048, json_schema_extra=_TEXT), NoNul]


class Provider(_Strict):
    name: ShortText


class DeclarationContent(_Strict):
    """One declaration as a partner states it (partner payload v1)."""

    structure: Structure
    declarant: Declarant
    detected_at: Instant
    started_at: Instant | None = None
    origin: Origin
    category: Category
    description: Annotated[str, Field(min_length=1, max_length=MAX_DESCRIPTION, json_schema_extra=_TEXT), NoNul]
    status: IncidentStatus
    scope: Annotated[list[Scope], Field(max_length=len(Scope))] = []
    impacts: Impacts = Impacts()
    indicators: Annotated[list[Indicator], Field(max_length=MAX_INDICATORS)] = []
    provider: Provider | None = None
    support_requested: bool = False
    cert_contact: Contact | None = None
    affected_functions: Affected = []
    affected_systems: Affected = []
    actions_taken: (
        Annotated[str, Field(min_length=1, max_length=MAX_ACTIONS, json_schema_extra=_TEXT), NoNul] | None
    ) = None
    complaint: Complaint | None = None
    personal_data: PersonalData | None = None
    resolved_at: PastInstant | None = None
    # What the structure says it did itself; Vigie passes a declaration on to the ARS, CERT Santé
    # and the HFDS, and never to the CNIL or ANSSI. When it notified the CNIL of a personal-data
    # breach (GDPR art. 33), and when it sent ANSSI its NIS2 early warning, incident notification
    # and final report (directive (UE) 2022/2555, art. 23(4)), if it did.
    cnil_notified_at: PastInstant | None = None
    anssi_early_warning_at: PastInstant | None = None
    anssi_notified_at: PastInstant | None = None
    anssi_final_report_at: PastInstant | None = None

    @field_validator("detected_at")
    @classmethod
    def _not_in_future(cls, value: datetime) -> datetime:
        if value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("must not be in the future")
        return value

    @field_validator("started_at")
    @classmethod
    def _not_after_detection(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        detected_at = info.data.get("detected_at")
        if value is not None and detected_at is not None and value > detected_at:
            raise ValueError("must not be after detected_at")
        return value

    @field_validator(
        "cnil_notified_at", "anssi_early_warning_at", "anssi_notified_at", "anssi_final_report_at", "resolved_at"
    )
    @classmethod
    def _not_before_detection(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        detected_at = info.data.get("detected_at")
        if value is not None and detected_at is not None and value < detected_at:
            raise ValueError("must not be before detected_at")
        return value

    @model_validator(mode="after")
    def _resolved_when_resolved(self) -> "DeclarationContent":
        if self.resolved_at is not None and self.status is not IncidentStatus.resolved:
            raise ValueError(f"resolved_at is given but status is {self.status.value!r}")
        return self
