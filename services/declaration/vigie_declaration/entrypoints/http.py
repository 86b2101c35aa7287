"""HTTP API of the declaration service: partners declare and revise, agencies read.

Request bodies are read and validated here rather than by FastAPI's body parsing, so that every
way a body can be wrong (too large, not UTF-8, not JSON, not a declaration) gets its own precise
problem+json answer. Routes translate and delegate; the rules live in the handlers and domain.
"""

import base64
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from opentelemetry import trace
from pydantic import BaseModel, Field, ValidationError

from vigie_contracts.declaration import ADMITTING, Category, DeclarationContent
from vigie_contracts.events import (
    CampaignLink,
    Channel,
    Classification,
    DeclarantView,
    ObservedIndicator,
    Outcome,
    Place,
    Recipient,
    RecipientKind,
    RevisionKind,
    Severity,
    ThreatMatch,
)
from vigie_contracts.finess import InvalidFiness, parse_finess
from vigie_contracts.territory import DEPARTEMENTS, REGIONS
from vigie_kit.access import FailedAttempts, client_address
from vigie_kit.db import GroupCommit, driver, unit_of_work
from vigie_kit.errors import is_unique_violation
from vigie_kit.http import PROBLEM_JSON, Problem, SessionsDep, field_errors, validation_problem
from vigie_kit.periods import InvalidPeriod
from vigie_kit.telemetry import DECLARATION_ID, DECLARATION_REFERENCE

from ..adapters.credentials import caller_for
from ..adapters.orm import AuditEntry, Declaration
from ..config import DeclarationSettings
from ..domain.access import Caller, CredentialKind, Denied
from ..domain.deadlines import deadlines
from ..domain.declaration import DeclarationStatus
from ..domain.revision import RevisionCreate, RevisionRefused
from ..handlers import (
    Accepted,
    Conflict,
    DeclarationRecord,
    InvalidRevision,
    ListFilters,
    Submission,
    audit_trail,
    list_declarations,
    prepare_submission,
    read_declaration,
    record_denial,
    revise_declaration,
)
from .ratelimit import RateLimiter

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/declarations", tags=["declarations"])

M = TypeVar("M", bound=BaseModel)
A = TypeVar("A")

Intake = GroupCommit[asyncpg.Connection, Submission, Accepted | Conflict]
"""New declarations, written together as they arrive (``app.state.intake``)."""


async def _settings(request: Request) -> DeclarationSettings:
    settings: DeclarationSettings = request.app.state.service.settings
    return settings


SettingsDep = Annotated[DeclarationSettings, Depends(_settings)]


_bearer = HTTPBearer(auto_error=False, description="A partner, ARS or national credential")


async def _caller(
    request: Request,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if bearer is None or not bearer.credentials.strip():
        raise Problem(
            401,
            "send your credential as Authorization: Bearer <secret>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    failed: FailedAttempts = request.app.state.service.failed_attempts
    failed.check(request)
    async with driver(request.app.state.service.engine, transaction=False) as connection:
        caller = await caller_for(connection, bearer.credentials.strip())
    if caller is None:
        failed.failed(client_address(request))
        raise Problem(
            401,
            "this credential is unknown or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.wait_seconds(caller.credential_id, caller.rate_per_minute)
    if wait:
        limit = caller.rate_per_minute or settings.rate_per_minute
        raise Problem(
            429,
            f"more than {limit} requests a minute with this credential",
            headers={"Retry-After": str(wait)},
        )
    return caller


CallerDep = Annotated[Caller, Depends(_caller)]


async def _idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Retry safely with the same key: the same request gets the first answer.",
        ),
    ] = None,
) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= 200 or not key.isascii() or not key.isprintable():
        raise Problem(400, "Idempotency-Key is 1 to 200 printable ASCII characters")
    return key


IdempotencyKeyDep = Annotated[str | None, Depends(_idempotency_key)]


class Redactions(BaseModel):
    nir: int


class AcknowledgementPublic(BaseModel):
    """To whom the acknowledgement e-mail goes: only an address in a mail domain registered
    with the credential (``credentials create --mail-domain``); else nobody, and why."""

    to: str | None
    reason: str | None = None


class DeclarationAccepted(BaseModel):
    id: UUID
    reference: str
    revision: int
    status: DeclarationStatus
    received_at: datetime
    redactions: Redactions
    # None in the remembered answers of requests accepted before acknowledgements were restricted.
    acknowledgement: AcknowledgementPublic | None = None


