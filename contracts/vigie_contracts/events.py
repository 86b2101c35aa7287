"""Event envelope and the v1 events of each topic.

Every event is one envelope: who produced what, when, about which aggregate (a declaration, or a
credential), and its data. The aggregate's id is also the Kafka key, so all events of one
declaration stay in order.
"""

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .declaration import DeclarationContent, Email, IndicatorType
from .topics import (
    CREDENTIAL_CHANGED,
    DECLARATION_ENRICHED,
    DECLARATION_SUBMITTED,
    NOTIFICATION_DISPATCHED,
    TopicSpec,
)

Reference = Annotated[str, Field(pattern=r"^VIG-\d{4}-\d{6,}$", examples=["VIG-2026-000042"])]


class BaseEnvelope(BaseModel):
    """What every event says of itself, whatever it is about."""

    model_config = ConfigDict(frozen=True)

    topic: ClassVar[TopicSpec]
    aggregate_type: ClassVar[str]

    event_id: UUID
    type: str
    schema_version: str  # each event's major.minor: its topic's name carries the major
    occurred_at: AwareDatetime
    producer: str

    @property
    def key(self) -> UUID:
        """The id of what the event is about: its Kafka key."""
        raise NotImplementedError


class Envelope(BaseEnvelope):
    """An event of one declaration."""

    aggregate_type: ClassVar[str] = "declaration"

    declaration_id: UUID

    @property
    def key(self) -> UUID:
        return self.declaration_id


class RevisionKind(StrEnum):
    initial = "initial"
    early_warning = "early_warning"
    notification = "notification"
    final_report = "final_report"
    update = "update"


class SubmittedData(BaseModel):
    model_config = ConfigDict(frozen=True)

    reference: Reference
    revision: Annotated[int, Field(ge=1)]
    kind: RevisionKind
    submitted_at: AwareDatetime
    declaration: DeclarationContent
    # The declarant's address, when the intake found it in a mail domain registered with the
    # partner's credential: only then is it sent the acknowledgement (no mail relay for anyone).
    acknowledge_to: Email | None = None


class DeclarationSubmitted(Envelope):
    """A declaration, or a new revision of it, was accepted by the intake."""

    topic = DECLARATION_SUBMITTED
    type: Literal["declaration.submitted"] = "declaration.submitted"
    schema_version: Literal["1.0"] = "1.0"
    data: SubmittedData


class Place(BaseModel):
    """An official territorial unit: INSEE code and official name."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str


class AttackTechnique(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: Annotated[str, Field(pattern=r"^T\d{4}(\.\d{3})?$", examples=["T1486"])]
    name: str


class Classification(BaseModel):
    """The declaration in the taxonomies CSIRTs exchange: RSIT and NIS2 as MISP machine tags
    (``rsit:fraud="phishing"``), and the MITRE ATT&CK techniques its facts imply."""

    model_config = ConfigDict(frozen=True)

    rsit: list[str] = []
    attack: list[AttackTechnique] = []
    nis2: list[str] = []


class SeverityReason(BaseModel):
    model_config = ConfigDict(frozen=True)

    criterion: str
    text: str


class Severity(BaseModel):
    """Grave and significatif under art. D1111-16-2 of the Code de la santé publique; significant
    under NIS2 for its essential and important entities, and under the law on essential-service
    operators (OSE) for those (each None when its regime does not bind the structure); and why."""

    model_config = ConfigDict(frozen=True)

    grave: bool
    significatif: bool
    nis2_significant: bool | None = None
    ose_significant: bool | None = None
    reasons: list[SeverityReason] = []


class ObservedIndicator(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: IndicatorType
    value: str
    origin: Literal["declared", "text"]


class KevEntry(BaseModel):
    """What CISA's Known Exploited Vulnerabilities catalog says of a CVE."""

    model_config = ConfigDict(frozen=True)

    cve: str
    vendor: str
    product: str
    name: str
    date_added: date
    known_ransomware_use: bool


class ThreatMatch(BaseModel):
    """An indicator of the declaration found in threat intelligence."""

    model_config = ConfigDict(frozen=True)

    type: IndicatorType
    value: str
    matched: str  # the value the intelligence lists (a parent domain, say)
    source: str
    tags: list[str] = []
    threat_actor: str | None = None
    malware: str | None = None
    description: str | None = None
    kev: KevEntry | None = None


