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


class StructureType(StrEnum):
    health_facility = "health_facility"
    medico_social = "medico_social"
    biology_lab = "biology_lab"
    radiotherapy_centre = "radiotherapy_centre"
    other = "other"


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


def _valid_finess(value: str) -> str:
    return parse_finess(value).number


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


class Structure(_Strict):
    finess: FinessNumber
    finess_ej: FinessNumber | None = None
    name: ShortText
    type: StructureType
    essential_operator: bool = False


class Declarant(_Strict):
    name: ShortText
    role: ShortText
    email: Email
    phone: Annotated[str, Field(max_length=30, pattern=r"^\+?[0-9 ().-]{6,30}$")] | None = None


class Impacts(_Strict):
    degraded_mode: bool = False
    care_interrupted: bool = False
    patient_safety: PatientSafety = PatientSafety.none
    data_unavailable: bool = False
    data_integrity: bool = False
    data_disclosure: bool = False


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
    # When the structure notified the CNIL of a personal-data breach (GDPR art. 33), if it did.
    cnil_notified_at: Instant | None = None

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

    @field_validator("cnil_notified_at")
    @classmethod
    def _after_detection_and_past(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        detected_at = info.data.get("detected_at")
        if value is None:
            return value
        if value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("must not be in the future")
        if detected_at is not None and value < detected_at:
            raise ValueError("must not be before detected_at")
        return value