class RevisionPublic(BaseModel):
    revision: int
    kind: RevisionKind
    based_on: int | None
    submitted_at: datetime
    changes: dict[str, Any]
    redactions: Redactions


class DeadlinePublic(BaseModel):
    """A legal clock of the structure's own: Vigie tracks it and never answers it in its place."""

    regime: str
    obligation: str
    addressee: str
    due_at: datetime | None = Field(description='None when the law says "sans délai"')
    fulfilled_at: datetime | None = Field(description="when the structure says it did it")
    state: str


class NotificationPublic(BaseModel):
    revision: int
    recipient: Recipient
    channel: Channel
    outcome: Outcome
    attempt: int
    at: datetime
    error: str | None


class TimelineEventPublic(BaseModel):
    at: datetime
    revision: int
    what: str
    detail: dict[str, Any]


class ThreatContext(BaseModel):
    """What enrichment attached: taxonomies, indicators, intelligence matches, campaigns. A
    partner is shown what its own declaration and the intelligence give: no campaign, parent
    incident or recurrence, which count other partners' declarations."""

    classification: Classification
    indicators: list[ObservedIndicator]
    matches: list[ThreatMatch]
    campaigns: list[CampaignLink]
    parent_incident: CampaignLink | None
    structure_incidents_12_months: int | None


class DeclarationPublic(BaseModel):
    id: UUID
    reference: str
    status: DeclarationStatus
    revision: int
    received_at: datetime
    updated_at: datetime
    declared_by: str
    departement: Place
    region: Place
    ars: Place
    severity: Severity | None
    threat_context: ThreatContext | None
    declaration: DeclarationContent
    revisions: list[RevisionPublic]
    deadlines: list[DeadlinePublic]
    notifications: list[NotificationPublic]
    timeline: list[TimelineEventPublic]
    redactions: Redactions


class DeclarationSummary(BaseModel):
    id: UUID
    reference: str
    status: DeclarationStatus
    revision: int
    received_at: datetime
    finess: str
    structure_name: str
    category: Category
    region: Place


class DeclarationPage(BaseModel):
    items: list[DeclarationSummary]
    next_cursor: str | None


class AuditEntryPublic(BaseModel):
    at: datetime
    principal: str
    credential_id: UUID | None  # which of the principal's credentials
    action: str
    revision: int | None
    detail: dict[str, Any]


def _place(stored: dict[str, Any] | None, code: str, name: str) -> Place:
    return Place.model_validate(stored) if stored else Place(code=code, name=name)


def _territory(declaration: Declaration) -> tuple[Place, Place, Place]:
    departement = DEPARTEMENTS[declaration.departement_code]
    region = REGIONS[declaration.region_code]
    return (
        _place(declaration.departement, departement.code, departement.name),
        _place(declaration.region, region.code, region.name),
        _place(declaration.ars, region.ars_code, region.ars_name),
    )


def _threat_context(threat: dict[str, Any] | None, sizes: dict[UUID, int], caller: Caller) -> ThreatContext | None:
    """What enrichment concluded, each campaign with the latest size it was told; for a partner,
    only what its own declaration gives."""
    if not threat:
        return None
    context = ThreatContext.model_validate(threat)
    if caller.kind is CredentialKind.partner:
        own = DeclarantView.model_validate(threat["declarant_view"]) if threat.get("declarant_view") else None
        return context.model_copy(
            update={
                "classification": own.classification if own else Classification(),
                "campaigns": [],
                "parent_incident": None,
                "structure_incidents_12_months": None,
            }
        )

    def latest(link: CampaignLink) -> CampaignLink:
        return link.model_copy(update={"declarations": max(link.declarations, sizes.get(link.id, 0))})

    parent = context.parent_incident
    return context.model_copy(
        update={"campaigns": [latest(c) for c in context.campaigns], "parent_incident": parent and latest(parent)}
    )


def _severity(declaration: Declaration, caller: Caller) -> Severity | None:
    """The severity as decided; for a partner, as its own declaration's facts give it."""
    if caller.kind is not CredentialKind.partner:
        return Severity.model_validate(declaration.severity) if declaration.severity else None
    own = (declaration.threat or {}).get("declarant_view")
    return DeclarantView.model_validate(own).severity if own else None