class CampaignLink(BaseModel):
    """Declarations linked by what they share (an indicator, a provider, an exploited CVE)
    within a time window."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    kind: Literal["indicator", "provider", "cve"]
    key: str
    label: str
    declarations: int


class DeclarantView(BaseModel):
    """What the declaration's own facts and the threat intelligence give, without what other
    declarations taught (a campaign, a shared provider's other incidents): what its declarant
    is shown. Other partners' incidents are not theirs to learn of, even as a count."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    classification: Classification = Classification()


class EnrichedData(SubmittedData):
    departement: Place
    region: Place
    ars: Place
    enriched_at: AwareDatetime
    classification: Classification = Classification()
    severity: Severity | None = None
    indicators: list[ObservedIndicator] = []
    matches: list[ThreatMatch] = []
    campaigns: list[CampaignLink] = []
    # Incidents at a shared provider hang under one parent incident, to be counted once.
    parent_incident: CampaignLink | None = None
    # How many incidents this structure declared in the twelve months to this one, itself included.
    structure_incidents_12_months: int = 1
    declarant_view: DeclarantView | None = None


class DeclarationEnriched(Envelope):
    """A declaration revision with its place in the territory (and, later, its threat context)."""

    topic = DECLARATION_ENRICHED
    type: Literal["declaration.enriched"] = "declaration.enriched"
    schema_version: Literal["1.0"] = "1.0"
    data: EnrichedData


class RecipientKind(StrEnum):
    ars = "ars"
    cert_sante = "cert_sante"
    ministry = "ministry"  # the ministries' security officer (HFDS, its FSSI unit): told of every declaration
    declarant = "declarant"  # who declared: an acknowledgement with the reference


class Channel(StrEnum):
    webhook = "webhook"
    email = "email"


class Outcome(StrEnum):
    sent = "sent"
    retrying = "retrying"
    failed = "failed"


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: RecipientKind
    code: str
    name: str


class DeliveryOutcome(BaseModel):
    """What came of one attempt at one delivery: a recipient, by one channel."""

    model_config = ConfigDict(frozen=True)

    delivery_id: UUID
    recipient: Recipient
    channel: Channel
    outcome: Outcome
    attempt: Annotated[int, Field(ge=1)]
    at: AwareDatetime
    error: str | None = None


class DispatchedData(BaseModel):
    model_config = ConfigDict(frozen=True)

    reference: Reference
    revision: Annotated[int, Field(ge=1)]
    deliveries: Annotated[list[DeliveryOutcome], Field(min_length=1)]


class NotificationDispatched(Envelope):
    """What came of attempts at the deliveries of one declaration revision, recorded together.

    The deliveries of a revision (every recipient and channel) are sent at once and their
    outcomes written in one transaction, so one event usually tells them all; an outcome recorded
    later (a retry) comes in an event of its own. Version 2: version 1 told one delivery an
    event, five or more events a declaration, each consumed by two services."""

    topic = NOTIFICATION_DISPATCHED
    type: Literal["notification.dispatched"] = "notification.dispatched"
    schema_version: Literal["2.0"] = "2.0"
    data: DispatchedData


class CredentialKind(StrEnum):
    partner = "partner"  # declares for its structures, reads what it declared
    ars = "ars"  # reads its region's declarations and exact figures
    national = "national"  # CERT Santé: reads everything


class CredentialData(BaseModel):
    """A credential as a service that checks it needs it: whom it acts for, what it may read,
    and the SHA-256 of its secret (256 random bits: the hash gives nothing to guess from)."""

    model_config = ConfigDict(frozen=True)

    principal: str
    kind: CredentialKind
    name: str
    region_code: str | None = None  # an ARS credential's region (INSEE code)
    secret_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    created_at: AwareDatetime
    revoked_at: AwareDatetime | None = None


class CredentialChanged(BaseEnvelope):
    """A credential that reads figures (ARS, national) was created or revoked. The declaration
    service, which issues credentials, publishes it; the stats service keeps a copy to check the
    credentials presented to it. The topic is compacted: the latest state of each credential
    stays, for good."""

    topic = CREDENTIAL_CHANGED
    aggregate_type: ClassVar[str] = "credential"
    type: Literal["credential.changed"] = "credential.changed"
    schema_version: Literal["1.0"] = "1.0"
    credential_id: UUID
    data: CredentialData

    @property
    def key(self) -> UUID:
        return self.credential_id


Event = DeclarationSubmitted | DeclarationEnriched | NotificationDispatched | CredentialChanged
EVENTS: tuple[type[BaseEnvelope], ...] = (
    DeclarationSubmitted,
    DeclarationEnriched,
    NotificationDispatched,
    CredentialChanged,
)


def event_type_for_topic(topic: str) -> type[BaseEnvelope]:
    for event in EVENTS:
        if event.topic.name == topic:
            return event
    raise KeyError(topic)


__all__ = [
    "EVENTS",
    "BaseEnvelope",
    "Channel",
    "CredentialChanged",
    "CredentialData",
    "CredentialKind",
    "DeclarantView",
    "DeclarationEnriched",
    "DeclarationSubmitted",
    "DeliveryOutcome",
    "DispatchedData",
    "EnrichedData",
    "Envelope",
    "Event",
    "NotificationDispatched",
    "Outcome",
    "Place",
    "Recipient",
    "RecipientKind",
    "RevisionKind",
    "SubmittedData",
]