# How a delivery reads in a partner's timeline: to whom the declaration went, nothing of how.
_TRANSMITTED = {
    RecipientKind.ars: "transmis à l'{name}",
    RecipientKind.cert_sante: "transmis au {name}",
    RecipientKind.ministry: "transmis au {name}",
    RecipientKind.declarant: "accusé de réception envoyé",
}


def _notifications(record: DeclarationRecord, caller: Caller) -> list[NotificationPublic]:
    """Every outcome for CERT Santé; for the others, what was sent, without the errors of the
    agencies' systems (their internal addresses among them)."""
    shown = []
    for n in record.notifications:
        if caller.kind is not CredentialKind.national and n.outcome != Outcome.sent:
            continue
        shown.append(
            NotificationPublic(
                revision=n.revision,
                recipient=Recipient(kind=RecipientKind(n.recipient_kind), code=n.recipient_code, name=n.recipient_name),
                channel=Channel(n.channel),
                outcome=Outcome(n.outcome),
                attempt=n.attempt,
                at=n.at,
                error=n.error if caller.kind is CredentialKind.national else None,
            )
        )
    return shown


def _timeline(record: DeclarationRecord, caller: Caller) -> list[TimelineEventPublic]:
    """The declaration's story; for a partner, its deliveries told as "transmis à l'ARS …", once
    a recipient, with no attempt, channel or error."""
    if caller.kind is not CredentialKind.partner:
        return [
            TimelineEventPublic(at=t.at, revision=t.revision, what=t.what, detail=t.detail) for t in record.timeline
        ]
    names = {
        (n.revision, n.recipient_code): (RecipientKind(n.recipient_kind), n.recipient_name)
        for n in record.notifications
    }
    told: set[tuple[int, str]] = set()
    events = []
    for t in record.timeline:
        if not t.what.startswith("notification "):
            events.append(TimelineEventPublic(at=t.at, revision=t.revision, what=t.what, detail=t.detail))
            continue
        recipient = str(t.detail.get("recipient"))
        if t.what != f"notification {Outcome.sent}" or (t.revision, recipient) in told:
            continue
        told.add((t.revision, recipient))
        kind, name = names.get((t.revision, recipient), (RecipientKind.ars, recipient))
        events.append(
            TimelineEventPublic(
                at=t.at,
                revision=t.revision,
                what="transmitted",
                detail={"recipient": name, "message": _TRANSMITTED[kind].format(name=name)},
            )
        )
    return events


def declaration_view(record: DeclarationRecord, now: datetime, caller: Caller) -> DeclarationPublic:
    """A declaration as ``caller`` may see it (see the README's "who sees what")."""
    declaration = record.declaration
    content = DeclarationContent.model_validate(declaration.content)
    departement, region, ars = _territory(declaration)
    severity = _severity(declaration, caller)
    return DeclarationPublic(
        id=declaration.id,
        reference=declaration.reference,
        status=DeclarationStatus(declaration.status),
        revision=declaration.revision,
        received_at=declaration.received_at,
        updated_at=declaration.updated_at,
        declared_by=declaration.declared_by,
        departement=departement,
        region=region,
        ars=ars,
        severity=severity,
        threat_context=_threat_context(declaration.threat, record.campaign_sizes, caller),
        declaration=content,
        revisions=[
            RevisionPublic(
                revision=r.revision,
                kind=RevisionKind(r.kind),
                based_on=r.based_on,
                submitted_at=r.submitted_at,
                changes=r.changes,
                redactions=Redactions(nir=r.redacted),
            )
            for r in record.revisions
        ],
        deadlines=[
            DeadlinePublic(
                regime=d.regime,
                obligation=d.obligation,
                addressee=d.addressee,
                due_at=d.due_at,
                fulfilled_at=d.fulfilled_at,
                state=d.state(now),
            )
            for d in deadlines(content, severity)
        ],
        notifications=_notifications(record, caller),
        timeline=_timeline(record, caller),
        redactions=Redactions(nir=declaration.redacted),
    )


_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
_EXAMPLE: dict[str, Any] = {
    "structure": {
        "finess": "750712184",
        "name": "Hôpital Saint-Exemple",
        "type": "health_facility",
        "legal_status": "public",
        "regime": "nis2_essential",
    },
    "declarant": {"name": "Claire Martin", "role": "RSSI", "email": "rssi@hopital.example.fr"},
    "detected_at": "2026-11-20T08:30:00+01:00",
    "origin": "malicious",
    "category": "ransomware",
    "description": "Chiffrement des serveurs de fichiers, mode dégradé activé aux urgences.",
    "status": "ongoing",
    "scope": ["servers", "directory"],
    "impacts": {
        "degraded_mode": True,
        "patient_safety": "potential",
        "data_unavailable": True,
        "territorial_extent": "departmental",
    },
    "indicators": [{"type": "ipv4", "value": "203.0.113.45"}],
    "support_requested": True,
    "affected_functions": ["urgences", "imagerie"],
    "affected_systems": ["DPI", "PACS"],
    "complaint": {"filed": False},
}
_INTAKE_ERRORS: dict[int | str, dict[str, Any]] = {
    408: {"description": "The body did not arrive in time", **_PROBLEM},
    413: {"description": "Body too large", **_PROBLEM},
    503: {"description": "The intake is full, or its database unreachable; see Retry-After", **_PROBLEM},
}
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No credential, or an unknown or revoked one", **_PROBLEM},
    429: {"description": "Too many requests with this credential; see Retry-After", **_PROBLEM},
}


def parse_body(
    body: bytes, content_type: str | None, model: type[M], what: str, context: dict[str, Any] | None = None
) -> M:
    """The ``model`` in ``body`` (validated with ``context``), or a ``Problem`` saying exactly what
    is wrong with it."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise Problem(415, f"send the {what} as application/json, not {media_type or 'nothing'}")
    if not body.strip():
        raise Problem(400, f"the body is empty; a {what} is a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Problem(400, f"the body is not valid UTF-8 (byte {error.start})") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise Problem(
            400,
            f"the body is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
        ) from None
    except RecursionError:
        raise Problem(400, "the body is not valid JSON: nested too deeply") from None
    except ValueError as error:
        # Python refuses integers of more than 4,300 digits (a guard against slow conversions).
        raise Problem(400, f"the body is not valid JSON here: {error}") from None
    try:
        return model.model_validate_json(text, context=context)
    except ValidationError as error:
        raise validation_problem(error, f"the {what} is invalid") from None


def _problem(error: Exception) -> Problem:
    if isinstance(error, Denied):
        return Problem(error.status, error.detail)
    if isinstance(error, Conflict):
        return Problem(409, error.detail, **error.extra)
    if isinstance(error, RevisionRefused):
        return Problem(
            422,
            f"the revision is invalid: {error}",
            errors=[{"field": error.field, "message": error.reason, "type": "immutable"}],
        )
    if isinstance(error, InvalidRevision):
        errors = [{**e, "field": f"changes.{e['field']}"} for e in field_errors(error.error.errors())]
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        return Problem(422, f"the revised declaration is invalid ({names})", errors=errors)
    if isinstance(error, InvalidPeriod):
        return Problem(
            422,
            str(error),
            errors=[{"field": error.field, "message": error.reason, "type": "period"}],
        )
    if isinstance(error, InvalidCursor):
        return Problem(422, str(error), errors=[{"field": "cursor", "message": str(error), "type": "cursor"}])
    raise error


class InvalidCursor(ValueError):
    pass


def encode_cursor(declaration: Declaration) -> str:
    raw = json.dumps([declaration.received_at.isoformat(), str(declaration.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, declaration_id = json.loads(raw)
        when, last = datetime.fromisoformat(at), UUID(declaration_id)
    except (ValueError, TypeError) as error:
        raise InvalidCursor("cursor: not a cursor this API gave out") from error
    # A cursor is a declaration's receipt: an instant the database holds, in this century.
    if when.tzinfo is None or not _FIRST_RECEIPT <= when <= _LAST_RECEIPT:
        raise InvalidCursor("cursor: not a cursor this API gave out")
    return when, last


_FIRST_RECEIPT = datetime(2000, 1, 1, tzinfo=UTC)
_LAST_RECEIPT = datetime(2100, 1, 1, tzinfo=UTC)


async def _replaying_a_race(idempotency_key: str | None, write: Callable[[], Awaitable[A]]) -> A:
    """``write()``; once more if a concurrent request with the same Idempotency-Key committed
    first (the key's row refused ours): ours is then a replay of that one."""
    try:
        return await write()
    except Exception as error:
        if idempotency_key is None or not is_unique_violation(error):
            raise
    return await write()


def _answer(response: Response, accepted: Accepted) -> DeclarationAccepted:
    declaration = accepted.declaration
    response.headers["Location"] = f"/v1/declarations/{declaration.id}"
    # Ops find a declaration's trace by its id or its reference (see the README).
    trace.get_current_span().set_attributes(
        {DECLARATION_ID: str(declaration.id), DECLARATION_REFERENCE: declaration.reference}
    )
    if accepted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
        return DeclarationAccepted.model_validate(accepted.response)
    log.info(
        "accepted revision %d of %s",
        accepted.revision,
        declaration.reference,
        extra={"declaration_id": declaration.id, "reference": declaration.reference},
    )
    return DeclarationAccepted(
        id=declaration.id,
        reference=declaration.reference,
        revision=accepted.revision,
        status=DeclarationStatus(declaration.status),
        received_at=declaration.received_at,
        redactions=Redactions(nir=accepted.redacted),
        acknowledgement=AcknowledgementPublic(to=accepted.acknowledgement.to, reason=accepted.acknowledgement.reason)
        if accepted.acknowledgement
        else None,
    )


@router.post(
    "",
    status_code=202,
    response_model=DeclarationAccepted,
    summary="Declare an incident",
    description=(
        "Accepts a declaration (partner payload v1) for a structure the credential may declare "
        "for. Once answered `202`, the declaration is committed and will reach the regional "
        "health agency and CERT Santé. Social security numbers in free text are masked before "
        "anything is stored; `redactions.nir` says how many."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/DeclarationContent"},
                    "example": _EXAMPLE,
                }
            },
        }
    },
    responses={
        400: {"description": "Malformed body (not UTF-8, not JSON) or Idempotency-Key", **_PROBLEM},
        403: {"description": "This credential may not declare for this structure", **_PROBLEM},
        409: {"description": "Idempotency-Key already used with another body", **_PROBLEM},
        415: {"description": "Not application/json", **_PROBLEM},
        422: {"description": "Invalid declaration, each bad field named", **_PROBLEM},
        **_INTAKE_ERRORS,
        **_AUTH_ERRORS,
    },
)
async def declare(
    request: Request,
    response: Response,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
) -> DeclarationAccepted:
    # Read whole, within its size limit, by the admission in front of the routes (admission.py).
    body = await request.body()
    content = parse_body(body, request.headers.get("content-type"), DeclarationContent, "declaration", ADMITTING)
    try:
        submission = prepare_submission(caller, content, idempotency_key)
    except Denied as error:
        raise _problem(error) from None
    # Written with the declarations arriving meanwhile, in one transaction for all.
    intake: Intake = request.app.state.intake
    answer = await _replaying_a_race(idempotency_key, lambda: intake.submit(submission))
    if isinstance(answer, Conflict):
        raise _problem(answer)
    return _answer(response, answer)


@router.post(
    "/{declaration_id}/revisions",
    status_code=202,
    response_model=DeclarationAccepted,
    summary="Revise a declaration (early warning, notification, final report, update)",
    description=(
        "Records a new revision: `kind`, the revision the changes were written against "
        "(`based_on`), and the fields that changed. Objects are merged field by field, lists are "
        "replaced. A revision based on anything but the current one is refused with `409`."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RevisionCreate"}}},
        }
    },
    responses={
        400: {"description": "Malformed body", **_PROBLEM},
        403: {
            "description": "Not a partner credential, or the structure is outside it",
            **_PROBLEM,
        },
        404: {"description": "No such declaration among this partner's", **_PROBLEM},
        409: {
            "description": "Stale revision, or Idempotency-Key reused with another body",
            **_PROBLEM,
        },
        422: {"description": "Invalid revision, each bad field named", **_PROBLEM},
        **_INTAKE_ERRORS,
        **_AUTH_ERRORS,
    },
)
async def revise(
    declaration_id: UUID,
    request: Request,
    response: Response,
    caller: CallerDep,
    sessions: SessionsDep,
    idempotency_key: IdempotencyKeyDep,
) -> DeclarationAccepted:
    body = await request.body()
    revision = parse_body(body, request.headers.get("content-type"), RevisionCreate, "revision")

    async def write() -> Accepted:
        async with unit_of_work(sessions) as session:
            return await revise_declaration(session, caller, declaration_id, revision, idempotency_key=idempotency_key)

    try:
        accepted = await _replaying_a_race(idempotency_key, write)
    except (Denied, Conflict, RevisionRefused, InvalidRevision) as error:
        raise _problem(error) from None
    return _answer(response, accepted)


@router.get(
    "/{declaration_id}",
    response_model=DeclarationPublic,
    summary="Read a declaration and where it stands",
    description=(
        "The declaration, its revisions, region, deadlines (met, late, pending, overdue or due now), "
        "notifications and timeline. Every read is recorded in the audit trail."
    ),
    responses={
        403: {"description": "Outside this ARS's region", **_PROBLEM},
        404: {"description": "No such declaration (or none this partner declared)", **_PROBLEM},
        **_AUTH_ERRORS,
    },
)
async def read(declaration_id: UUID, caller: CallerDep, sessions: SessionsDep) -> DeclarationPublic:
    try:
        async with unit_of_work(sessions) as session:
            record = await read_declaration(session, caller, declaration_id)
    except Denied as error:
        async with unit_of_work(sessions) as session:
            await record_denial(session, caller, "read", error, declaration_id)
        raise _problem(error) from None
    return declaration_view(record, datetime.now(UTC), caller)


@router.get(
    "",
    response_model=DeclarationPage,
    summary="List declarations in your scope",
    description=(
        "Newest first, in a stable order; follow `next_cursor` for the next page. An ARS sees its "
        "region, CERT Santé everything, a partner what it declared."
    ),
    responses={
        403: {"description": "A region outside this ARS's", **_PROBLEM},
        422: {"description": "Invalid filter or cursor", **_PROBLEM},
        **_AUTH_ERRORS,
    },
)
async def list_(
    caller: CallerDep,
    sessions: SessionsDep,
    region: Annotated[str | None, Query(description="INSEE region code", examples=["11"])] = None,
    start: Annotated[date | None, Query(alias="from", description="received on or after this day")] = None,
    end: Annotated[date | None, Query(alias="to", description="received on or before this day")] = None,
    category: Category | None = None,
    status: DeclarationStatus | None = None,
    finess: Annotated[str | None, Query(description="the structure's FINESS number")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeclarationPage:
    if region is not None and region not in REGIONS:
        raise Problem(422, f"region: no region {region}; INSEE codes are {', '.join(REGIONS)}")
    if finess is not None:
        try:
            # A search among what was accepted: numbers accepted under an earlier rule are found too.
            finess = parse_finess(finess, admitting=False).number
        except InvalidFiness as error:
            raise Problem(
                422, f"finess: {error}", errors=[{"field": "finess", "message": str(error), "type": "finess"}]
            ) from None
    filters = ListFilters(region=region, start=start, end=end, category=category, status=status, finess=finess)
    try:
        async with unit_of_work(sessions) as session:
            after = decode_cursor(cursor) if cursor is not None else None
            page, more = await list_declarations(session, caller, filters, after=after, limit=limit)
            next_cursor = encode_cursor(page[-1]) if more and page else None
    except Denied as error:
        async with unit_of_work(sessions) as session:
            await record_denial(session, caller, "list", error, region=region)
        raise _problem(error) from None
    except (InvalidCursor, InvalidPeriod) as error:
        raise _problem(error) from None
    return DeclarationPage(
        items=[
            DeclarationSummary(
                id=d.id,
                reference=d.reference,
                status=DeclarationStatus(d.status),
                revision=d.revision,
                received_at=d.received_at,
                finess=d.finess,
                structure_name=d.content["structure"]["name"],
                category=Category(d.category),
                region=_territory(d)[1],
            )
            for d in page
        ],
        next_cursor=next_cursor,
    )


@router.get(
    "/{declaration_id}/audit",
    response_model=list[AuditEntryPublic],
    summary="Who created, revised and read a declaration, and when (CERT Santé)",
    responses={
        403: {"description": "Not a national credential", **_PROBLEM},
        404: {"description": "No such declaration", **_PROBLEM},
        **_AUTH_ERRORS,
    },
)
async def audit(declaration_id: UUID, caller: CallerDep, sessions: SessionsDep) -> list[AuditEntryPublic]:
    try:
        async with unit_of_work(sessions) as session:
            entries: list[AuditEntry] = await audit_trail(session, caller, declaration_id)
    except Denied as error:
        async with unit_of_work(sessions) as session:
            await record_denial(session, caller, "audit", error, declaration_id)
        raise _problem(error) from None
    return [
        AuditEntryPublic(
            at=e.at,
            principal=e.principal,
            credential_id=e.credential_id,
            action=e.action,
            revision=e.revision,
            detail=e.detail,
        )
        for e in entries
    ]
